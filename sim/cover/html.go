package cover

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"os"
	"strings"
)

// WriteHTML writes the profile as one self-contained HTML page: a table of the programs, then
// each source file with every line's run count, its branches and, unfolded on a click, its BPF
// instructions with their counts. Lines that never ran are red, lines that ran with an
// instruction or a branch direction that did not are yellow, the rest green. A file whose source
// was not found shows the lines BTF line info holds.
func (p *Profile) WriteHTML(w io.Writer, title string) error {
	page := htmlPage{Title: title}
	for _, pr := range p.Programs {
		page.Programs = append(page.Programs, htmlProgram{Name: pr.Name, Object: pr.Object, Totals: pr.Totals()})
	}
	for _, f := range p.Files() {
		page.Files = append(page.Files, htmlFileOf(f))
	}
	bw := bufio.NewWriter(w)
	if err := pageTemplate.Execute(bw, page); err != nil {
		return err
	}
	return bw.Flush()
}

type htmlPage struct {
	Title    string
	Programs []htmlProgram
	Files    []htmlFile
}

type htmlProgram struct {
	Name, Object string
	Totals       Totals
}

type htmlFile struct {
	Name, Path            string
	Lines, LinesRun       int
	Branches, BranchesRun int
	Rows                  []htmlRow
}

type htmlRow struct {
	Number   int
	Text     string
	Gap      bool // lines left out (the source was not found)
	Code     bool // the line has instructions
	Class    string
	Count    uint64
	Branches string // "taken/all" of its branch directions
	Insns    []Insn
}

func htmlFileOf(f *File) htmlFile {
	hf := htmlFile{Name: shortName(f.Name), Path: f.Path, Lines: len(f.Lines)}
	byNum := map[int]*Line{}
	for _, l := range f.Lines {
		byNum[l.Number] = l
		if l.Count > 0 {
			hf.LinesRun++
		}
	}
	row := func(n int, text string) htmlRow {
		r := htmlRow{Number: n, Text: text}
		l := byNum[n]
		if l == nil {
			return r
		}
		r.Code, r.Count, r.Insns = true, l.Count, l.Insns
		all, ran, insnsRun := 0, 0, 0
		for _, in := range l.Insns {
			if in.Count > 0 {
				insnsRun++
			}
			if in.Branch {
				all += 2
				if in.Taken > 0 {
					ran++
				}
				if in.Count > in.Taken {
					ran++
				}
			}
		}
		hf.Branches += all
		hf.BranchesRun += ran
		if all > 0 {
			r.Branches = fmt.Sprintf("%d/%d", ran, all)
		}
		switch {
		case l.Count == 0:
			r.Class = "miss"
		case ran < all || insnsRun < len(l.Insns):
			r.Class = "part"
		default:
			r.Class = "hit"
		}
		return r
	}
	if src, err := os.ReadFile(f.Path); f.Path != "" && err == nil {
		for i, text := range strings.Split(strings.TrimSuffix(string(src), "\n"), "\n") {
			hf.Rows = append(hf.Rows, row(i+1, text))
		}
		return hf
	}
	last := 0
	for _, l := range f.Lines {
		if last != 0 && l.Number > last+1 {
			hf.Rows = append(hf.Rows, htmlRow{Gap: true})
		}
		hf.Rows = append(hf.Rows, row(l.Number, l.Text))
		last = l.Number
	}
	return hf
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"pct": percent,
	"sub": func(a, b uint64) uint64 { return a - b },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table.sum { border-collapse: collapse; margin-bottom: 1.5em; }
table.sum td, table.sum th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
table.sum td:first-child, table.sum th:first-child, table.sum td.obj { text-align: left; }
table.src { border-collapse: collapse; font-family: monospace; font-size: 13px; width: 100%; }
table.src td { padding: 0 0.5em; vertical-align: top; white-space: pre; }
td.num { color: #888; text-align: right; user-select: none; }
td.cnt, td.br { text-align: right; color: #555; }
tr.hit td.code { background: #dfd; }
tr.miss td.code { background: #fcc; }
tr.part td.code { background: #ffc; }
tr.gap td { color: #aaa; }
details { display: inline; }
summary { cursor: pointer; list-style: none; }
div.insns { color: #444; margin: 0.2em 0 0.4em 2em; }
h2 { font-size: 1.1em; margin-top: 2em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<table class="sum">
<tr><th>program</th><th>object</th><th>instructions</th><th>branches</th><th>lines</th></tr>
{{range .Programs}}<tr><td>{{.Name}}</td><td class="obj">{{.Object}}</td>
<td>{{.Totals.InsnsRun}}/{{.Totals.Insns}} ({{pct .Totals.InsnsRun .Totals.Insns}})</td>
<td>{{.Totals.BranchesRun}}/{{.Totals.Branches}} ({{pct .Totals.BranchesRun .Totals.Branches}})</td>
<td>{{.Totals.LinesRun}}/{{.Totals.Lines}} ({{pct .Totals.LinesRun .Totals.Lines}})</td></tr>
{{end}}</table>
{{range .Files}}
<h2 id="{{.Name}}">{{.Name}}{{if .Path}} <small>({{.Path}})</small>{{else}} <small>(source not found: the lines BTF holds)</small>{{end}}:
lines {{.LinesRun}}/{{.Lines}} ({{pct .LinesRun .Lines}}), branches {{.BranchesRun}}/{{.Branches}} ({{pct .BranchesRun .Branches}})</h2>
<table class="src">
{{range .Rows}}{{if .Gap}}<tr class="gap"><td class="num">…</td><td></td><td></td><td></td></tr>
{{else}}<tr class="{{.Class}}"><td class="num">{{.Number}}</td><td class="cnt">{{if .Code}}{{.Count}}{{end}}</td><td class="br">{{.Branches}}</td><td class="code">{{if .Insns}}<details><summary>{{.Text}}</summary><div class="insns">{{range .Insns}}{{.Program}} {{.PC}}: {{.Text}}   ×{{.Count}}{{if .Branch}} (jumped {{.Taken}}, fell through {{sub .Count .Taken}}){{end}}
{{end}}</div></details>{{else}}{{.Text}}{{end}}</td></tr>
{{end}}{{end}}</table>
{{end}}
</body>
</html>
`))
