// Package cover reports which instructions and branches of BPF programs ran, by C source line: a
// summary for the terminal, an lcov tracefile (genhtml and CI coverage services read it) and a
// self-contained HTML page. The counts come from a vm.Coverage record of the runs (xdpsim run
// --coverage, xdpsim test --coverage, xdptest.Program.CollectCoverage); the lines from the BTF line
// info clang writes with -g.
package cover

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/vm"
)

// Profile is the coverage of some programs. Profiles of the same objects merge (Merge), so a test
// suite that loads an object per test still gets one report.
type Profile struct {
	Programs []*Program
}

// Program is the coverage of one program, instruction by instruction.
type Program struct {
	// Object is the path of the object the program was loaded from; Name the program's function.
	Object string
	Name   string
	// Insns are the program's instructions (as loaded), Counts how often each ran (indexed by
	// instruction slot, as Insns' offsets are; the second slot of a lddw counts nothing).
	Insns  asm.Instructions
	Counts []uint64
	// Taken counts, at each conditional jump, the times it jumped; it fell through Counts-Taken
	// times.
	Taken []uint64
	// Branch says which slots are conditional jumps.
	Branch []bool
	// Lines gives each slot's source line (nil where the object has none); Text each slot's
	// instruction in the kernel's notation.
	Lines []*SourceLine
	Text  []string
	// insAt gives each slot's index in Insns, -1 for the second slot of a lddw.
	insAt []int
}

// SourceLine is a line of C source, as BTF line info records it.
type SourceLine struct {
	File string // the file name clang recorded
	Line int
	Text string
}

// New makes a profile of programs from the coverage record of the runs that ran them. Programs that
// never ran are in it too, with nothing run (a tail-call target no packet reached is code no test
// covered).
func New(cov *vm.Coverage, progs ...*sim.Program) *Profile {
	p := &Profile{}
	for _, sp := range progs {
		n := sp.VM.Len()
		pr := &Program{Object: sp.Object().Path, Name: sp.Name, Insns: sp.Insns, Counts: make([]uint64, n),
			Taken: make([]uint64, n), Branch: make([]bool, n), Lines: make([]*SourceLine, n), Text: make([]string, n), insAt: make([]int, n)}
		for i := range pr.insAt {
			pr.insAt[i] = -1
		}
		for iter := sp.Insns.Iterate(); iter.Next(); {
			if int(iter.Offset) < n {
				pr.insAt[iter.Offset] = iter.Index
			}
		}
		var rec *vm.ProgramCoverage
		if cov != nil {
			rec = cov.Program(sp.VM)
		}
		for i := range n {
			pr.Branch[i] = sp.VM.IsBranch(i)
			if pr.isInsn(i) {
				pr.Text[i] = sim.Disassemble(sp.VM, i)
			}
			if li := sp.LineInfo(i); li != nil {
				pr.Lines[i] = &SourceLine{File: li.FileName(), Line: int(li.LineNumber()), Text: li.Line()}
			}
			if rec != nil {
				pr.Counts[i] = rec.Count(i)
				if pr.Branch[i] {
					pr.Taken[i], _ = rec.Branch(i)
				}
			}
		}
		p.Programs = append(p.Programs, pr)
	}
	return p
}

// ForObject is New for every program of obj (XDP and tc) that the record saw run, and the entries
// whether they ran or not.
func ForObject(cov *vm.Coverage, obj *sim.Object, entries ...*sim.Program) *Profile {
	var progs []*sim.Program
	for _, name := range append(obj.XDPPrograms(), obj.TCPrograms()...) {
		sp, err := obj.Program(name)
		if err != nil {
			continue
		}
		if slices.Contains(entries, sp) || cov != nil && cov.Program(sp.VM) != nil {
			progs = append(progs, sp)
		}
	}
	return New(cov, progs...)
}

// Merge adds the counts of o to p: programs of the same object and name add up, instruction by
// instruction (they must be the same program); others join p.
func (p *Profile) Merge(o *Profile) error {
	for _, op := range o.Programs {
		var same *Program
		for _, pp := range p.Programs {
			if pp.Object == op.Object && pp.Name == op.Name {
				same = pp
			}
		}
		if same == nil {
			c := *op
			c.Counts = append([]uint64(nil), op.Counts...)
			c.Taken = append([]uint64(nil), op.Taken...)
			p.Programs = append(p.Programs, &c)
			continue
		}
		if len(same.Counts) != len(op.Counts) {
			return fmt.Errorf("coverage of %s in %s: %d instructions, and %d in the other profile", op.Name, op.Object, len(op.Counts), len(same.Counts))
		}
		for i := range same.Counts {
			same.Counts[i] += op.Counts[i]
			same.Taken[i] += op.Taken[i]
		}
	}
	return nil
}

// isInsn says whether slot i holds an instruction (not the second half of a lddw).
func (pr *Program) isInsn(i int) bool { return pr.insAt[i] >= 0 }

// Totals counts a program's instructions, branches (two per conditional jump: it jumps, it falls
// through) and source lines, and how many of each ran.
type Totals struct {
	Insns, InsnsRun       int
	Branches, BranchesRun int
	Lines, LinesRun       int
}

// Totals of the program.
func (pr *Program) Totals() Totals {
	var t Totals
	lines := map[SourceLine]bool{}
	for i := range pr.Counts {
		if !pr.isInsn(i) {
			continue
		}
		t.Insns++
		if pr.Counts[i] > 0 {
			t.InsnsRun++
		}
		if pr.Branch[i] {
			t.Branches += 2
			if pr.Taken[i] > 0 {
				t.BranchesRun++
			}
			if pr.Counts[i]-pr.Taken[i] > 0 {
				t.BranchesRun++
			}
		}
		if l := pr.Lines[i]; l != nil {
			key := SourceLine{File: l.File, Line: l.Line}
			lines[key] = lines[key] || pr.Counts[i] > 0
		}
	}
	t.Lines = len(lines)
	for _, ran := range lines {
		if ran {
			t.LinesRun++
		}
	}
	return t
}

// File is the coverage of one source file, over every program whose lines come from it.
type File struct {
	// Name is the file name clang recorded; Path where it was found (for its text), "" if not.
	Name, Path string
	Lines      []*Line // with instructions, by number
	Funcs      []Func
}

// Line is the coverage of one source line.
type Line struct {
	Number int
	Text   string // as BTF line info has it
	// Count is how often the line ran: for each program, its instruction that ran most often,
	// summed over the programs.
	Count uint64
	// Insns are the line's instructions, in program order.
	Insns []Insn
}

// Insn is one instruction of a line.
type Insn struct {
	Program string
	PC      int
	Ins     asm.Instruction
	Text    string // in the kernel's notation
	Count   uint64
	// Branch says the instruction is a conditional jump, which jumped Taken times and fell
	// through Count-Taken times.
	Branch bool
	Taken  uint64
}

// Func is a BPF function (a program or a subprogram): where it starts and how often it was
// entered.
type Func struct {
	Name  string
	Line  int
	Count uint64
}

// Files groups the profile's instructions by source file and line, files by name. Instructions
// without line info are left out.
func (p *Profile) Files() []*File {
	files := map[string]*File{}
	type lineKey struct {
		file string
		line int
	}
	lines := map[lineKey]*Line{}
	for _, pr := range p.Programs {
		// Per program, the count of a line is its instruction that ran most often.
		most := map[lineKey]uint64{}
		for i, l := range pr.Lines {
			if l == nil || !pr.isInsn(i) {
				continue
			}
			f := files[l.File]
			if f == nil {
				f = &File{Name: l.File, Path: findSource(l.File, pr.Object)}
				files[l.File] = f
			}
			k := lineKey{l.File, l.Line}
			ln := lines[k]
			if ln == nil {
				ln = &Line{Number: l.Line, Text: l.Text}
				lines[k] = ln
				f.Lines = append(f.Lines, ln)
			}
			ins := pr.Insns[pr.insAt[i]]
			ln.Insns = append(ln.Insns, Insn{Program: pr.Name, PC: i, Ins: ins, Text: pr.Text[i], Count: pr.Counts[i],
				Branch: pr.Branch[i], Taken: pr.Taken[i]})
			most[k] = max(most[k], pr.Counts[i])
			if sym := ins.Symbol(); sym != "" {
				f.Funcs = append(f.Funcs, Func{Name: sym, Line: l.Line, Count: pr.Counts[i]})
			}
		}
		for k, n := range most {
			lines[k].Count += n
		}
	}
	out := make([]*File, 0, len(files))
	for _, f := range files {
		sort.Slice(f.Lines, func(i, j int) bool { return f.Lines[i].Number < f.Lines[j].Number })
		sort.SliceStable(f.Funcs, func(i, j int) bool { return f.Funcs[i].Line < f.Funcs[j].Line })
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// findSource finds the C file name clang recorded: as it is (absolute, or relative to the working
// directory), or relative to the object's directory (where clang ran, for objects built beside
// their sources with -fdebug-prefix-map=$PWD=.). It returns "" when none exists.
func findSource(name, object string) string {
	candidates := []string{name}
	if !filepath.IsAbs(name) {
		candidates = append(candidates, filepath.Join(filepath.Dir(object), name))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return filepath.Clean(c)
		}
	}
	return ""
}
