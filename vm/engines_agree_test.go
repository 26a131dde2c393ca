package vm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// Every engine must give the interpreter's results in every respect. These tests run the
// same programs on every engine and compare everything a caller can see: r0, the error with all
// its fields, Executed, PC, Program, the registers, the frames, every region's bytes, and what
// helpers and Load hooks observe while the program runs.

// outcome is everything observable about one run.
type outcome struct {
	R0       uint64
	Err      error
	ErrText  string
	Executed uint64
	PC       int
	Program  string
	Regs     [16]uint64
	Depth    int
	MaxDepth int
	Pending  uint8
	Tails    int
	Memory   [][]byte
	Events   []string
	// Coverage is the run's coverage record, written out, when the run had one.
	Coverage string
}

// recorder collects what helpers and hooks see during a run.
type recorder struct {
	events []string
}

func (r *recorder) note(m *Machine, what string, args ...any) {
	r.events = append(r.events, fmt.Sprintf("%s pc=%d executed=%d prog=%s %s", what, m.PC(), m.Executed(),
		m.Program().Name(), fmt.Sprint(args...)))
}

// scenario builds a program and a machine for one engine; the recorder is the run's own.
type scenario func(rec *recorder, e Engine) (p *Program, m *Machine, args []uint64)

func observe(t *testing.T, e Engine, s scenario, budget uint64, cov *Coverage) outcome {
	t.Helper()
	rec := &recorder{}
	p, m, args := s(rec, e)
	if budget != 0 {
		m.SetBudget(budget)
	}
	m.SetCoverage(cov)
	r0, err := m.Run(p, args...)
	o := outcome{R0: r0, Err: err, Executed: m.Executed(), PC: m.PC(), Regs: m.regs,
		Depth: m.depth, MaxDepth: m.maxDepth, Pending: m.pending, Tails: m.tails, Events: rec.events}
	if cov != nil {
		o.Coverage = dumpCoverage(cov)
	}
	if err != nil {
		o.ErrText = err.Error()
	}
	if m.Program() != nil {
		o.Program = m.Program().Name()
	}
	for i := range m.regions {
		o.Memory = append(o.Memory, append([]byte(nil), m.regions[i].Data...))
	}
	return o
}

// agree runs s on the interpreter and on every other engine and fails on any difference; then
// again on every engine with a coverage record, which must change nothing else and be the same
// for all.
func agree(t *testing.T, s scenario, budget uint64) outcome {
	t.Helper()
	want := observe(t, Interpreter, s, budget, nil)
	covWant := observe(t, Interpreter, s, budget, NewCoverage())
	for _, e := range Engines() {
		if e == Interpreter {
			continue
		}
		got := observe(t, e, s, budget, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("budget %d: %s disagrees with the interpreter\n%s", budget, e.Name(), diffOutcomes(e.Name(), want, got))
		}
		covGot := observe(t, e, s, budget, NewCoverage())
		if !reflect.DeepEqual(covGot, covWant) {
			t.Fatalf("budget %d: with coverage, %s disagrees with the interpreter\n%s", budget, e.Name(), diffOutcomes(e.Name(), covWant, covGot))
		}
	}
	covWant.Coverage = ""
	if !reflect.DeepEqual(covWant, want) {
		t.Fatalf("budget %d: recording coverage changed the run\n%s", budget, diffOutcomes("interp with coverage", want, covWant))
	}
	return want
}

// dumpCoverage writes out every count of a coverage record.
func dumpCoverage(c *Coverage) string {
	var b strings.Builder
	for _, pc := range c.Programs() {
		ran := false
		for i := range pc.Prog().Len() {
			ran = ran || pc.Count(i) != 0
		}
		if !ran {
			continue
		}
		fmt.Fprintf(&b, "%s:", pc.Prog().Name())
		for i := range pc.Prog().Len() {
			if n := pc.Count(i); n != 0 {
				fmt.Fprintf(&b, " %d×%d", i, n)
			}
			if pc.IsBranch(i) {
				taken, fell := pc.Branch(i)
				fmt.Fprintf(&b, " [%d:%d/%d]", i, taken, fell)
			}
			if agree, w := pc.Near(i); w != 0 && agree != 0 {
				fmt.Fprintf(&b, " {%d:%d/%d}", i, agree, w)
			}
		}
		b.WriteString("\n")
	}
	if cmp, ok := c.LastComparison(); ok {
		fmt.Fprintf(&b, "last comparison: %s %d %d %#x %#x %v\n", cmp.Rec.Prog().Name(), cmp.PC, cmp.Near, cmp.A, cmp.B, cmp.Equality)
	}
	return b.String()
}

func diffOutcomes(name string, want, got outcome) string {
	var b strings.Builder
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range wv.NumField() {
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		if !reflect.DeepEqual(w, g) {
			fmt.Fprintf(&b, "  %s: interp %#v\n  %s: %s %#v\n", wv.Type().Field(i).Name, w,
				wv.Type().Field(i).Name, name, g)
		}
	}
	return b.String()
}

// agreeAtEveryBudget compares the engines at every budget from 1 to the budget the program needs
// (at most 3000) and a few beyond, so that the budget runs out at every instruction of every
// block.
func agreeAtEveryBudget(t *testing.T, s scenario) {
	t.Helper()
	full := agree(t, s, 3000)
	for b := uint64(1); b <= full.Executed+3; b++ {
		agree(t, s, b)
	}
}

// simple is a scenario of a program with helpers, a 16-byte memory region in r1 and its size in
// r2 (plus extra arguments).
func simple(insns []Instruction, helpers func(rec *recorder) map[int32]Helper, extra ...uint64) scenario {
	return func(rec *recorder, e Engine) (*Program, *Machine, []uint64) {
		opts := ProgramOptions{Name: "prog", Lines: func(pc int) string { return fmt.Sprintf("prog.c:%d", pc+1) }}
		if helpers != nil {
			opts.Helpers = helpers(rec)
		}
		p, err := NewProgram(insns, opts)
		if err != nil {
			panic(err)
		}
		m := NewMachine(e)
		buf := make([]byte, 16)
		for i := range buf {
			buf[i] = byte(i*37 + 5)
		}
		id := m.AddRegion(NewRegion("memory", buf, false))
		return p, m, append([]uint64{Address(id, 0), uint64(len(buf))}, extra...)
	}
}

func exit() Instruction { return Make(0x95, 0, 0, 0, 0) }

func TestEnginesAgreeOnTheReferencePrograms(t *testing.T) {
	small := sumLoop()
	small[2] = Make(0xb7, 2, 0, 0, 20)
	t.Run("the sum loop", func(t *testing.T) { agreeAtEveryBudget(t, simple(small, nil)) })
	t.Run("the byte sum", func(t *testing.T) { agreeAtEveryBudget(t, simple(byteSum(), nil)) })
}

func TestEnginesAgreeOnFaults(t *testing.T) {
	tests := []struct {
		name  string
		insns []Instruction
	}{
		{"a load past the end in the middle of a block", []Instruction{
			Make(0xb7, 0, 0, 0, 1), Make(0x61, 3, 1, 13, 0), Make(0x07, 0, 0, 0, 1), exit()}},
		{"a load below the start", []Instruction{Make(0xb7, 0, 0, 0, 1), Make(0x71, 0, 1, -1, 0), exit()}},
		{"a store through a null pointer", []Instruction{
			Make(0xb7, 2, 0, 0, 0), Make(0x7a, 2, 0, 0, 1), Make(0x07, 0, 0, 0, 1), exit()}},
		{"a register store past the end", []Instruction{Make(0x63, 1, 2, 14, 0), exit()}},
		{"a store to the code region", []Instruction{
			Make(0x18, 3, PseudoFunc, 0, 3), Make(0, 0, 0, 0, 0), Make(0x73, 3, 2, 0, 0), exit(), exit()}},
		{"an atomic past the end", []Instruction{Make(0xdb, 1, 2, 12, AtomicAdd|AtomicFetch), exit()}},
		{"a 32-bit atomic on the stack frame pointer", []Instruction{Make(0xc3, 10, 2, 0, AtomicXchg), exit()}},
		{"a sign-extending load past the end", []Instruction{Make(0x89, 0, 1, 15, 0), exit()}},
		{"a stack access below the deepest frame", []Instruction{
			Make(0x79, 0, 10, -(MaxFrames*StackSize + 8), 0), exit()}},
		{"a load from a small scalar", []Instruction{Make(0x79, 0, 2, 0, 0), exit()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := agree(t, simple(tt.insns, nil), 0)
			var f *Fault
			if !errors.As(o.Err, &f) {
				t.Fatalf("got %v, want a *Fault", o.Err)
			}
			agreeAtEveryBudget(t, simple(tt.insns, nil))
		})
	}
}

// aluOps are the straight-line ALU opcodes, with the offsets they admit.
var aluOps = func() (ops []struct {
	code uint8
	off  int16
}) {
	add := func(code uint8, offs ...int16) {
		for _, o := range offs {
			ops = append(ops, struct {
				code uint8
				off  int16
			}{code, o})
		}
	}
	for _, cls := range []uint8{ClassALU, ClassALU64} {
		for _, o := range []uint8{AluAdd, AluSub, AluMul, AluOr, AluAnd, AluLsh, AluRsh, AluXor, AluArsh} {
			add(cls|o|SrcK, 0)
			add(cls|o|SrcX, 0)
		}
		for _, o := range []uint8{AluDiv, AluMod} {
			add(cls|o|SrcK, 0, 1)
			add(cls|o|SrcX, 0, 1)
		}
		add(cls|AluNeg, 0)
		add(cls|AluMov|SrcK, 0)
		add(cls|AluMov|SrcX, 0, 8, 16)
		add(cls|AluEnd|SrcK, 0)
	}
	add(ClassALU64|AluMov|SrcX, 32)
	add(ClassALU|AluEnd|SrcX, 0)
	return ops
}()

var interesting = []int32{0, 1, -1, 2, 7, 31, 32, 33, 63, 64, 65, 0x7fffffff, -0x80000000, 0x12345678, -3, 255, 0x8000}

func TestEnginesAgreeOnEveryALUInstruction(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, a := range aluOps {
		t.Run(fmt.Sprintf("op %#02x off %d", a.code, a.off), func(t *testing.T) {
			for range 40 {
				imm := interesting[rng.IntN(len(interesting))]
				if a.code&0xf0 == AluEnd {
					imm = []int32{16, 32, 64}[rng.IntN(3)]
				}
				v1, v2 := int32(rng.Uint32()), interesting[rng.IntN(len(interesting))]
				insns := []Instruction{
					Make(0x18, 3, 0, 0, v1), Make(0, 0, 0, 0, int32(rng.Uint32())),
					Make(0x18, 4, 0, 0, v2), Make(0, 0, 0, 0, int32(rng.IntN(3))-1),
					Make(a.code, 3, 4, a.off, imm),
					Make(0xbf, 0, 3, 0, 0),
					exit(),
				}
				agree(t, simple(insns, nil), 0)
			}
		})
	}
}

func TestEnginesAgreeOnEveryJump(t *testing.T) {
	values := []uint64{0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1<<63 - 1, 1 << 63, ^uint64(0), ^uint64(1)}
	for _, cls := range []uint8{ClassJMP, ClassJMP32} {
		for _, o := range []uint8{JmpJEQ, JmpJGT, JmpJGE, JmpJSET, JmpJNE, JmpJSGT, JmpJSGE, JmpJLT, JmpJLE, JmpJSLT, JmpJSLE} {
			for _, src := range []uint8{SrcK, SrcX} {
				code := cls | o | src
				t.Run(fmt.Sprintf("op %#02x", code), func(t *testing.T) {
					for _, a := range values {
						for _, b := range values {
							// r3 = a; r4 = b; r0 = 1; if r3 op r4/imm goto +1; r0 = 2; exit;
							// and the same with an add fused in front of the jump.
							insns := []Instruction{
								Make(0x18, 3, 0, 0, int32(a)), Make(0, 0, 0, 0, int32(a>>32)),
								Make(0x18, 4, 0, 0, int32(b)), Make(0, 0, 0, 0, int32(b>>32)),
								Make(0xb7, 0, 0, 0, 1),
								Make(code, 3, 4, 1, int32(b)),
								Make(0xb7, 0, 0, 0, 2),
								Make(0x07, 3, 0, 0, -1),
								Make(code, 3, 4, 1, int32(b)),
								Make(0x07, 0, 0, 0, 10),
								exit(),
							}
							agree(t, simple(insns, nil), 0)
						}
					}
				})
			}
		}
	}
}

func TestEnginesAgreeOnAtomics(t *testing.T) {
	for _, width := range []uint8{SizeW, SizeDW} {
		for _, op := range []int32{AtomicAdd, AtomicOr, AtomicAnd, AtomicXor, AtomicAdd | AtomicFetch,
			AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch, AtomicXchg, AtomicCmpXchg} {
			t.Run(fmt.Sprintf("width %#x op %#x", width, op), func(t *testing.T) {
				for _, r0 := range []int32{0, 0x3e1b0805, -1} {
					insns := []Instruction{
						Make(0xb7, 0, 0, 0, r0),
						Make(0xb7, 2, 0, 0, 0x5a5a),
						Make(ClassSTX|ModeATOMIC|width, 1, 2, 0, op),
						Make(ClassSTX|ModeATOMIC|width, 1, 2, 8, op),
						Make(0x0f, 0, 2, 0, 0),
						exit(),
					}
					agree(t, simple(insns, nil), 0)
				}
			})
		}
	}
}

func TestEnginesAgreeOnLoadsAndStores(t *testing.T) {
	var insns []Instruction
	for _, size := range []uint8{SizeB, SizeH, SizeW, SizeDW} {
		insns = append(insns,
			Make(ClassLDX|ModeMEM|size, 3, 1, 3, 0),
			Make(0x0f, 0, 3, 0, 0),
			Make(ClassST|ModeMEM|size, 1, 0, 5, -0x1234567),
			Make(ClassSTX|ModeMEM|size, 10, 3, -16, 0),
			Make(ClassLDX|ModeMEM|size, 4, 10, -16, 0),
			Make(0xaf, 0, 4, 0, 0))
		if size != SizeDW {
			insns = append(insns, Make(ClassLDX|ModeMEMSX|size, 3, 1, 5, 0), Make(0x1f, 0, 3, 0, 0))
		}
	}
	insns = append(insns, exit())
	agreeAtEveryBudget(t, simple(insns, nil))
}

// ctxScenario runs a program over a context region whose bytes are all served by a Load hook, as
// an XDP context is, and whose 4-byte field at 16 is written through a Store hook, as a tc
// program's mark is; and a packet region. The hooks record what they see.
func ctxScenario(insns []Instruction) scenario {
	return func(rec *recorder, e Engine) (*Program, *Machine, []uint64) {
		p, err := NewProgram(insns, ProgramOptions{Name: "ctx"})
		if err != nil {
			panic(err)
		}
		m := NewMachine(e)
		pkt := m.AddRegion(Region{Name: "packet", Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Lo: 2, Hi: 8})
		field := uint64(0x80000001)
		m.AddRegion(Region{Name: "ctx", Load: func(m *Machine, off, size uint32) (uint64, bool) {
			rec.note(m, "load", off, size)
			switch {
			case off == 16 && size == 4:
				return field, true
			case size != 4 || off > 8:
				return 0, false
			}
			return Address(pkt, off), true
		}, Store: func(m *Machine, off, size uint32, v uint64) bool {
			rec.note(m, "store", off, size, v)
			if off != 16 || size != 4 {
				return false
			}
			field = v
			return true
		}})
		return p, m, []uint64{Address(pkt+1, 0)}
	}
}

func TestEnginesAgreeOnLoadHooks(t *testing.T) {
	tests := []struct {
		name  string
		insns []Instruction
	}{
		{"4-byte loads the hook serves", []Instruction{
			Make(0xb7, 0, 0, 0, 0),
			Make(0x61, 2, 1, 0, 0), // r2 = ctx->data
			Make(0x61, 3, 1, 4, 0), // r3 = ctx->data_end
			Make(0xbf, 4, 2, 0, 0),
			Make(0x07, 4, 0, 0, 4),
			Make(0x2d, 4, 3, 2, 0), // if r2 + 4 > data_end goto out
			Make(0x71, 0, 2, 2, 0),
			Make(0x07, 0, 0, 0, 100),
			exit()}},
		{"a load the hook refuses", []Instruction{Make(0xb7, 0, 0, 0, 1), Make(0x61, 2, 1, 12, 0), exit()}},
		{"a 1-byte load the hook refuses", []Instruction{Make(0x71, 2, 1, 0, 0), exit()}},
		{"a sign-extending load the hook serves extends the sign", []Instruction{Make(0x81, 0, 1, 16, 0), exit()}},
		{"a sign-extending load the hook refuses", []Instruction{Make(0x89, 0, 1, 16, 0), exit()}},
		{"a store the hook refuses faults", []Instruction{Make(0x62, 1, 0, 0, 1), exit()}},
		{"stores the hook takes, then read back", []Instruction{
			Make(0x62, 1, 0, 16, -5), Make(0x61, 2, 1, 16, 0),
			Make(0xb7, 3, 0, 0, 7), Make(0x63, 1, 3, 16, 0), Make(0x61, 0, 1, 16, 0),
			Make(0x0f, 0, 2, 0, 0), exit()}},
		{"a 2-byte store the hook refuses", []Instruction{Make(0x6b, 1, 1, 16, 0), exit()}},
		{"a load outside the packet window", []Instruction{
			Make(0x61, 2, 1, 0, 0), Make(0x71, 0, 2, -1, 0), Make(0x71, 0, 2, 6, 0), exit()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { agreeAtEveryBudget(t, ctxScenario(tt.insns)) })
	}
}

// wideScenario has a context region whose fields 0, 1 and 3 (offsets 0, 4 and 12) are wide: 64-bit
// packet pointers and a number in Data; field 2 and everything else go to its Load hook, which
// serves 4-byte loads up to offset 20 with a scalar. Bytes 2..4 of Data are a window too.
func wideScenario(insns []Instruction) scenario {
	return func(rec *recorder, e Engine) (*Program, *Machine, []uint64) {
		p, err := NewProgram(insns, ProgramOptions{Name: "wide", Lines: func(pc int) string { return fmt.Sprint("wide.c:", pc) }})
		if err != nil {
			panic(err)
		}
		m := NewMachine(e)
		pkt := m.AddRegion(Region{Name: "packet", Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Lo: 2, Hi: 8})
		fields := make([]byte, 40)
		le.PutUint64(fields[0:], Address(pkt, 2))
		le.PutUint64(fields[8:], Address(pkt, 8))
		le.PutUint64(fields[16:], 0xdeadbeef)
		le.PutUint64(fields[24:], 0x1122334455667788)
		m.AddRegion(Region{Name: "ctx", Data: fields, Lo: 2, Hi: 4, WideMask: 0b1011, Load: func(m *Machine, off, size uint32) (uint64, bool) {
			rec.note(m, "load", off, size)
			return uint64(off) * 1000, size == 4 && off <= 20
		}})
		return p, m, []uint64{Address(pkt+1, 0)}
	}
}

func TestEnginesAgreeOnWideFields(t *testing.T) {
	tests := []struct {
		name  string
		insns []Instruction
	}{
		{"the wide fields give 64-bit pointers that work as such", []Instruction{
			Make(0xb7, 0, 0, 0, 0),
			Make(0x61, 2, 1, 0, 0), // r2 = ctx->data
			Make(0x61, 3, 1, 4, 0), // r3 = ctx->data_end
			Make(0xbf, 4, 2, 0, 0),
			Make(0x07, 4, 0, 0, 4),
			Make(0x2d, 4, 3, 2, 0),
			Make(0x71, 0, 2, 2, 0),
			Make(0x61, 5, 1, 12, 0), // r5 = a wide number
			Make(0x0f, 0, 5, 0, 0),
			exit()}},
		{"a field that is not wide goes to the hook", []Instruction{Make(0x61, 0, 1, 8, 0), exit()}},
		{"a load inside the window is plain memory", []Instruction{Make(0x69, 0, 1, 2, 0), Make(0x61, 2, 1, 0, 0), exit()}},
		{"a misaligned 4-byte load goes to the hook", []Instruction{Make(0x61, 0, 1, 5, 0), exit()}},
		{"other sizes are never wide", []Instruction{Make(0x79, 0, 1, 0, 0), exit()}},
		{"a sign-extending load of a wide field extends its low half", []Instruction{Make(0x81, 0, 1, 0, 0), Make(0x81, 2, 1, 12, 0), exit()}},
		{"a wide field beyond the data faults", []Instruction{Make(0x61, 0, 1, 24, 0), Make(0x61, 0, 1, 40, 0), exit()}},
		{"a field beyond the mask faults", []Instruction{Make(0x61, 0, 1, 128, 0), exit()}},
		{"every register may receive a wide field", func() []Instruction {
			var insns []Instruction
			for r := uint8(0); r < 10; r++ {
				insns = append(insns, Make(0xbf, r, 1, 0, 0))
			}
			for r := uint8(0); r < 10; r++ {
				insns = append(insns, Make(0x61, r, r, int16(4*(r%2)), 0))
			}
			for r := uint8(1); r < 10; r++ {
				insns = append(insns, Make(0x0f, 0, r, 0, 0))
			}
			return append(insns, exit())
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { agreeAtEveryBudget(t, wideScenario(tt.insns)) })
	}
}

// callHelpers are helpers that exercise the machine from inside a run: they record what they see,
// fail, exit, call back into the program and tail call.
func callHelpers(self **Program, other **Program) func(rec *recorder) map[int32]Helper {
	return func(rec *recorder) map[int32]Helper {
		return map[int32]Helper{
			1: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { // record, return r1+r2
				rec.note(m, "helper 1", r1, r2, r3, r4, r5)
				return r1 + r2, nil
			},
			2: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { // call back r1 with r2 and r3 times
				var sum uint64
				for i := range r3 & 7 {
					v, err := m.Callback(r1, r2+i)
					rec.note(m, "callback returned", v, err)
					if err != nil {
						return 0, err
					}
					sum += v
				}
				return sum, nil
			},
			3: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { // exit with r1
				rec.note(m, "exit", r1)
				m.Exit(r1)
				return 99, nil
			},
			4: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { // fail
				rec.note(m, "fail")
				return 0, errors.New("the helper failed")
			},
			5: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { // clear r2 bytes at r1
				b, err := m.Bytes(r1, int(r2), true)
				rec.note(m, "bytes", err)
				if err != nil {
					return 0, err
				}
				clear(b)
				return uint64(len(b)), nil
			},
			12: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { // tail call self or other
				p := *self
				if r2 != 0 && other != nil {
					p = *other
				}
				ok := m.TailCall(p)
				rec.note(m, "tail call", ok)
				if ok {
					return 0, nil
				}
				return ^uint64(0), nil
			},
		}
	}
}

func callScenario(insns []Instruction, kfuncs bool, otherInsns []Instruction, extra ...uint64) scenario {
	return func(rec *recorder, e Engine) (*Program, *Machine, []uint64) {
		var self, other *Program
		helpers := callHelpers(&self, &other)(rec)
		opts := ProgramOptions{Name: "main", Helpers: helpers, Lines: func(pc int) string { return fmt.Sprint("main.c:", pc) }}
		if kfuncs {
			opts.Kfuncs = map[int32]Helper{100: helpers[3], 101: helpers[12], 102: helpers[1]}
		}
		var err error
		if self, err = NewProgram(insns, opts); err != nil {
			panic(err)
		}
		if otherInsns != nil {
			opts.Name = "other"
			opts.Lines = nil
			if other, err = NewProgram(otherInsns, opts); err != nil {
				panic(err)
			}
		}
		m := NewMachine(e)
		buf := make([]byte, 32)
		id := m.AddRegion(NewRegion("memory", buf, false))
		return self, m, append([]uint64{Address(id, 0)}, extra...)
	}
}

func TestEnginesAgreeOnCalls(t *testing.T) {
	recursion := []Instruction{
		Make(0x15, 2, 0, 3, 0),           // 0: if r2 == 0 goto 4
		Make(0x07, 2, 0, 0, -1),          // 1: r2 -= 1
		Make(0x7b, 10, 2, -8, 0),         // 2: *(u64 *)(r10 - 8) = r2
		Make(0x85, 0, PseudoCall, 0, -4), // 3: call 0
		Make(0x07, 0, 0, 0, 7),           // 4: r0 += 7
		exit(),                           // 5
	}
	for depth := range uint64(MaxFrames + 2) {
		t.Run(fmt.Sprintf("recursion %d deep", depth), func(t *testing.T) {
			agreeAtEveryBudget(t, callScenario(recursion, false, nil, depth))
		})
	}
	callbacks := []Instruction{
		Make(0xb7, 6, 0, 0, 100),         // 0: r6 = 100
		Make(0xbf, 7, 1, 0, 0),           // 1: r7 = r1 (memory)
		Make(0x18, 1, PseudoFunc, 0, 8),  // 2: r1 = &callback (pc 11)
		Make(0, 0, 0, 0, 0),              // 3
		Make(0xb7, 2, 0, 0, 10),          // 4: r2 = 10
		Make(0xbf, 3, 8, 0, 0),           // 5: r3 = r8 (the count)
		Make(0x85, 0, 0, 0, 2),           // 6: call helper 2
		Make(0x0f, 0, 6, 0, 0),           // 7: r0 += r6
		Make(0x85, 0, 0, 0, 1),           // 8: call helper 1
		exit(),                           // 9
		exit(),                           // 10
		Make(0xbf, 0, 1, 0, 0),           // 11: callback: r0 = r1
		Make(0x27, 0, 0, 0, 3),           // 12: r0 *= 3
		Make(0xb7, 6, 0, 0, 0),           // 13: r6 = 0
		Make(0x15, 1, 0, 2, 11),          // 14: if r1 == 11 goto 17
		Make(0x73, 7, 1, 0, 0),           // 15: *(u8 *)(r7 + 0) = r1
		exit(),                           // 16
		Make(0x18, 1, PseudoFunc, 0, -7), // 17: r1 = &callback: a callback calls back itself
		Make(0, 0, 0, 0, 0),              // 18
		Make(0xb7, 3, 0, 0, 2),           // 19
		Make(0x85, 0, 0, 0, 2),           // 20: call helper 2
		exit(),                           // 21
	}
	for count := range uint64(5) {
		t.Run(fmt.Sprintf("%d callbacks", count), func(t *testing.T) {
			// r8 = count, in front: the pseudo-function offsets are relative, so they still
			// point at the callback.
			insns := append([]Instruction{Make(0xb7, 8, 0, 0, int32(count))}, callbacks...)
			agreeAtEveryBudget(t, callScenario(insns, false, nil))
		})
	}
	t.Run("a callback that runs too deep", func(t *testing.T) {
		insns := []Instruction{
			Make(0x18, 1, PseudoFunc, 0, 6),  // 0: r1 = &f (pc 7)
			Make(0, 0, 0, 0, 0),              // 1
			Make(0xb7, 3, 0, 0, 1),           // 2
			Make(0x85, 0, 0, 0, 2),           // 3: call helper 2
			exit(),                           // 4
			exit(),                           // 5
			exit(),                           // 6
			Make(0x18, 1, PseudoFunc, 0, -1), // 7: f: r1 = &f
			Make(0, 0, 0, 0, 0),              // 8
			Make(0xb7, 3, 0, 0, 1),           // 9
			Make(0x85, 0, 0, 0, 2),           // 10: call helper 2
			exit(),                           // 11
		}
		agreeAtEveryBudget(t, callScenario(insns, false, nil))
	})
	t.Run("callx", func(t *testing.T) {
		for _, target := range []struct {
			name string
			set  []Instruction
		}{
			{"a function", []Instruction{Make(0x18, 4, PseudoFunc, 0, 6), Make(0, 0, 0, 0, 0)}},
			{"a helper", []Instruction{Make(0xb7, 4, 0, 0, 1), Make(0xb7, 5, 0, 0, 0)}},
			{"an exiting helper", []Instruction{Make(0xb7, 4, 0, 0, 3), Make(0xb7, 5, 0, 0, 0)}},
			{"an unknown helper", []Instruction{Make(0xb7, 4, 0, 0, 9), Make(0xb7, 5, 0, 0, 0)}},
			{"not a function", []Instruction{Make(0x18, 4, 0, 0, 8), Make(0, 0, 0, 0, RegionCode)}},
			{"beyond the code", []Instruction{Make(0x18, 4, 0, 0, 900), Make(0, 0, 0, 0, RegionCode)}},
		} {
			t.Run(target.name, func(t *testing.T) {
				insns := append(target.set,
					Make(0xb7, 1, 0, 0, 5),  // 2: r1 = 5
					Make(0x8d, 4, 0, 0, 0),  // 3: callx r4
					Make(0x07, 0, 0, 0, 1),  // 4: r0 += 1
					exit(),                  // 5
					exit(),                  // 6
					Make(0xbf, 0, 1, 0, 0),  // 7: the function (lddw at 0 + 6 + 1)
					Make(0x27, 0, 0, 0, 11), // 8: r0 *= 11; not a function start
					Make(0x07, 1, 0, 0, 1),  // 9
					Make(0x8d, 4, 0, 0, 0),  // 10: callx r4 again: recursion until too deep
					exit(),                  // 11
				)
				agreeAtEveryBudget(t, callScenario(insns, false, nil))
			})
		}
	})
	t.Run("helpers that see the machine, fail and exit", func(t *testing.T) {
		for _, id := range []int32{1, 3, 4, 5} {
			insns := []Instruction{
				Make(0xb7, 2, 0, 0, 40), // r2 = 40: helper 5 faults on 40 bytes of 32
				Make(0x07, 0, 0, 0, 1),
				Make(0x85, 0, 0, 0, 1),
				Make(0xb7, 3, 0, 0, 3),
				Make(0x85, 0, 0, 0, id),
				Make(0x07, 0, 0, 0, 1),
				exit(),
			}
			t.Run(fmt.Sprint("helper ", id), func(t *testing.T) { agreeAtEveryBudget(t, callScenario(insns, false, nil)) })
		}
	})
	t.Run("kfuncs", func(t *testing.T) {
		insns := []Instruction{
			Make(0xb7, 2, 0, 0, 0),
			Make(0x85, 0, PseudoKfuncCall, 0, 102), // record
			Make(0x85, 0, PseudoKfuncCall, 0, 101), // a tail call from a kfunc stays pending
			Make(0x07, 0, 0, 0, 1),
			Make(0x85, 0, 0, 0, 1), // and the next helper call carries it out
			Make(0x07, 0, 0, 0, 1),
			Make(0x85, 0, PseudoKfuncCall, 0, 100), // exit
			exit(),
		}
		agreeAtEveryBudget(t, callScenario(insns, true, nil))
	})
}

func TestEnginesAgreeOnTailCalls(t *testing.T) {
	counter := []Instruction{
		Make(0xb7, 2, 0, 0, 1),
		Make(0xdb, 1, 2, 0, AtomicAdd),
		Make(0xb7, 2, 0, 0, 0),
		Make(0x85, 0, 0, 0, 12),
		Make(0xb7, 0, 0, 0, 2),
		exit(),
	}
	t.Run("a chain of tail calls that ends at the limit", func(t *testing.T) {
		agreeAtEveryBudget(t, callScenario(counter, false, nil))
	})
	// main calls a function, which tail calls other; other's exit returns to main's frame.
	main := []Instruction{
		Make(0xb7, 6, 0, 0, 5),          // 0: r6 = 5
		Make(0x85, 0, PseudoCall, 0, 3), // 1: call 5
		Make(0x0f, 0, 6, 0, 0),          // 2: r0 += r6
		Make(0x07, 0, 0, 0, 1000),       // 3
		exit(),                          // 4
		Make(0xb7, 6, 0, 0, 77),         // 5: f: r6 = 77
		Make(0xb7, 2, 0, 0, 1),          // 6: r2 = 1: tail call other
		Make(0x85, 0, 0, 0, 12),         // 7
		Make(0xb7, 0, 0, 0, 3),          // 8: (after a failed tail call)
		exit(),                          // 9
	}
	other := []Instruction{
		Make(0xb7, 0, 0, 0, 40),         // 0
		Make(0x85, 0, PseudoCall, 0, 2), // 1: call 4
		Make(0x07, 0, 0, 0, 2),          // 2
		exit(),                          // 3
		Make(0x07, 0, 0, 0, 1),          // 4
		exit(),                          // 5
	}
	t.Run("a tail call from a function returns to its caller's program", func(t *testing.T) {
		agreeAtEveryBudget(t, callScenario(main, false, other))
	})
}

func TestEnginesAgreeOnRandomPrograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, ran := 3000, 0
	if testing.Short() {
		n = 300
	}
	for ran < n {
		insns := randomProgram(rng)
		if _, err := NewProgram(insns, ProgramOptions{Helpers: callHelpers(new(*Program), nil)(nil)}); err != nil {
			continue
		}
		ran++
		s := callScenario(insns, false, nil, rng.Uint64(), uint64(rng.IntN(40)))
		if ran%10 == 0 {
			agreeAtEveryBudget(t, s)
		} else {
			agree(t, s, 2000)
		}
	}
}

// randomProgram makes a program of random instructions that are mostly valid, with jumps and
// calls that land inside it.
func randomProgram(rng *rand.Rand) []Instruction {
	n := 4 + rng.IntN(40)
	var insns []Instruction
	reg := func() uint8 { return uint8(rng.IntN(10)) }
	for len(insns) < n {
		switch k := rng.IntN(20); {
		case k < 7:
			a := aluOps[rng.IntN(len(aluOps))]
			imm := interesting[rng.IntN(len(interesting))]
			if a.code&0xf0 == AluEnd {
				imm = []int32{16, 32, 64}[rng.IntN(3)]
			}
			insns = append(insns, Make(a.code, reg(), reg(), a.off, imm))
		case k < 10:
			cls := []uint8{ClassJMP, ClassJMP32}[rng.IntN(2)]
			o := []uint8{JmpJA, JmpJEQ, JmpJGT, JmpJGE, JmpJSET, JmpJNE, JmpJSGT, JmpJSGE, JmpJLT, JmpJLE, JmpJSLT, JmpJSLE}[rng.IntN(12)]
			src := []uint8{SrcK, SrcX}[rng.IntN(2)]
			if o == JmpJA {
				src = SrcK
			}
			insns = append(insns, Make(cls|o|src, reg(), reg(), int16(rng.IntN(n)-len(insns)-1), int32(rng.IntN(n)-len(insns)-1)))
		case k < 14:
			size := []uint8{SizeB, SizeH, SizeW, SizeDW}[rng.IntN(4)]
			base := []uint8{1, 10, 1, 10, reg()}[rng.IntN(5)]
			off := int16(rng.IntN(40) - 8)
			if base == 10 {
				off = -int16(rng.IntN(64) + 1)
			}
			switch rng.IntN(4) {
			case 0:
				insns = append(insns, Make(ClassLDX|ModeMEM|size, reg(), base, off, 0))
			case 1:
				insns = append(insns, Make(ClassST|ModeMEM|size, base, 0, off, int32(rng.Uint32())))
			case 2:
				insns = append(insns, Make(ClassSTX|ModeMEM|size, base, reg(), off, 0))
			default:
				if size == SizeDW {
					insns = append(insns, Make(ClassSTX|ModeATOMIC|size, base, reg(), off&^7, []int32{AtomicAdd, AtomicXchg | 0, AtomicCmpXchg, AtomicOr | AtomicFetch}[rng.IntN(4)]))
				} else {
					insns = append(insns, Make(ClassLDX|ModeMEMSX|size, reg(), base, off, 0))
				}
			}
		case k < 16:
			insns = append(insns, Make(0x18, reg(), 0, 0, int32(rng.Uint32())), Make(0, 0, 0, 0, int32(rng.IntN(6))))
		case k < 17:
			insns = append(insns, Make(0x85, 0, 0, 0, []int32{1, 1, 2, 3, 4, 5, 12}[rng.IntN(7)]))
		case k < 18:
			insns = append(insns, Make(0x85, 0, PseudoCall, 0, int32(rng.IntN(n)-len(insns)-1)))
		case k < 19:
			insns = append(insns, Make(0x18, reg(), PseudoFunc, 0, int32(rng.IntN(n)-len(insns)-1)), Make(0, 0, 0, 0, 0))
		default:
			insns = append(insns, exit())
		}
	}
	return append(insns, exit())
}

func TestEnginesHandTracingToTheInterpreter(t *testing.T) {
	trace := func(e Engine) []string {
		p := mustProgram(t, byteSum(), ProgramOptions{})
		m := NewMachine(e)
		id := m.AddRegion(NewRegion("memory", []byte{1, 2, 3}, false))
		var seen []string
		m.SetTrace(func(p *Program, pc int, regs *[11]uint64) { seen = append(seen, fmt.Sprint(pc, *regs)) })
		if _, err := m.Run(p, Address(id, 0), 3); err != nil {
			t.Fatal(err)
		}
		return seen
	}
	want := trace(Interpreter)
	for _, e := range Engines() {
		if got := trace(e); len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("traces differ:\ninterp %v\n%s %v", want, e.Name(), got)
		}
	}
}

func TestEnginesCompileOnceForConcurrentMachines(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			p := mustProgram(t, byteSum(), ProgramOptions{})
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := NewMachine(e)
					buf := make([]byte, 100+g)
					var want uint64
					for i := range buf {
						buf[i] = byte(i + g)
						want += uint64(buf[i])
					}
					id := m.AddRegion(NewRegion("memory", buf, false))
					for range 50 {
						if r0, err := m.Run(p, Address(id, 0), uint64(len(buf))); err != nil || r0 != want {
							t.Errorf("r0 = %d, err = %v; want %d", r0, err, want)
							return
						}
					}
				}()
			}
			wg.Wait()
			switch e {
			case Closures:
				if compiledProgram(p) != compiledProgram(p) {
					t.Fatal("the program was compiled more than once")
				}
			case JIT:
				nc := p.native.code.Load()
				if JITNative() && (nc == nil || p.native.failed.Load()) {
					t.Fatal("the program was not compiled to native code")
				}
				if _, err := NewMachine(e).Run(p, 0, 0); err != nil || p.native.code.Load() != nc {
					t.Fatalf("err = %v; the program was compiled more than once", err)
				}
			}
		})
	}
}

// The machine tests of machine_test.go, on every engine.

func TestEveryEngineFaults(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			id := m.AddRegion(NewRegion("memory", make([]byte, 16), false))
			p := mustProgram(t, []Instruction{Make(0x61, 0, 1, 13, 0), exit()}, ProgramOptions{Lines: func(int) string { return "prog.c:7" }})
			_, err := m.Run(p, Address(id, 0))
			var f *Fault
			if !errors.As(err, &f) || f.Access != "load" || f.Size != 4 || f.Region != "memory" || f.Line != "prog.c:7" || f.PC != 0 {
				t.Fatalf("got %#v, want a 4-byte load fault in memory at instruction 0", err)
			}
		})
	}
}

func TestEveryEngineMovingWindow(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			id := m.AddRegion(Region{Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Lo: 2, Hi: 6, Name: "packet"})
			p := mustProgram(t, []Instruction{Make(0x71, 0, 1, 0, 0), exit()}, ProgramOptions{})
			if r0, err := m.Run(p, Address(id, 5)); err != nil || r0 != 6 {
				t.Fatalf("r0 = %d, err = %v; want 6", r0, err)
			}
			m.SetWindow(id, 2, 5)
			if _, err := m.Run(p, Address(id, 5)); err == nil {
				t.Fatal("a load outside the shrunk window succeeded")
			}
		})
	}
}

func TestEveryEngineBudget(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			m.SetBudget(1000)
			p := mustProgram(t, []Instruction{Make(0x05, 0, 0, -1, 0), exit()}, ProgramOptions{})
			_, err := m.Run(p)
			var be *BudgetError
			if !errors.As(err, &be) || !errors.Is(err, ErrBudget) || be.PC != 0 || be.Executed != 1000 {
				t.Fatalf("got %v, want a budget error at 0", err)
			}
			if m.Executed() != 1000 {
				t.Errorf("executed %d, want 1000", m.Executed())
			}
		})
	}
}

func TestEveryEngineCallDepth(t *testing.T) {
	insns := []Instruction{
		Make(0x15, 1, 0, 2, 0), Make(0x07, 1, 0, 0, -1), Make(0x85, 0, PseudoCall, 0, -3),
		Make(0xb7, 0, 0, 0, 7), exit(),
	}
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			p := mustProgram(t, insns, ProgramOptions{})
			if r0, err := NewMachine(e).Run(p, MaxFrames-1); err != nil || r0 != 7 {
				t.Fatalf("eight frames: r0 = %d, err = %v", r0, err)
			}
			if _, err := NewMachine(e).Run(p, MaxFrames); !errors.Is(err, ErrCallDepth) {
				t.Fatalf("nine frames: got %v, want ErrCallDepth", err)
			}
		})
	}
}

func TestEveryEngineTailCallsAndCallbacks(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			var self *Program
			helpers := map[int32]Helper{
				12: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
					if m.TailCall(self) {
						return 0, nil
					}
					return ^uint64(0), nil
				},
			}
			self = mustProgram(t, []Instruction{
				Make(0xb7, 2, 0, 0, 1), Make(0xdb, 1, 2, 0, AtomicAdd), Make(0x85, 0, 0, 0, 12),
				Make(0xb7, 0, 0, 0, 2), exit(),
			}, ProgramOptions{Helpers: helpers})
			m := NewMachine(e)
			buf := make([]byte, 8)
			id := m.AddRegion(NewRegion("counter", buf, false))
			if r0, err := m.Run(self, Address(id, 0)); err != nil || r0 != 2 || le.Uint64(buf) != MaxTailCalls+1 {
				t.Fatalf("r0 = %d, err = %v, runs = %d", r0, err, le.Uint64(buf))
			}
		})
	}
}

func TestEveryEngineStacks(t *testing.T) {
	ownStack := []Instruction{
		Make(0x7a, 10, 0, -8, 11), Make(0x85, 0, PseudoCall, 0, 2), Make(0x79, 0, 10, -8, 0), exit(),
		Make(0x7a, 10, 0, -8, 22), exit(),
	}
	zeroed := []Instruction{
		Make(0x15, 1, 0, 4, 0), Make(0x7a, 10, 0, -8, 7), Make(0x85, 0, PseudoCall, 0, 6), Make(0xb7, 0, 0, 0, 0), exit(),
		Make(0x79, 0, 10, -8, 0), Make(0x79, 2, 10, -StackSize-8, 0), Make(0x0f, 0, 2, 0, 0), exit(),
		Make(0x7a, 10, 0, -8, 9), exit(),
	}
	for _, e := range Engines() {
		t.Run(e.Name()+": each frame has its own stack", func(t *testing.T) {
			if r0, err := NewMachine(e).Run(mustProgram(t, ownStack, ProgramOptions{})); err != nil || r0 != 11 {
				t.Fatalf("r0 = %d, err = %v; the callee overwrote its caller's stack", r0, err)
			}
		})
		t.Run(e.Name()+": every run starts with a zeroed stack", func(t *testing.T) {
			m := NewMachine(e)
			p := mustProgram(t, zeroed, ProgramOptions{})
			if _, err := m.Run(p, 1); err != nil {
				t.Fatal(err)
			}
			if r0, err := m.Run(p, 0); err != nil || r0 != 0 {
				t.Fatalf("r0 = %d, err = %v; the second run saw the first run's stack", r0, err)
			}
		})
	}
}

func TestEveryEngineCallback(t *testing.T) {
	helpers := map[int32]Helper{181: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		var sum uint64
		for i := uint64(1); i <= 3; i++ {
			r, err := m.Callback(r1, i, r2)
			if err != nil {
				return 0, err
			}
			sum += r
		}
		return sum, nil
	}}
	insns := []Instruction{
		Make(0xb7, 6, 0, 0, 100), Make(0x18, 1, PseudoFunc, 0, 6), Make(0, 0, 0, 0, 0), Make(0xb7, 2, 0, 0, 10),
		Make(0x85, 0, 0, 0, 181), Make(0x0f, 0, 6, 0, 0), exit(), exit(),
		Make(0xbf, 0, 1, 0, 0), Make(0x2f, 0, 2, 0, 0), Make(0xb7, 6, 0, 0, 0), exit(),
	}
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			r0, err := NewMachine(e).Run(mustProgram(t, insns, ProgramOptions{Helpers: helpers}))
			if err != nil || r0 != 10+20+30+100 {
				t.Fatalf("r0 = %d, err = %v; want 160", r0, err)
			}
		})
	}
}

func TestEveryEngineSteadyStateRunsDoNotAllocate(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			id := m.AddRegion(NewRegion("memory", make([]byte, 64), false))
			ctx := m.AddRegion(Region{Name: "ctx", Load: func(m *Machine, off, size uint32) (uint64, bool) {
				return Address(id, 0), size == 4
			}})
			helpers := map[int32]Helper{1: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { return r1, nil }}
			p := mustProgram(t, append([]Instruction{
				Make(0x61, 1, 1, 0, 0), // r1 = ctx->data, through the hook
				Make(0xb7, 2, 0, 0, 64),
				Make(0xbf, 6, 1, 0, 0),
				Make(0x85, 0, 0, 0, 1),
				Make(0xbf, 1, 6, 0, 0),
				Make(0x18, 3, PseudoFunc, 0, 2), Make(0, 0, 0, 0, 0),
				Make(0x05, 0, 0, 1, 0),
				exit(),
			}, byteSum()...), ProgramOptions{Helpers: helpers})
			if _, err := m.Run(p, Address(ctx, 0)); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := m.Run(p, Address(ctx, 0)); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
		})
	}
}

// FuzzEngines runs arbitrary programs on every engine, with helpers, a memory region and a
// context region served by a Load hook, and fails on any difference at all.
func FuzzEngines(f *testing.F) {
	f.Add(Encode(sumLoop()), []byte{1, 2, 3}, uint16(0))
	f.Add(Encode(byteSum()), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint16(17))
	f.Add(Encode([]Instruction{Make(0x61, 2, 3, 0, 0), Make(0x71, 0, 2, 0, 0), exit()}), []byte{9, 8, 7}, uint16(0))
	f.Add(Encode([]Instruction{Make(0x18, 1, PseudoFunc, 0, 3), Make(0, 0, 0, 0, 0), Make(0x85, 0, 0, 0, 2), exit(),
		Make(0xbf, 0, 2, 0, 0), exit()}), []byte{}, uint16(3))
	f.Fuzz(func(t *testing.T, prog, mem []byte, budget uint16) {
		if len(prog) > 8*4096 {
			return
		}
		insns, err := Decode(prog[:len(prog)/8*8])
		if err != nil {
			t.Fatal(err)
		}
		var probe *Program
		if _, err := NewProgram(insns, ProgramOptions{Helpers: callHelpers(&probe, nil)(nil),
			Kfuncs: map[int32]Helper{1: callHelpers(&probe, nil)(nil)[1]}}); err != nil {
			return
		}
		s := func(rec *recorder, e Engine) (*Program, *Machine, []uint64) {
			var self *Program
			helpers := callHelpers(&self, nil)(rec)
			self, _ = NewProgram(insns, ProgramOptions{Name: "fuzz", Helpers: helpers,
				Kfuncs: map[int32]Helper{1: helpers[3]}})
			m := NewMachine(e)
			id := m.AddRegion(NewRegion("memory", append([]byte(nil), mem...), false))
			fields := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
			ctx := m.AddRegion(Region{Name: "ctx", Data: fields, Hi: 2, WideMask: 0b101, Load: func(m *Machine, off, size uint32) (uint64, bool) {
				rec.note(m, "load", off, size)
				return Address(id, off), size == 4
			}})
			return self, m, []uint64{Address(id, 0), uint64(len(mem)), Address(ctx, 0)}
		}
		agree(t, s, uint64(budget)%5000+1)
	})
}

func TestEveryEngineServesStoresAndSignExtendingLoadsThroughHooks(t *testing.T) {
	tests := []struct {
		name  string
		insns []Instruction
		want  uint64
	}{
		{"a sign-extending load extends the hook's answer", []Instruction{Make(0x81, 0, 1, 16, 0), exit()}, 0xffffffff80000001},
		{"a plain load of the same field does not", []Instruction{Make(0x61, 0, 1, 16, 0), exit()}, 0x80000001},
		{"a stored immediate reaches the hook truncated to the size", []Instruction{Make(0x62, 1, 0, 16, -5), Make(0x61, 0, 1, 16, 0), exit()}, 0xfffffffb},
		{"a stored register reaches the hook", []Instruction{Make(0xb7, 3, 0, 0, 7), Make(0x63, 1, 3, 16, 0), Make(0x61, 0, 1, 16, 0), exit()}, 7},
	}
	for _, e := range Engines() {
		for _, tt := range tests {
			t.Run(e.Name()+": "+tt.name, func(t *testing.T) {
				p, m, args := ctxScenario(tt.insns)(&recorder{}, e)
				args[0] = Address(FirstHostRegion+1, 0)
				r0, err := m.Run(p, args...)
				if err != nil || r0 != tt.want {
					t.Errorf("r0 = %#x, err = %v; want %#x", r0, err, tt.want)
				}
			})
		}
	}
}
