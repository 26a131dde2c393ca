package vm

import (
	"testing"
)

// sumLoop is reference program (1): r0 = 1 + 2 + ... + 10,000,000.
func sumLoop() []Instruction {
	return []Instruction{
		Make(0xb7, 0, 0, 0, 0),        // r0 = 0
		Make(0xb7, 1, 0, 0, 1),        // r1 = 1
		Make(0xb7, 2, 0, 0, 10000000), // r2 = 10000000
		Make(0x0f, 0, 1, 0, 0),        // loop: r0 += r1
		Make(0x07, 1, 0, 0, 1),        // r1 += 1
		Make(0xbd, 1, 2, -3, 0),       // if r1 <= r2 goto loop
		Make(0x95, 0, 0, 0, 0),        // exit
	}
}

// byteSum is reference program (2): the sum of the bytes of r1[0:r2], 4·L+5 instructions.
func byteSum() []Instruction {
	return []Instruction{
		Make(0xb7, 0, 0, 0, 0),  // r0 = 0
		Make(0x0f, 2, 1, 0, 0),  // r2 += r1 (end)
		Make(0x3d, 1, 2, 5, 0),  // if r1 >= r2 goto out
		Make(0x71, 3, 1, 0, 0),  // loop: r3 = *(u8 *)(r1 + 0)
		Make(0x0f, 0, 3, 0, 0),  // r0 += r3
		Make(0x07, 1, 0, 0, 1),  // r1 += 1
		Make(0xad, 1, 2, -4, 0), // if r1 < r2 goto loop
		Make(0x05, 0, 0, 0, 0),  // goto out
		Make(0x95, 0, 0, 0, 0),  // out: exit
	}
}

func BenchmarkSumLoop(b *testing.B) {
	for _, e := range Engines() {
		b.Run(e.Name(), func(b *testing.B) {
			p, err := NewProgram(sumLoop(), ProgramOptions{})
			if err != nil {
				b.Fatal(err)
			}
			m := NewMachine(e)
			b.ReportAllocs()
			var executed uint64
			for b.Loop() {
				r0, err := m.Run(p)
				if err != nil || r0 != 50000005000000 {
					b.Fatalf("r0 = %d, err = %v", r0, err)
				}
				executed += m.Executed()
			}
			if m.Executed() != 30000004 {
				b.Fatalf("executed %d instructions, want 30000004", m.Executed())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(executed), "ns/insn")
		})
	}
}

func BenchmarkByteSum(b *testing.B) {
	for _, e := range Engines() {
		b.Run(e.Name(), func(b *testing.B) {
			p, err := NewProgram(byteSum(), ProgramOptions{})
			if err != nil {
				b.Fatal(err)
			}
			m := NewMachine(e)
			buf := make([]byte, 1500)
			want := uint64(0)
			for i := range buf {
				buf[i] = byte(i * 7)
				want += uint64(buf[i])
			}
			id := m.AddRegion(NewRegion("memory", buf, false))
			b.ReportAllocs()
			var executed uint64
			for b.Loop() {
				r0, err := m.Run(p, Address(id, 0), uint64(len(buf)))
				if err != nil || r0 != want {
					b.Fatalf("r0 = %d, err = %v", r0, err)
				}
				executed += m.Executed()
			}
			if m.Executed() != 4*1500+5 {
				b.Fatalf("executed %d instructions, want %d", m.Executed(), 4*1500+5)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(executed), "ns/insn")
		})
	}
}

// BenchmarkCoverage is BenchmarkByteSum with a coverage record on the machine (reset before each
// run, as a fuzzer does): the cost of recording, against BenchmarkByteSum's figures.
func BenchmarkCoverage(b *testing.B) {
	for _, e := range Engines() {
		b.Run(e.Name(), func(b *testing.B) {
			p, err := NewProgram(byteSum(), ProgramOptions{})
			if err != nil {
				b.Fatal(err)
			}
			m := NewMachine(e)
			buf := make([]byte, 1500)
			id := m.AddRegion(NewRegion("memory", buf, false))
			cov := NewCoverage()
			m.SetCoverage(cov)
			b.ReportAllocs()
			var executed uint64
			for b.Loop() {
				cov.Reset()
				if _, err := m.Run(p, Address(id, 0), uint64(len(buf))); err != nil {
					b.Fatal(err)
				}
				executed += m.Executed()
			}
			if got := cov.Program(p).Count(3); got != 1500 {
				b.Fatalf("the loop ran %d times in the last run, want 1500", got)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(executed), "ns/insn")
		})
	}
}
