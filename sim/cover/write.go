package cover

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// WriteSummary writes, for the terminal, each program's instructions, branches and lines run, and
// per source file the lines that never ran and those whose branches went one way only.
//
//	xdp_planted_bug (corpus/planted_bug.v4.o): 118 of 131 instructions (90.1%), 44 of 52 branches (84.6%), 47 of 50 lines (94.0%)
//	  planted_bug.c: 3 lines never ran: 77, 81, 95-96
//	  planted_bug.c: 2 lines with a branch that went one way only: 80, 104
func (p *Profile) WriteSummary(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, pr := range p.Programs {
		t := pr.Totals()
		fmt.Fprintf(bw, "%s (%s): %d of %d instructions (%s), %d of %d branches (%s), %d of %d lines (%s)\n", pr.Name, pr.Object,
			t.InsnsRun, t.Insns, percent(t.InsnsRun, t.Insns), t.BranchesRun, t.Branches, percent(t.BranchesRun, t.Branches),
			t.LinesRun, t.Lines, percent(t.LinesRun, t.Lines))
	}
	for _, f := range p.Files() {
		var never, oneWay []int
		for _, l := range f.Lines {
			if l.Count == 0 {
				never = append(never, l.Number)
				continue
			}
			for _, in := range l.Insns {
				if in.Branch && in.Count > 0 && (in.Taken == 0 || in.Taken == in.Count) {
					oneWay = append(oneWay, l.Number)
					break
				}
			}
		}
		name := shortName(f.Name)
		if len(never) > 0 {
			fmt.Fprintf(bw, "  %s: %s never ran: %s\n", name, plural(len(never), "line"), ranges(never, f.Lines))
		}
		if len(oneWay) > 0 {
			fmt.Fprintf(bw, "  %s: %s with a branch that went one way only: %s\n", name, plural(len(oneWay), "line"), ranges(oneWay, f.Lines))
		}
	}
	return bw.Flush()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func percent(n, of int) string {
	if of == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
}

// shortName drops the "./" clang records for files compiled in their own directory.
func shortName(name string) string { return strings.TrimPrefix(name, "./") }

// ranges writes line numbers, joining runs of lines that follow each other among all (the lines
// with instructions) into a-b.
func ranges(nums []int, all []*Line) string {
	pos := map[int]int{}
	for i, l := range all {
		pos[l.Number] = i
	}
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && pos[nums[j+1]] == pos[nums[j]]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", nums[i], nums[j]))
		} else {
			parts = append(parts, strconv.Itoa(nums[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// WriteLCOV writes the profile as an lcov tracefile (the format of geninfo, which genhtml, lcov
// and coverage services read), test name test. Each source file gets its functions (FN, FNDA),
// its branches (BRDA: block b of a line is its b-th conditional jump; branch 0 is the jump
// taken, 1 the fall-through; "-" when the jump never ran) and its lines (DA). The file's path is
// where its source was found, else the name clang recorded.
func (p *Profile) WriteLCOV(w io.Writer, test string) error {
	bw := bufio.NewWriter(w)
	if test != "" {
		fmt.Fprintf(bw, "TN:%s\n", lcovName(test))
	}
	for _, f := range p.Files() {
		path := f.Path
		if path == "" {
			path = f.Name
		}
		fmt.Fprintf(bw, "SF:%s\n", path)
		funcs := mergeFuncs(f.Funcs)
		hit := 0
		for _, fn := range funcs {
			fmt.Fprintf(bw, "FN:%d,%s\n", fn.Line, fn.Name)
		}
		for _, fn := range funcs {
			fmt.Fprintf(bw, "FNDA:%d,%s\n", fn.Count, fn.Name)
			if fn.Count > 0 {
				hit++
			}
		}
		fmt.Fprintf(bw, "FNF:%d\nFNH:%d\n", len(funcs), hit)
		branches, taken := 0, 0
		for _, l := range f.Lines {
			block := 0
			for _, in := range l.Insns {
				if !in.Branch {
					continue
				}
				for b, n := range [2]uint64{in.Taken, in.Count - in.Taken} {
					branches++
					if in.Count == 0 {
						fmt.Fprintf(bw, "BRDA:%d,%d,%d,-\n", l.Number, block, b)
						continue
					}
					if n > 0 {
						taken++
					}
					fmt.Fprintf(bw, "BRDA:%d,%d,%d,%d\n", l.Number, block, b, n)
				}
				block++
			}
		}
		fmt.Fprintf(bw, "BRF:%d\nBRH:%d\n", branches, taken)
		lh := 0
		for _, l := range f.Lines {
			fmt.Fprintf(bw, "DA:%d,%d\n", l.Number, l.Count)
			if l.Count > 0 {
				lh++
			}
		}
		fmt.Fprintf(bw, "LF:%d\nLH:%d\nend_of_record\n", len(f.Lines), lh)
	}
	return bw.Flush()
}

// lcovName makes a test name lcov accepts: letters, digits and underscores.
func lcovName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// mergeFuncs joins entries of the same function (linked into several programs), adding their
// counts.
func mergeFuncs(fns []Func) []Func {
	var out []Func
	idx := map[string]int{}
	for _, fn := range fns {
		if i, ok := idx[fn.Name]; ok {
			out[i].Count += fn.Count
			continue
		}
		idx[fn.Name] = len(out)
		out = append(out, fn)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
