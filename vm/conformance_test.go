package vm_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// conformanceDir holds the shared ISA conformance cases, relative to this package.
const conformanceDir = "../../shared/conformance"

// ConformanceCase is one case of the suite: a program, its input memory and the expected r0.
type conformanceCase struct {
	name   string
	asm    string
	mem    []byte
	result uint64
}

func loadCases(tb testing.TB) []conformanceCase {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Skipf("SKIP: no conformance cases at %s (the shared/ folder is not beside the repository)", conformanceDir)
	}
	var cases []conformanceCase
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		sections := map[string]*strings.Builder{}
		var cur *strings.Builder
		for _, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(line, "-- ") {
				cur = &strings.Builder{}
				sections[strings.TrimSpace(line[3:])] = cur
				continue
			}
			if cur != nil {
				cur.WriteString(line + "\n")
			}
		}
		c := conformanceCase{name: strings.TrimSuffix(filepath.Base(f), ".data")}
		if s := sections["asm"]; s != nil {
			c.asm = s.String()
		}
		if s := sections["mem"]; s != nil {
			var hexText strings.Builder
			for _, line := range strings.Split(s.String(), "\n") {
				if i := strings.IndexByte(line, '#'); i >= 0 {
					line = line[:i]
				}
				hexText.WriteString(strings.Join(strings.Fields(line), ""))
			}
			c.mem, err = hex.DecodeString(hexText.String())
			if err != nil {
				tb.Fatalf("%s: memory: %v", f, err)
			}
		}
		res := strings.TrimSpace(sections["result"].String())
		if i := strings.IndexByte(res, '#'); i >= 0 {
			res = strings.TrimSpace(res[:i])
		}
		if strings.HasPrefix(res, "0x") {
			c.result, err = strconv.ParseUint(res[2:], 16, 64)
		} else {
			var v int64
			v, err = strconv.ParseInt(res, 10, 64)
			c.result = uint64(v)
		}
		if err != nil {
			tb.Fatalf("%s: result %q: %v", f, res, err)
		}
		cases = append(cases, c)
	}
	return cases
}

// conformanceHelpers are the helpers the suite's reference plugins provide: number 5 returns its
// argument and, when that is 0, ends the program (uBPF's "unwind" helper).
func conformanceHelpers() map[int32]vm.Helper {
	return map[int32]vm.Helper{5: func(m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		if r1 == 0 {
			m.Exit(0)
		}
		return r1, nil
	}}
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	for _, e := range vm.Engines() {
		for _, c := range cases {
			t.Run(e.Name()+"/"+c.name, func(t *testing.T) {
				insns, err := assembly.Assemble(c.asm)
				if err != nil {
					t.Fatalf("assemble: %v", err)
				}
				p, err := vm.NewProgram(insns, vm.ProgramOptions{Name: c.name, Helpers: conformanceHelpers()})
				if err != nil {
					t.Fatalf("prepare: %v", err)
				}
				m := vm.NewMachine(e)
				var r1 uint64
				if c.mem != nil {
					r1 = vm.Address(m.AddRegion(vm.NewRegion("memory", c.mem, false)), 0)
				}
				r0, err := m.Run(p, r1, uint64(len(c.mem)))
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if r0 != c.result {
					t.Errorf("r0 = %#x, want %#x", r0, c.result)
				}
			})
		}
	}
	t.Logf("%d conformance cases on %d engine(s)", len(cases), len(vm.Engines()))
}

// BenchmarkSubnet runs reference program (3), subnet.data from the conformance cases.
func BenchmarkSubnet(b *testing.B) {
	var c *conformanceCase
	for _, cc := range loadCases(b) {
		if cc.name == "subnet" {
			c = &cc
			break
		}
	}
	if c == nil {
		b.Skip("SKIP: subnet.data not found")
	}
	insns, err := assembly.Assemble(c.asm)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range vm.Engines() {
		b.Run(e.Name(), func(b *testing.B) {
			p, err := vm.NewProgram(insns, vm.ProgramOptions{})
			if err != nil {
				b.Fatal(err)
			}
			m := vm.NewMachine(e)
			r1 := vm.Address(m.AddRegion(vm.NewRegion("memory", c.mem, false)), 0)
			b.ReportAllocs()
			var executed uint64
			for b.Loop() {
				r0, err := m.Run(p, r1, uint64(len(c.mem)))
				if err != nil || r0 != c.result {
					b.Fatalf("r0 = %d, err = %v", r0, err)
				}
				executed += m.Executed()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(executed), "ns/insn")
		})
	}
}
