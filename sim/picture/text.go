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

// Text writes the run: for the XDP frame, the frame before the program ran, each pointer move
// (and for a dispatcher the frame after each slot), the frame after (areas the program wrote to
// marked *) and which bytes it wrote; then the same for the sk_buff tc programs got.
func (r *Run) Text(w io.Writer, opts TextOptions) error {
	var b strings.Builder
	if r.Title != "" {
		b.WriteString(r.Title)
		b.WriteString(r.verdicts())
		b.WriteString("\n\n")
	}
	if r.XDP != nil {
		r.XDP.text(&b, opts, r.XDP.who())
	}
	if st := r.Skb; st != nil {
		if r.XDP != nil {
			b.WriteString("\n")
		}
		st.skbText(&b, opts, st.Before.Skb != nil && st.Before.Skb.FromXDP)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// verdicts says how the run's stages ended, for its title line.
func (r *Run) verdicts() string {
	var parts []string
	if st := r.XDP; st != nil && st.Done {
		parts = append(parts, ": "+st.Outcome.Verdict())
	}
	if st := r.Skb; st != nil && st.Done {
		what := st.Outcome.Verdict()
		if st.Outcome.Action != "" && st.Outcome.Err == "" && st.Outcome.Dropped == "" {
			what += ", " + st.Outcome.Action
		}
		if r.XDP != nil {
			parts = append(parts, fmt.Sprintf(", then at tc ingress (%s): %s", st.Who, what))
		} else {
			parts = append(parts, ": "+what)
		}
	}
	return strings.Join(parts, "")
}

// who names the XDP stage's program as the text speaks of it: "the program", "the dispatcher".
func (st *Stage) who() string {
	if st.Who == DispatcherWho {
		return "the dispatcher"
	}
	return "the program"
}

// DispatcherWho is the Who of a dispatcher's stage.
const DispatcherWho = "libxdp's dispatcher"

// text writes an XDP stage.
func (st *Stage) text(b *strings.Builder, opts TextOptions, who string) {
	fmt.Fprintf(b, "before %s ran:\n", who)
	st.Before.draw(b, nil, opts)
	b.WriteString("\n")
	st.writeSteps(b, opts)
	st.end(b, opts, who)
}

// end writes how the stage ended and the packet after it.
func (st *Stage) end(b *strings.Builder, opts TextOptions, who string) {
	if !st.Done {
		return
	}
	fmt.Fprintf(b, "\nafter %s ran: %s\n", who, st.Outcome.Verdict())
	if st.After.Skb != nil {
		b.WriteString(st.After.FieldsLine() + "\n")
	}
	wrote := Writes(st.Before, st.After)
	if len(wrote) == 0 && len(st.shownSteps()) == 0 && samePointers(st.Before, st.After) {
		if st.After.Skb != nil {
			b.WriteString("the sk_buff's data is as it was before: no pointer moved, no byte changed\n")
		} else {
			b.WriteString("the frame is as it was before: no pointer moved, no byte changed\n")
		}
		return
	}
	st.After.draw(b, wrote, opts)
	b.WriteString(describeWrites(wrote, st.After.Skb != nil))
}

// skbText writes the skb's stage: how the kernel built the skb and what the tc programs did to it.
func (st *Stage) skbText(b *strings.Builder, opts TextOptions, fromXDP bool) {
	who := st.Who
	if who == "" {
		who = "the tc program"
	}
	switch {
	case fromXDP && st.Outcome.Dropped != "":
		fmt.Fprintf(b, "the sk_buff the stack builds from the frame never reaches tc ingress: %s\n", st.Outcome.Dropped)
		st.Before.draw(b, nil, opts)
		b.WriteString(st.Before.FieldsLine() + "\n")
		return
	case fromXDP:
		fmt.Fprintf(b, "the sk_buff the stack builds from the frame, as %s gets it at tc ingress:\n", first(who))
	default:
		fmt.Fprintf(b, "the sk_buff BPF_PROG_TEST_RUN builds, as %s gets it:\n", first(who))
	}
	st.Before.draw(b, nil, opts)
	b.WriteString(st.Before.FieldsLine() + "\n\n")
	st.writeSteps(b, opts)
	st.end(b, opts, who)
}

// first is the first of a list of names.
func first(names string) string {
	f, _, _ := strings.Cut(names, ", ")
	return f
}

// NowText writes the frame as it stands mid-run (cur, the debugger's view), with the steps so far
// of the stage cur belongs to.
func (r *Run) NowText(w io.Writer, cur Snapshot, opts TextOptions) error {
	var b strings.Builder
	st := r.XDP
	if cur.Skb != nil {
		st = r.Skb
	}
	if st == nil {
		return fmt.Errorf("no %s has been recorded", map[bool]string{true: "sk_buff", false: "frame"}[cur.Skb != nil])
	}
	st.writeSteps(&b, opts)
	b.WriteString("the frame now:\n")
	if cur.Skb != nil {
		b.Reset()
		st.writeSteps(&b, opts)
		b.WriteString("the sk_buff now:\n")
	}
	wrote := Writes(st.Before, cur)
	cur.draw(&b, wrote, opts)
	if cur.Skb != nil {
		b.WriteString(cur.FieldsLine() + "\n")
	}
	b.WriteString(describeWrites(wrote, cur.Skb != nil))
	_, err := io.WriteString(w, b.String())
	return err
}

// shownSteps are the steps a picture lists: the end of a tc chain's program only when the chain
// has several (one program's end is the stage's end).
func (st *Stage) shownSteps() []Step {
	n := 0
	for _, s := range st.Steps {
		if s.Ended != nil && s.Ended.Slot < 0 {
			n++
		}
	}
	if n > 1 {
		return st.Steps
	}
	var out []Step
	for _, s := range st.Steps {
		if s.Ended == nil || s.Ended.Slot >= 0 {
			out = append(out, s)
		}
	}
	return out
}

func (st *Stage) writeSteps(b *strings.Builder, opts TextOptions) {
	steps := st.shownSteps()
	if len(steps) == 0 {
		b.WriteString("no helper moved a pointer\n")
		return
	}
	prev, drawn := st.Before, st.Before
	for i, s := range steps {
		fmt.Fprintf(b, "step %d: %s\n", i+1, s.Describe(prev))
		if s.Ended == nil {
			fmt.Fprintf(b, "        at instruction %d", s.pc())
			if name := s.program(); name != "" {
				fmt.Fprintf(b, " of %s", name)
			}
			if s.Line != "" {
				fmt.Fprintf(b, " (%s)", s.Line)
			}
			b.WriteString("\n")
		} else if i < len(steps)-1 || !st.Done {
			// The frame after each slot (or chain program) but the last, whose frame is the one
			// after the run.
			if w := Writes(drawn, s.Frame); len(w) == 0 && samePointers(drawn, s.Frame) {
				b.WriteString("        the frame is as the step before left it\n")
			} else {
				b.WriteString("        the frame after it:\n")
				s.Frame.draw(b, Writes(st.Before, s.Frame), opts)
				drawn = s.Frame
			}
		}
		prev = s.Frame
	}
	if st.Omitted > 0 {
		fmt.Fprintf(b, "... and %d more moves not kept\n", st.Omitted)
	}
}

// samePointers says two snapshots have every pointer in the same place.
func samePointers(a, b Snapshot) bool {
	pa, pb := a.Pointers(), b.Pointers()
	if len(pa) != len(pb) || fragLen(a) != fragLen(b) {
		return false
	}
	for i := range pa {
		if pa[i] != pb[i] {
			return false
		}
	}
	return true
}

// pc and program are where a helper step's call is.
func (s Step) pc() int {
	if s.SkbMove != nil {
		return s.SkbMove.PC
	}
	return s.Move.PC
}

func (s Step) program() string {
	switch {
	case s.SkbMove != nil && s.SkbMove.Program != nil:
		return s.SkbMove.Program.Name()
	case s.SkbMove == nil && s.Move.Program != nil:
		return s.Move.Program.Name()
	}
	return ""
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
		// A pointer inside the area (a header offset the helpers left there) gets a line of its own.
		for off := a.Start + 1; off < a.End; off++ {
			if names := ptrs[off]; len(names) > 0 {
				b.WriteString(fmt.Sprintf("%6d │%s│ <- %s\n", off, strings.Repeat("·", boxWidth), strings.Join(names, ", ")))
				delete(ptrs, off)
			}
		}
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
		if s.Skb != nil {
			return fmt.Sprintf("data_end (data+%d), the tail", s.DataEnd-s.Data)
		}
		return fmt.Sprintf("data_end (data+%d)", s.DataEnd-s.Data)
	case "frame end":
		return "frame end (data_hard_end)"
	case "head":
		return "head (skb->head)"
	case "end":
		return "end (skb->end)"
	case "head end":
		return "end of skb_shared_info"
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
// that became packet) count only if their value changed. For an skb, only the bytes a program can
// reach count (metadata, packet, paged data), compared where the kernel moved them when it made a
// new head.
func Writes(before, after Snapshot) []Write {
	var out []Write
	shift := after.moved() - before.moved()
	for _, a := range after.Areas() {
		if after.Skb != nil && a.Kind != KindMeta && a.Kind != KindLayer && a.Kind != KindFrag {
			continue
		}
		old, cur, sh := before.Page, after.Page, shift
		if a.Frag > 0 {
			cur, old, sh = after.Frags[a.Frag-1], nil, 0
			if a.Frag <= len(before.Frags) {
				old = before.Frags[a.Frag-1]
			}
		}
		start := -1
		for off := a.Start; off <= a.End; off++ {
			// A byte the packet did not reach before reads as zero, as the test run's pages and
			// heads are.
			var was byte
			if o := off - sh; o >= 0 && o < len(old) {
				was = old[o]
			}
			diff := off < a.End && was != cur[off]
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

func describeWrites(ws []Write, skb bool) string {
	if len(ws) == 0 && skb {
		return "the tc programs changed no byte of the packet\n"
	}
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
