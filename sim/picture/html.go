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

// HTML writes the run as a self-contained page: the frame before, after each pointer move and after
// the run side by side as SVG drawings on one vertical scale, the steps, the bytes written, and a
// hex dump of the metadata and packet before and after.
func (r *Run) HTML(w io.Writer) error {
	cols := []column{{title: "before the program", snap: r.Before}}
	for i, st := range r.Steps {
		if len(cols) == maxColumns-1 {
			break
		}
		cols = append(cols, column{title: fmt.Sprintf("after step %d", i+1), snap: st.Frame, wrote: Writes(r.Before, st.Frame)})
	}
	if r.Done {
		cols = append(cols, column{title: "after the program", snap: r.After, wrote: Writes(r.Before, r.After)})
	}
	var b strings.Builder
	title := r.Title
	if title == "" {
		title = "XDP frame"
	}
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>
body{font-family:sans-serif;margin:16px;color:#212121;background:#fff}
h1{font-size:18px;margin:0 0 4px} h2{font-size:15px;margin:18px 0 6px}
.verdict{font-weight:bold} svg text{font-family:monospace;font-size:11px}
.legend span{display:inline-block;padding:1px 6px;margin:2px;border:1px solid #555;font-size:12px}
table.hex{border-collapse:collapse;font-family:monospace;font-size:12px}
table.hex td{padding:0 3px;border:1px solid #fff} table.hex td.off{color:#757575;padding-right:8px}
td.w{outline:2px solid #d32f2f} ol li{margin:3px 0} code{background:#f5f5f5}
</style></head><body>
`, esc(title))
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(title))
	if r.Done {
		fmt.Fprintf(&b, "<p>The program returned <span class=\"verdict\">%s</span>.</p>\n", esc(r.Outcome.Verdict()))
	}
	b.WriteString(`<p>The 4,096-byte page the program works in, as <code>BPF_PROG_TEST_RUN</code> lays it out. Offsets count from
<code>data_hard_start</code>; heights are not to scale (small areas are drawn larger). Areas with a red border hold bytes the
program changed.</p>
`)
	r.legend(&b)
	writeColumns(&b, cols)
	b.WriteString("<h2>Pointer moves</h2>\n")
	if len(r.Steps) == 0 {
		b.WriteString("<p>No helper moved a pointer.</p>\n")
	} else {
		b.WriteString("<ol>\n")
		prev := r.Before
		for _, st := range r.Steps {
			fmt.Fprintf(&b, "<li><code>%s</code><br>at instruction %d", esc(st.Describe(prev)), st.Move.PC)
			if st.Line != "" {
				fmt.Fprintf(&b, ": <code>%s</code>", esc(st.Line))
			}
			b.WriteString("</li>\n")
			prev = st.Frame
		}
		b.WriteString("</ol>\n")
		if r.Omitted > 0 {
			fmt.Fprintf(&b, "<p>%d more moves were not kept.</p>\n", r.Omitted)
		}
	}
	if r.Done {
		b.WriteString("<h2>Bytes the program changed</h2>\n<pre>" + esc(describeWrites(Writes(r.Before, r.After))) + "</pre>\n")
	}
	hexTable(&b, "Metadata and packet before", r.Before, nil)
	if r.Done {
		hexTable(&b, "Metadata and packet after", r.After, Writes(r.Before, r.After))
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

func (r *Run) legend(b *strings.Builder) {
	seen := map[string]bool{}
	b.WriteString(`<div class="legend">`)
	snaps := []Snapshot{r.Before}
	if r.Done {
		snaps = append(snaps, r.After)
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
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" role="img" aria-label="the XDP frame">`+"\n", colW*len(cols), height)
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
	fmt.Fprintf(b, "<h2>%s</h2>\n<table class=\"hex\">\n", esc(title))
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
