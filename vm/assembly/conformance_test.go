package assembly

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

// conformanceDir holds the shared ISA conformance cases, relative to this package.
const conformanceDir = "../../../shared/conformance"

// conformanceCase is one .data file: its assembly and, where present, the raw instruction words.
type conformanceCase struct {
	name string
	asm  string
	raw  []uint64
}

// loadConformance reads every case, or skips the test when the folder is absent.
func loadConformance(tb testing.TB) []conformanceCase {
	tb.Helper()
	if _, err := os.Stat(conformanceDir); err != nil {
		tb.Skipf("conformance cases not available at %s: %v", conformanceDir, err)
	}
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.data"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Skipf("no .data files in %s", conformanceDir)
	}
	var cases []conformanceCase
	for _, file := range files {
		c, err := parseDataFile(file)
		if err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		cases = append(cases, c)
	}
	return cases
}

// parseDataFile splits a .data file into its sections and keeps -- asm and -- raw.
func parseDataFile(path string) (conformanceCase, error) {
	c := conformanceCase{name: strings.TrimSuffix(filepath.Base(path), ".data")}
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	var asm strings.Builder
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "-- "); ok {
			section = strings.TrimSpace(name)
			continue
		}
		switch section {
		case "asm":
			asm.WriteString(line)
			asm.WriteByte('\n')
		case "raw":
			text := strings.TrimSpace(line)
			if i := strings.IndexByte(text, '#'); i >= 0 {
				text = strings.TrimSpace(text[:i])
			}
			if text == "" {
				continue
			}
			w, err := strconv.ParseUint(strings.TrimPrefix(text, "0x"), 16, 64)
			if err != nil {
				return c, err
			}
			c.raw = append(c.raw, w)
		}
	}
	c.asm = asm.String()
	return c, sc.Err()
}

// word packs an instruction the way the -- raw sections write it: the little-endian encoding read
// as one 64-bit number.
func word(ins vm.Instruction) uint64 {
	return uint64(uint32(ins.Imm))<<32 | uint64(uint16(ins.Off))<<16 | uint64(ins.Regs)<<8 | uint64(ins.Op)
}

func TestEveryConformanceCaseAssembles(t *testing.T) {
	cases := loadConformance(t)
	t.Logf("%d conformance cases", len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prog, err := Assemble(c.asm)
			if err != nil {
				t.Fatal(err)
			}
			if len(prog) == 0 {
				t.Fatal("the program is empty")
			}
		})
	}
}

func TestConformanceRawSectionsMatchTheAssembly(t *testing.T) {
	checked := 0
	for _, c := range loadConformance(t) {
		if c.raw == nil {
			continue
		}
		checked++
		t.Run(c.name, func(t *testing.T) {
			prog, err := Assemble(c.asm)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]uint64, len(prog))
			for i, ins := range prog {
				got[i] = word(ins)
			}
			if !slices.Equal(got, c.raw) {
				t.Errorf("words\n got %#016x\nwant %#016x", got, c.raw)
			}
		})
	}
	if checked == 0 {
		t.Error("no case has a -- raw section; lddw.data should")
	}
}

func TestEveryConformanceCaseRoundTrips(t *testing.T) {
	for _, c := range loadConformance(t) {
		t.Run(c.name, func(t *testing.T) {
			prog, err := Assemble(c.asm)
			if err != nil {
				t.Fatal(err)
			}
			text, err := Disassemble(prog)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Assemble(text)
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if !slices.Equal(prog, again) {
				t.Fatalf("round trip changed the program\n%s", text)
			}
			text2, err := Disassemble(again)
			if err != nil || text2 != text {
				t.Fatalf("disassembly is not stable: %v\n%s\n---\n%s", err, text, text2)
			}
			// The kernel-style dump must render every word without trouble.
			if dump := DumpKernel(prog, nil); strings.Contains(dump, "BUG") || strings.Contains(dump, "(null)") {
				t.Errorf("kernel dump has unknown instructions:\n%s", dump)
			}
		})
	}
}
