package picture

import (
	"fmt"
	"io"
	"strings"
)

// TextOptions change the text picture.
type TextOptions struct {
	// Hex adds a hex dump of the metadata and the packet's layers under each picture.
	Hex bool
}

const boxWidth = 30

// Text writes the run: the frame before the program ran, each pointer move, the frame after (areas
// the program wrote to marked *), and which bytes it wrote.
func (r *Run) Text(w io.Writer, opts TextOptions) error {
	var b strings.Builder
	if r.Title != "" {
		b.WriteString(r.Title)
		if r.Done {
			b.WriteString(": " + r.Outcome.Verdict())
		}
		b.WriteString("\n\n")
	}
	b.WriteString("before the program ran:\n")
	r.Before.draw(&b, nil, opts)
	b.WriteString("\n")
	r.writeSteps(&b)
	if r.Done {
		fmt.Fprintf(&b, "\nafter the program ran: %s\n", r.Outcome.Verdict())
		wrote := Writes(r.Before, r.After)
		if len(wrote) == 0 && len(r.Steps) == 0 {
			b.WriteString("the frame is as it was before: no pointer moved, no byte changed\n")
		} else {
			r.After.draw(&b, wrote, opts)
			b.WriteString(describeWrites(wrote))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// NowText writes the frame as it stands mid-run (cur, the debugger's view), with the steps so far.
func (r *Run) NowText(w io.Writer, cur Snapshot, opts TextOptions) error {
	var b strings.Builder
	r.writeSteps(&b)
	b.WriteString("the frame now:\n")
	wrote := Writes(r.Before, cur)
	cur.draw(&b, wrote, opts)
	b.WriteString(describeWrites(wrote))
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Run) writeSteps(b *strings.Builder) {
	if len(r.Steps) == 0 {
		b.WriteString("no helper moved a pointer\n")
		return
	}
	prev := r.Before
	for i, st := range r.Steps {
		fmt.Fprintf(b, "step %d: %s\n", i+1, st.Describe(prev))
		fmt.Fprintf(b, "        at instruction %d", st.Move.PC)
		if st.Move.Program != nil {
			fmt.Fprintf(b, " of %s", st.Move.Program.Name())
		}
		if st.Line != "" {
			fmt.Fprintf(b, " (%s)", st.Line)
		}
		b.WriteString("\n")
		prev = st.Frame
	}
	if r.Omitted > 0 {
		fmt.Fprintf(b, "... and %d more moves not kept\n", r.Omitted)
	}
}

// Text writes one picture of the frame.
func (s Snapshot) Text(w io.Writer, opts TextOptions) error {
	var b strings.Builder
	s.draw(&b, nil, opts)
	_, err := io.WriteString(w, b.String())
	return err
}

// draw writes the page as a column of boxes with the offsets on the left and the pointers on the
// right; areas with written bytes get a * (wrote may be nil).
func (s Snapshot) draw(b *strings.Builder, wrote []Write, opts TextOptions) {
	areas := s.Areas()
	ptrs := map[int][]string{}
	for _, p := range s.Pointers() {
		ptrs[p.Off] = append(ptrs[p.Off], s.pointerLabel(p))
	}
	edge := func(off int, left, fill, right string) {
		line := fmt.Sprintf("%6d %s%s%s", off, left, strings.Repeat(fill, boxWidth), right)
		if names := ptrs[off]; len(names) > 0 {
			line += " <- " + strings.Join(names, ", ")
			delete(ptrs, off)
		}
		b.WriteString(line + "\n")
	}
	page := 0
	for i, a := range areas {
		if a.Frag > 0 {
			continue
		}
		page = i
		switch {
		case i == 0:
			edge(a.Start, "┌", "─", "┐")
		case a.Kind == KindLayer && areas[i-1].Kind == KindLayer:
			edge(a.Start, "├", "╌", "┤")
		default:
			edge(a.Start, "├", "─", "┤")
		}
		mark := " "
		if wroteIn(wrote, a) {
			mark = "*"
		}
		size := fmt.Sprintf("%d B", a.Len())
		name := a.Name
		if room := boxWidth - 3 - len(size); len(name) > room {
			name = name[:room]
		}
		fmt.Fprintf(b, "       │ %-*s%s │%s %s\n", boxWidth-2-len(size), name, size, mark, a.Detail)
	}
	edge(areas[page].End, "└", "─", "┘")
	for _, a := range areas {
		if a.Frag == 0 {
			continue
		}
		mark := " "
		if wroteIn(wrote, a) {
			mark = "*"
		}
		fmt.Fprintf(b, "  %s %s, %d B: %s\n", mark, a.Name, a.Len(), a.Detail)
	}
	if opts.Hex {
		for _, a := range areas {
			if a.Kind == KindMeta || a.Kind == KindLayer {
				fmt.Fprintf(b, "  %s:\n", a.Name)
				hexLines(b, s.Page[a.Start:a.End], a.Start)
			}
		}
	}
}

// pointerLabel names a pointer with where it stands against data, as a program computes it.
func (s Snapshot) pointerLabel(p Pointer) string {
	switch p.Name {
	case "data_meta":
		if s.DataMeta < s.Data {
			return fmt.Sprintf("data_meta (data-%d)", s.Data-s.DataMeta)
		}
	case "data_end":
		return fmt.Sprintf("data_end (data+%d)", s.DataEnd-s.Data)
	case "frame end":
		return "frame end (data_hard_end)"
	}
	return p.Name
}

func hexLines(b *strings.Builder, data []byte, base int) {
	for i := 0; i < len(data); i += 16 {
		row := data[i:min(i+16, len(data))]
		fmt.Fprintf(b, "    %04d  % x\n", base+i, row)
	}
}

// Write is a run of bytes the program changed, inside one area of the frame after the run.
type Write struct {
	Area Area
	// Start and End are offsets in the page (or in the fragment for a fragment's area).
	Start, End int
}

// Writes lists the bytes that differ between two pictures of the frame, grouped by the areas of
// after. Bytes that a moved pointer merely exposes (headroom that became packet, zeroed tailroom
// that became packet) count only if their value changed.
func Writes(before, after Snapshot) []Write {
	var out []Write
	for _, a := range after.Areas() {
		old, cur := before.Page, after.Page
		if a.Frag > 0 {
			cur = after.Frags[a.Frag-1]
			old = nil
			if a.Frag <= len(before.Frags) {
				old = before.Frags[a.Frag-1]
			}
		}
		start := -1
		for off := a.Start; off <= a.End; off++ {
			diff := off < a.End && (off >= len(old) || old[off] != cur[off])
			switch {
			case diff && start < 0:
				start = off
			case !diff && start >= 0:
				out = append(out, Write{Area: a, Start: start, End: off})
				start = -1
			}
		}
	}
	return out
}

func wroteIn(ws []Write, a Area) bool {
	for _, w := range ws {
		if w.Area.Frag == a.Frag && w.Area.Start == a.Start {
			return true
		}
	}
	return false
}

func describeWrites(ws []Write) string {
	if len(ws) == 0 {
		return "the program changed no byte of the frame\n"
	}
	var b strings.Builder
	b.WriteString("bytes the program changed (* above), counted from the start of each area:\n")
	for i := 0; i < len(ws); {
		a := ws[i].Area
		n := 0
		var spans []string
		for ; i < len(ws) && ws[i].Area == a; i++ {
			w := ws[i]
			n += w.End - w.Start
			if w.End-w.Start == 1 {
				spans = append(spans, fmt.Sprint(w.Start-a.Start))
			} else {
				spans = append(spans, fmt.Sprintf("%d-%d", w.Start-a.Start, w.End-1-a.Start))
			}
		}
		where := fmt.Sprintf("page offset %d", a.Start)
		if a.Frag > 0 {
			where = fmt.Sprintf("fragment %d", a.Frag)
		}
		fmt.Fprintf(&b, "  %-14s %3d byte%s: %s (%s)\n", a.Name, n, plural(n), strings.Join(spans, ", "), where)
	}
	return b.String()
}
