// Package gentrace makes the corpus traces: a deterministic generator of Ethernet pcap files
// (nanosecond timestamps, fixed seeds, fixed start time). The same inputs give the same bytes on
// every machine, which a test of the corpus checks against the committed traces.
package gentrace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Start is the timestamp of the first packet of the first trace.
var Start = time.Date(2024, time.March, 1, 12, 0, 0, 0, time.UTC)

// SnapLen is the snapshot length written into every trace header.
const SnapLen = 65535

// Trace describes one generated trace file.
type Trace struct {
	Name    string // file name, e.g. "mixed.pcap"
	Packets int    // records in the file
	seed    uint64
	fill    func(g *gen)
}

// Traces lists the traces in the order they are written.
func Traces() []Trace {
	return []Trace{
		{Name: "mixed.pcap", Packets: 4000, seed: 1, fill: fillMixed},
		{Name: "vlan.pcap", Packets: 400, seed: 2, fill: fillVLAN},
		{Name: "ipv6ext.pcap", Packets: 400, seed: 3, fill: fillIPv6Ext},
		{Name: "jumbo.pcap", Packets: 200, seed: 4, fill: fillJumbo},
		{Name: "malformed.pcap", Packets: 400, seed: 5, fill: fillMalformed},
	}
}

// Frames generates the frames of one trace.
func (t Trace) Frames() [][]byte {
	g := &gen{r: rand.New(rand.NewPCG(0x78647073696d, t.seed)), want: t.Packets}
	g.nat.ports = map[natKey]uint16{}
	for len(g.frames) < t.Packets {
		t.fill(g)
	}
	return g.frames[:t.Packets]
}

// Pcap renders the trace as a pcap file (Ethernet, nanosecond timestamps). start is the time of
// its first packet; the gaps between packets come from the trace's own random stream.
func (t Trace) Pcap(start time.Time) ([]byte, error) {
	frames := t.Frames()
	r := rand.New(rand.NewPCG(0x74696d65, t.seed)) // "time"
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(SnapLen, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	ts := start
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		// 1 µs to about 2 ms between packets, at nanosecond resolution
		ts = ts.Add(time.Duration(1000 + r.IntN(2_000_000)))
	}
	return buf.Bytes(), nil
}

// WriteAll writes every trace into dir. Each trace starts one hour after the previous one.
func WriteAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, t := range Traces() {
		data, err := t.Pcap(Start.Add(time.Duration(i) * time.Hour))
		if err != nil {
			return err
		}
		if err := writeTrace(dir, t.Name, data); err != nil {
			return err
		}
	}
	return nil
}

// writeTrace writes a trace file whole: beside its name first, renamed when complete.
func writeTrace(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

type gen struct {
	r        *rand.Rand
	frames   [][]byte
	want     int
	nat      natModel
	flows    []flow4 // TCP flows of mixed.pcap
	udpFlows []flow4
}

func (g *gen) add(f ...[]byte) {
	for _, x := range f {
		g.nat.observe(x)
		g.frames = append(g.frames, x)
	}
}

func (g *gen) intn(n int) int        { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) u16() uint16           { return uint16(g.r.Uint32()) }
func (g *gen) u32() uint32           { return g.r.Uint32() }

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func pick[T any](g *gen, xs ...T) T { return xs[g.intn(len(xs))] }

// weighted runs one of fs, chosen with the given weights.
func (g *gen) weighted(choices []choice) {
	total := 0
	for _, c := range choices {
		total += c.weight
	}
	n := g.intn(total)
	for _, c := range choices {
		if n < c.weight {
			c.fn(g)
			return
		}
		n -= c.weight
	}
}

type choice struct {
	weight int
	fn     func(g *gen)
}
