package picture

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"
)

// Colours of the areas, by kind and, for protocol layers, by layer name. The HTML tests look for
// them in a browser's screenshot.
var (
	kindColour = map[Kind]string{
		KindXDPFrame: "#9e9e9e", KindTraits: "#ce93d8", KindHeadroom: "#f1f1f1", KindMeta: "#ffb74d",
		KindTailroom: "#fbfbfb", KindSharedInfo: "#b0bec5", KindFrag: "#cfd8dc",
	}
	layerColour = map[string]string{
		"Ethernet": "#64b5f6", "802.1Q tag": "#9575cd", "IPv4": "#81c784", "IPv6": "#4db6ac", "TCP": "#fff176",
		"UDP": "#ffd54f", "ICMPv4": "#f06292", "ICMPv6": "#f48fb1", "ARP": "#a1887f", "payload": "#e0e0e0",
		"undecoded": "#ef9a9a",
	}
)

// Colour is the fill an area gets in the HTML picture.
func Colour(a Area) string {
	if a.Kind != KindLayer {
		return kindColour[a.Kind]
	}
	if c, ok := layerColour[a.Name]; ok {
		return c
	}
	if strings.HasPrefix(a.Name, "IPv6") {
		return "#80cbc4" // extension headers
	}
	if strings.HasPrefix(a.Name, "ICMPv6") {
		return "#f8bbd0"
	}
	return "#bdbdbd"
}

// maxColumns is the number of pictures side by side: before, up to maxColumns-2 steps, after.
const maxColumns = 8

type column struct {
	title string
	snap  Snapshot
	wrote []Write
}

// HTML writes the run as a self-contained page: for each stage (the XDP frame, the sk_buff), the
// packet before, after each step and after the run side by side as SVG drawings on one vertical
// scale, the steps, the bytes written, and a hex dump of the metadata and packet before and after.
func (r *Run) HTML(w io.Writer) error {
	var b strings.Builder
	title := r.Title
	if title == "" {
		title = "XDP frame"
	}
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>
body{font-family:sans-serif;margin:16px;color:#212121;background:#fff}
h1{font-size:18px;margin:0 0 4px} h2{font-size:16px;margin:22px 0 6px} h3{font-size:14px;margin:14px 0 6px}
.verdict{font-weight:bold} svg text{font-family:monospace;font-size:11px}
.legend span{display:inline-block;padding:1px 6px;margin:2px;border:1px solid #555;font-size:12px}
table.hex{border-collapse:collapse;font-family:monospace;font-size:12px}
table.hex td{padding:0 3px;border:1px solid #fff} table.hex td.off{color:#757575;padding-right:8px}
td.w{outline:2px solid #d32f2f} ol li{margin:3px 0} code{background:#f5f5f5}
</style></head><body>
`, esc(title))
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(title))
	if v := strings.TrimPrefix(r.verdicts(), ": "); v != "" {
		fmt.Fprintf(&b, "<p>The program returned <span class=\"verdict\">%s</span>.</p>\n", esc(v))
	}
	r.legend(&b)
	if st := r.XDP; st != nil {
		if r.Skb != nil {
			fmt.Fprintf(&b, "<h2>The XDP frame: %s</h2>\n", esc(st.Who))
		}
		b.WriteString(`<p>The 4,096-byte page the program works in, as <code>BPF_PROG_TEST_RUN</code> lays it out. Offsets count from
<code>data_hard_start</code>; heights are not to scale (small areas are drawn larger). Areas with a red border hold bytes the
program changed.</p>
`)
		st.html(&b, st.who())
	}
	if st := r.Skb; st != nil {
		who := st.Who
		if who == "" {
			who = "the tc program"
		}
		if st.Before.Skb != nil && st.Before.Skb.FromXDP {
			fmt.Fprintf(&b, "<h2>The sk_buff at tc ingress: %s</h2>\n", esc(who))
			b.WriteString(`<p>The stack builds the skb on the frame's page: its head is the page's start (<code>data_hard_start</code>),
the XDP metadata stays in front of the MAC header (<code>data_meta</code>), and <code>skb->end</code> is the frame end.</p>
`)
		} else {
			b.WriteString(`<p>The sk_buff <code>BPF_PROG_TEST_RUN</code> builds: a head of a kmalloc size with 64 bytes of headroom, the packet,
tailroom up to <code>skb->end</code> and <code>struct skb_shared_info</code> behind it. Offsets count from <code>skb->head</code>; heights
are not to scale. Areas with a red border hold bytes the programs changed.</p>
`)
		}
		if st.Done && st.Outcome.Dropped != "" {
			fmt.Fprintf(&b, "<p>The stack drops it before tc: %s.</p>\n", esc(st.Outcome.Dropped))
		}
		fmt.Fprintf(&b, "<p><code>%s</code></p>\n", esc(st.Before.FieldsLine()))
		st.html(&b, who)
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// html writes a stage: the pictures side by side, the steps, the bytes changed, the hex dumps.
func (st *Stage) html(b *strings.Builder, who string) {
	cols := []column{{title: "before " + who, snap: st.Before}}
	steps := st.shownSteps()
	for i, s := range steps {
		if len(cols) == maxColumns-1 {
			break
		}
		title := fmt.Sprintf("after step %d", i+1)
		if e := s.Ended; e != nil && e.Slot >= 0 {
			title = fmt.Sprintf("after slot %d (%s)", e.Slot, e.Program)
		} else if e != nil {
			title = "after " + e.Program
		}
		cols = append(cols, column{title: title, snap: s.Frame, wrote: Writes(st.Before, s.Frame)})
	}
	if st.Done {
		cols = append(cols, column{title: "after " + who, snap: st.After, wrote: Writes(st.Before, st.After)})
	}
	writeColumns(b, cols)
	b.WriteString("<h3>Steps</h3>\n")
	if len(steps) == 0 {
		b.WriteString("<p>No helper moved a pointer.</p>\n")
	} else {
		b.WriteString("<ol>\n")
		prev := st.Before
		for _, s := range steps {
			fmt.Fprintf(b, "<li><code>%s</code>", esc(s.Describe(prev)))
			if s.Ended == nil {
				fmt.Fprintf(b, "<br>at instruction %d", s.pc())
				if s.Line != "" {
					fmt.Fprintf(b, ": <code>%s</code>", esc(s.Line))
				}
			}
			b.WriteString("</li>\n")
			prev = s.Frame
		}
		b.WriteString("</ol>\n")
		if st.Omitted > 0 {
			fmt.Fprintf(b, "<p>%d more moves were not kept.</p>\n", st.Omitted)
		}
	}
	if st.Done {
		b.WriteString("<h3>Bytes changed</h3>\n<pre>" + esc(describeWrites(Writes(st.Before, st.After), st.After.Skb != nil)) + "</pre>\n")
	}
	hexTable(b, "Metadata and packet before", st.Before, nil)
	if st.Done {
		hexTable(b, "Metadata and packet after", st.After, Writes(st.Before, st.After))
	}
}

func esc(s string) string { return html.EscapeString(s) }

func (r *Run) legend(b *strings.Builder) {
	seen := map[string]bool{}
	b.WriteString(`<div class="legend">`)
	var snaps []Snapshot
	for _, st := range r.Stages() {
		snaps = append(snaps, st.Before)
		if st.Done {
			snaps = append(snaps, st.After)
		}
	}
	for _, s := range snaps {
		for _, a := range s.Areas() {
			if seen[a.Name] || a.Kind == KindFrag && seen["fragment"] {
				continue
			}
			name := a.Name
			if a.Kind == KindFrag {
				name = "fragment"
			}
			seen[name] = true
			fmt.Fprintf(b, `<span style="background:%s">%s</span>`, Colour(a), esc(name))
		}
	}
	b.WriteString("</div>\n")
}

// writeColumns draws the pictures side by side on one vertical scale: every offset where an
// area or a pointer starts in any picture is a boundary, and each span between two boundaries gets
// a height that grows with the square root of its size.
func writeColumns(b *strings.Builder, cols []column) {
	bounds := map[int]bool{}
	maxFrags := 0
	for _, c := range cols {
		for _, a := range c.snap.Areas() {
			if a.Frag == 0 {
				bounds[a.Start], bounds[a.End] = true, true
			}
		}
		for _, p := range c.snap.Pointers() {
			bounds[p.Off] = true
		}
		maxFrags = max(maxFrags, len(c.snap.Frags))
	}
	offs := make([]int, 0, len(bounds))
	for o := range bounds {
		offs = append(offs, o)
	}
	sort.Ints(offs)
	const top = 30
	y := map[int]float64{}
	at := float64(top)
	for i, o := range offs {
		if i > 0 {
			at += 14 + 3.4*math.Sqrt(float64(o-offs[i-1]))
		}
		y[o] = at
	}
	height := at + 20 + float64(maxFrags)*34
	const colW, boxX, boxW = 400, 52, 150
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" role="img" aria-label="%s">`+"\n", colW*len(cols)+80, height, ariaLabel(cols))
	for i, c := range cols {
		x0 := float64(i * colW)
		fmt.Fprintf(b, `<g id="col%d"><text x="%.0f" y="16" style="font-weight:bold;font-size:13px">%s</text>`+"\n", i, x0+boxX, esc(c.title))
		areas := c.snap.Areas()
		for _, a := range areas {
			if a.Frag > 0 {
				continue
			}
			y0, y1 := y[a.Start], y[a.End]
			stroke, sw := "#424242", 1.0
			if wroteIn(c.wrote, a) {
				stroke, sw = "#d32f2f", 3
			}
			fmt.Fprintf(b, `<rect x="%.0f" y="%.1f" width="%d" height="%.1f" fill="%s" stroke="%s" stroke-width="%.0f"><title>%s</title></rect>`+"\n",
				x0+boxX, y0, boxW, y1-y0, Colour(a), stroke, sw, esc(fmt.Sprintf("%s: %d bytes at %d-%d. %s", a.Name, a.Len(), a.Start, a.End-1, a.Detail)))
			if y1-y0 >= 13 {
				fmt.Fprintf(b, `<text x="%.0f" y="%.1f">%s %d B</text>`+"\n", x0+boxX+4, (y0+y1)/2+4, esc(shorten(a.Name, 14)), a.Len())
			}
		}
		// Offsets on the left of every boundary this picture has.
		seen := map[int]bool{}
		for _, a := range areas {
			for _, o := range []int{a.Start, a.End} {
				if a.Frag == 0 && !seen[o] {
					seen[o] = true
					fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end" fill="#616161">%d</text>`+"\n", x0+boxX-4, y[o]+4, o)
				}
			}
		}
		// Pointers on the right, several at one offset on one line.
		at := map[int][]string{}
		var order []int
		for _, p := range c.snap.Pointers() {
			if at[p.Off] == nil {
				order = append(order, p.Off)
			}
			at[p.Off] = append(at[p.Off], c.snap.pointerLabel(p))
		}
		for _, o := range order {
			yy := y[o]
			fmt.Fprintf(b, `<path d="M%.0f %.1f l8 -5 v10 z" fill="#1565c0"/>`+"\n", x0+boxX+boxW+2, yy)
			for k, label := range at[o] {
				fmt.Fprintf(b, `<text x="%.0f" y="%.1f" fill="#0d47a1">%s</text>`+"\n", x0+boxX+boxW+12, yy+4+float64(k)*12, esc(label))
			}
		}
		fy := y[offs[len(offs)-1]] + 16
		for _, a := range areas {
			if a.Frag == 0 {
				continue
			}
			stroke := "#424242"
			if wroteIn(c.wrote, a) {
				stroke = "#d32f2f"
			}
			fmt.Fprintf(b, `<rect x="%.0f" y="%.1f" width="%d" height="26" fill="%s" stroke="%s"><title>%s</title></rect>`+"\n",
				x0+boxX, fy, boxW, Colour(a), stroke, esc(a.Detail))
			fmt.Fprintf(b, `<text x="%.0f" y="%.1f">%s: %d B</text>`+"\n", x0+boxX+4, fy+17, esc(a.Name), a.Len())
			fy += 34
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "."
}

// hexTable writes the metadata and the linear packet as rows of 16 bytes, each byte coloured by
// its area, the changed ones outlined.
func hexTable(b *strings.Builder, title string, s Snapshot, wrote []Write) {
	fmt.Fprintf(b, "<h3>%s</h3>\n<table class=\"hex\">\n", esc(title))
	var areas []Area
	for _, a := range s.Areas() {
		if a.Frag == 0 && (a.Kind == KindMeta || a.Kind == KindLayer) {
			areas = append(areas, a)
		}
	}
	if len(areas) == 0 {
		b.WriteString("</table>\n")
		return
	}
	lo, hi := areas[0].Start, areas[len(areas)-1].End
	more := 0
	if hi-lo > maxHexBytes {
		more, hi = hi-lo-maxHexBytes, lo+maxHexBytes
	}
	changed := map[int]bool{}
	for _, w := range wrote {
		if w.Area.Frag == 0 {
			for o := w.Start; o < w.End; o++ {
				changed[o] = true
			}
		}
	}
	ai := 0
	for row := lo - lo%16; row < hi; row += 16 {
		fmt.Fprintf(b, `<tr><td class="off">%d</td>`, row)
		for o := row; o < row+16; o++ {
			if o < lo || o >= hi {
				b.WriteString("<td></td>")
				continue
			}
			for ai < len(areas)-1 && o >= areas[ai].End {
				ai++
			}
			cls := ""
			if changed[o] {
				cls = ` class="w"`
			}
			fmt.Fprintf(b, `<td%s style="background:%s" title="%s byte %d">%02x</td>`, cls, Colour(areas[ai]), esc(areas[ai].Name), o-areas[ai].Start, s.Page[o])
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	if more > 0 {
		fmt.Fprintf(b, "<p>... and %d more bytes.</p>\n", more)
	}
}

// maxHexBytes is as much of the packet as the hex tables show.
const maxHexBytes = 512

// ariaLabel says what the pictures show, for readers that do not see them.
func ariaLabel(cols []column) string {
	if len(cols) > 0 && cols[0].snap.Skb != nil {
		return "the sk_buff"
	}
	return "the XDP frame"
}
