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

// reportPerInsn reports wall-clock and CPU ns per executed instruction; cpu0 is cpuTime() when
// the loop began.
func reportPerInsn(b *testing.B, executed uint64, cpu0 int64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(executed), "ns/insn")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(executed), "cpu-ns/insn")
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
			cpu0 := cpuTime()
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
			reportPerInsn(b, executed, cpu0)
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
			cpu0 := cpuTime()
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
			reportPerInsn(b, executed, cpu0)
		})
	}
}

// parser is reference program (4), the branchy one: clang's code for sim/testdata/parser.c, an
// Ethernet/IPv4/UDP parser that counts UDP datagrams per destination port bucket in a map (41
// instructions and a helper call for a UDP packet). It reads the packet pointers from an XDP-like
// context of wide fields.
func parser() []Instruction {
	return []Instruction{
		Make(0xb4, 0, 0, 0, 1), Make(0x61, 2, 1, 4, 0), Make(0x61, 3, 1, 0, 0), Make(0xbf, 1, 3, 0, 0),
		Make(0x07, 1, 0, 0, 14), Make(0x2d, 1, 2, 35, 0), Make(0x71, 4, 3, 12, 0), Make(0x71, 5, 3, 13, 0),
		Make(0x64, 5, 0, 0, 8), Make(0x4c, 5, 4, 0, 0), Make(0xb4, 0, 0, 0, 2), Make(0x56, 5, 0, 29, 8),
		Make(0xbf, 4, 3, 0, 0), Make(0x07, 4, 0, 0, 34), Make(0xb4, 0, 0, 0, 1), Make(0x2d, 4, 2, 25, 0),
		Make(0x71, 4, 1, 0, 0), Make(0x54, 4, 0, 0, 15), Make(0xa6, 4, 0, 22, 5), Make(0x71, 3, 3, 23, 0),
		Make(0xb4, 0, 0, 0, 2), Make(0x56, 3, 0, 19, 0x11), Make(0x64, 4, 0, 0, 2), Make(0x0f, 1, 4, 0, 0),
		Make(0xbf, 3, 1, 0, 0), Make(0x07, 3, 0, 0, 8), Make(0xb4, 0, 0, 0, 1), Make(0x2d, 3, 2, 13, 0),
		Make(0x69, 1, 1, 2, 0), Make(0x74, 1, 0, 0, 8), Make(0x63, 10, 1, -4, 0), Make(0xbf, 2, 10, 0, 0),
		Make(0x07, 2, 0, 0, -4), Make(0x18, 1, 0, 0, 1), Make(0, 0, 0, 0, 0), Make(0x85, 0, 0, 0, 1),
		Make(0xbf, 1, 0, 0, 0), Make(0xb4, 0, 0, 0, 2), Make(0x15, 1, 0, 2, 0), Make(0xb7, 2, 0, 0, 1),
		Make(0xdb, 1, 2, 0, AtomicAdd), Make(0x95, 0, 0, 0, 0),
	}
}

// udpFrame is an Ethernet/IPv4/UDP frame to destination port 0x1234.
func udpFrame() []byte {
	f := make([]byte, 60)
	f[12], f[13] = 0x08, 0x00 // IPv4
	f[14] = 0x45              // version 4, 5 words
	f[23] = 17                // UDP
	f[36], f[37] = 0x12, 0x34 // destination port
	return f
}

// parserMachine sets up a machine for the parser: a packet region holding frame, a context whose
// wide fields point at it, and bpf_map_lookup_elem (helper 1) over a 256-slot array of counters.
func parserMachine(e Engine, frame []byte) (*Machine, *Program, uint64, []byte) {
	counters := make([]byte, 256*8)
	m := NewMachine(e)
	values := m.AddRegion(NewRegion("map value", counters, false))
	helpers := map[int32]Helper{1: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		k, err := m.Bytes(r2, 4, false)
		if err != nil {
			return 0, err
		}
		if key := le.Uint32(k); key < 256 {
			return Address(values, key*8), nil
		}
		return 0, nil
	}}
	p, err := NewProgram(parser(), ProgramOptions{Name: "parser", Helpers: helpers})
	if err != nil {
		panic(err)
	}
	buf := make([]byte, 4096)
	copy(buf[256:], frame)
	pkt := m.AddRegion(Region{Name: "packet", Data: buf, Lo: 256, Hi: 256 + uint32(len(frame))})
	words := make([]byte, 16)
	le.PutUint64(words, Address(pkt, 256))
	le.PutUint64(words[8:], Address(pkt, 256+uint32(len(frame))))
	ctx := m.AddRegion(Region{Name: "ctx", Data: words, WideMask: 0b11})
	return m, p, Address(ctx, 0), counters
}

func BenchmarkParser(b *testing.B) {
	for _, e := range Engines() {
		b.Run(e.Name(), func(b *testing.B) {
			m, p, ctx, counters := parserMachine(e, udpFrame())
			b.ReportAllocs()
			var executed uint64
			cpu0 := cpuTime()
			for b.Loop() {
				if r0, err := m.Run(p, ctx); err != nil || r0 != 2 {
					b.Fatalf("r0 = %d, err = %v", r0, err)
				}
				executed += m.Executed()
			}
			if m.Executed() != 41 || le.Uint64(counters[0x34*8:]) == 0 {
				b.Fatalf("executed %d instructions, want 41; counter %d", m.Executed(), le.Uint64(counters[0x34*8:]))
			}
			reportPerInsn(b, executed, cpu0)
		})
	}
}

// calls is reference program (5), the call-heavy one: 32 rounds of a hash through two levels of
// bpf-to-bpf calls, 15 instructions, two calls and two returns a round.
func calls() []Instruction {
	return []Instruction{
		Make(0xb7, 6, 0, 0, 0),           // r6 = 0
		Make(0xb7, 7, 0, 0, 0),           // r7 = 0
		Make(0xbf, 1, 6, 0, 0),           // loop: r1 = r6
		Make(0xbf, 2, 7, 0, 0),           // r2 = r7
		Make(0x85, 0, PseudoCall, 0, 5),  // call hash
		Make(0xbf, 7, 0, 0, 0),           // r7 = r0
		Make(0x07, 6, 0, 0, 1),           // r6 += 1
		Make(0xa5, 6, 0, -6, 32),         // if r6 < 32 goto loop
		Make(0xbf, 0, 7, 0, 0),           // r0 = r7
		Make(0x95, 0, 0, 0, 0),           // exit
		Make(0x27, 1, 0, 0, -0x61c88647), // hash: r1 *= 0x9e3779b9
		Make(0x85, 0, PseudoCall, 0, 2),  // call mix
		Make(0xa7, 0, 0, 0, 0x7f4a7c15),  // r0 ^= 0x7f4a7c15
		Make(0x95, 0, 0, 0, 0),           // exit
		Make(0xbf, 0, 1, 0, 0),           // mix: r0 = r1
		Make(0x0f, 0, 2, 0, 0),           // r0 += r2
		Make(0x67, 0, 0, 0, 3),           // r0 <<= 3
		Make(0xaf, 0, 1, 0, 0),           // r0 ^= r1
		Make(0x95, 0, 0, 0, 0),           // exit
	}
}

func BenchmarkCalls(b *testing.B) {
	for _, e := range Engines() {
		b.Run(e.Name(), func(b *testing.B) {
			p, err := NewProgram(calls(), ProgramOptions{Name: "calls"})
			if err != nil {
				b.Fatal(err)
			}
			m := NewMachine(e)
			want, err := NewMachine(Interpreter).Run(p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var executed uint64
			cpu0 := cpuTime()
			for b.Loop() {
				if r0, err := m.Run(p); err != nil || r0 != want {
					b.Fatalf("r0 = %d, err = %v", r0, err)
				}
				executed += m.Executed()
			}
			if m.Executed() != 32*15+4 {
				b.Fatalf("executed %d instructions, want %d", m.Executed(), 32*15+4)
			}
			reportPerInsn(b, executed, cpu0)
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
