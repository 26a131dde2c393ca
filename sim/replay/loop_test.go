package replay_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

func newSim(tb testing.TB, name string, opts sim.LoadOptions) (*sim.Object, *sim.XDP) {
	tb.Helper()
	p, ok := corpus.Lookup(name)
	if !ok {
		tb.Fatalf("no corpus program %s", name)
	}
	obj, err := sim.Load(p.Object("v4"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := obj.FindProgram(p.Entry)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		tb.Fatal(err)
	}
	return obj, x
}

// recording is a sink that keeps what it saw.
type recording struct {
	n        []int
	cpus     []int
	times    []uint64
	verdicts []string
	selected []bool
}

func (r *recording) Packet(p *replay.Packet) error {
	r.n = append(r.n, p.N)
	r.cpus = append(r.cpus, p.Cond.CPU)
	r.times = append(r.times, p.Cond.TimeNs)
	r.verdicts = append(r.verdicts, p.Verdict)
	r.selected = append(r.selected, p.Selected)
	return nil
}

func TestLoopConditions(t *testing.T) {
	t.Run("packets are numbered across traces and get their record's time", func(t *testing.T) {
		_, x := newSim(t, "eth_stats", sim.LoadOptions{})
		rec := &recording{}
		l := &replay.Loop{Target: replay.Sim{X: x}, Sinks: []replay.Sink{rec}}
		if err := l.Run(corpus.TracePath("vlan.pcap"), corpus.TracePath("ipv6ext.pcap")); err != nil {
			t.Fatal(err)
		}
		if len(rec.n) != 800 || rec.n[0] != 1 || rec.n[799] != 800 {
			t.Fatalf("%d packets numbered %d..%d, want 800 numbered 1..800", len(rec.n), rec.n[0], rec.n[len(rec.n)-1])
		}
		// gentrace starts vlan.pcap at 13:00 and ipv6ext.pcap at 14:00 of the same day (UTC).
		if rec.times[0]%(3600*1e9) != 0 || rec.times[400]-rec.times[0] != 3600*1e9 {
			t.Errorf("times %d and %d are not the traces' first records' times", rec.times[0], rec.times[400])
		}
		if l.Stats.Packets != 800 || l.Stats.Count("XDP_PASS")+l.Stats.Count("XDP_DROP")+l.Stats.Count(replay.VerdictRefused) != 800 {
			t.Errorf("stats %+v do not add up to 800 packets", l.Stats)
		}
	})
	t.Run("a packet runs on its RX queue's CPU", func(t *testing.T) {
		_, x := newSim(t, "eth_stats", sim.LoadOptions{CPUs: 4})
		rec := &recording{}
		l := &replay.Loop{Target: replay.Sim{X: x}, CPUs: 4, Conditions: sim.Conditions{RxQueue: 6}, Sinks: []replay.Sink{rec}}
		if err := l.Run(corpus.TracePath("vlan.pcap")); err != nil {
			t.Fatal(err)
		}
		if rec.cpus[0] != 2 {
			t.Errorf("queue 6 of 4 CPUs ran on CPU %d, want 2", rec.cpus[0])
		}
	})
	t.Run("a selection marks packets for the per-packet outputs; all packets run", func(t *testing.T) {
		_, x := newSim(t, "eth_stats", sim.LoadOptions{})
		rec := &recording{}
		l := &replay.Loop{Target: replay.Sim{X: x}, Select: func(n int) bool { return n == 3 }, Sinks: []replay.Sink{rec}}
		if err := l.Run(corpus.TracePath("vlan.pcap")); err != nil {
			t.Fatal(err)
		}
		if len(rec.n) != 400 || !rec.selected[2] || rec.selected[1] || rec.selected[3] {
			t.Errorf("%d packets ran; selected 2,3,4: %v %v %v", len(rec.n), rec.selected[1], rec.selected[2], rec.selected[3])
		}
	})
}

func TestLoopSnappedRecords(t *testing.T) {
	recs := []ngRecord{{0, frame(60, 1), 0}, {0, frame(96, 2), 1514}, {0, frame(60, 3), 0}}
	for _, tc := range []struct {
		policy  replay.SnapPolicy
		name    string
		verdict string
		errText string
	}{
		{replay.SnapReport, "by default a snapped record is not run and is counted as snapped", replay.VerdictSnapped, ""},
		{replay.SnapRun, "with SnapRun the captured bytes run", "XDP_PASS", ""},
		{replay.SnapError, "with SnapError the run stops naming the record", "", "record 2: snapped: 96 of 1514 bytes captured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeNg(t, []layers.LinkType{layers.LinkTypeEthernet}, recs)
			_, x := newSim(t, "eth_stats", sim.LoadOptions{})
			rec := &recording{}
			l := &replay.Loop{Target: replay.Sim{X: x}, Snapped: tc.policy, Sinks: []replay.Sink{rec}}
			err := l.Run(path)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("error %v, want one saying %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.verdicts) != 3 || rec.verdicts[1] != tc.verdict || rec.verdicts[0] != "XDP_PASS" {
				t.Errorf("verdicts %v, want packet 2 %s", rec.verdicts, tc.verdict)
			}
		})
	}
}

// TestLoopDoesNotAllocatePerPacket holds the whole loop (reading, conditions, the simulator, the
// counts) to DESIGN.md's rule: the allocations of a replay do not grow with its packets.
func TestLoopDoesNotAllocatePerPacket(t *testing.T) {
	_, x := newSim(t, "eth_stats", sim.LoadOptions{})
	trace := corpus.TracePath("mixed.pcap")
	mallocs := func(traces ...string) uint64 {
		l := &replay.Loop{Target: replay.Sim{X: x}}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := l.Run(traces...); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	mallocs(trace) // warm up
	one, three := mallocs(trace), mallocs(trace, trace, trace)
	// Opening a trace costs a few allocations; its 4,000 packets must cost none.
	perTrace := float64(three-one) / 2
	if perPacket := (float64(one) - perTrace) / 4000; perTrace > 100 || perPacket > 0.01 {
		t.Errorf("a replay of 4000 packets made %d allocations, three made %d: %.0f per trace, %.3f per packet", one, three, perTrace, perPacket)
	}
}

// BenchmarkReplay replays the mixed trace through a parser end to end (reading the pcap, conditions,
// the run, the counts) and reports packets per second and allocations per packet; "run only" runs
// the same packets from memory, so the ratio of the two is the loop's own cost.
func BenchmarkReplay(b *testing.B) {
	trace := corpus.TracePath("mixed.pcap")
	b.Run("loop", func(b *testing.B) {
		_, x := newSim(b, "eth_stats", sim.LoadOptions{})
		b.ReportAllocs()
		pkts := 0
		for b.Loop() {
			l := &replay.Loop{Target: replay.Sim{X: x}}
			if err := l.Run(trace); err != nil {
				b.Fatal(err)
			}
			pkts += l.Stats.Packets
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/packet")
	})
	b.Run("loop with JSON lines", func(b *testing.B) {
		_, x := newSim(b, "eth_stats", sim.LoadOptions{})
		b.ReportAllocs()
		pkts := 0
		for b.Loop() {
			j, err := replay.NewJSONL(os.DevNull, nil)
			if err != nil {
				b.Fatal(err)
			}
			l := &replay.Loop{Target: replay.Sim{X: x}, Sinks: []replay.Sink{j}}
			if err := l.Run(trace); err != nil {
				b.Fatal(err)
			}
			pkts += l.Stats.Packets
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/packet")
	})
	b.Run("run only", func(b *testing.B) {
		_, x := newSim(b, "eth_stats", sim.LoadOptions{})
		var frames [][]byte
		r, err := replay.Open(trace)
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			frames = append(frames, append([]byte(nil), rec.Data...))
		}
		r.Close()
		b.ReportAllocs()
		pkts := 0
		for b.Loop() {
			for _, f := range frames {
				x.Run(f, nil, sim.Conditions{})
			}
			pkts += len(frames)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/packet")
	})
}

// TestReplayDoesNotAllocatePerPacket holds the whole replay (reading the trace, the run, the
// counts, the JSON lines and the pcaps) to no allocation per packet: replaying a trace six times
// over allocates no more than replaying it twice, save a few allocations of the runtime's own.
func TestReplayDoesNotAllocatePerPacket(t *testing.T) {
	dir := t.TempDir()
	mixed := corpus.TracePath("mixed.pcap")
	short, long := filepath.Join(dir, "short.pcap"), filepath.Join(dir, "long.pcap")
	nShort := simtest.RepeatTrace(t, mixed, short, 2)
	nLong := simtest.RepeatTrace(t, mixed, long, 6)
	for _, outputs := range []string{"no outputs", "JSON lines and pcaps"} {
		t.Run("with "+outputs, func(t *testing.T) {
			_, x := newSim(t, "eth_stats", sim.LoadOptions{})
			replayAllocs := func(trace string) uint64 {
				l := &replay.Loop{Target: replay.Sim{X: x}}
				if outputs != "no outputs" {
					j, err := replay.NewJSONL(os.DevNull, nil)
					if err != nil {
						t.Fatal(err)
					}
					d, err := replay.NewPcapDir(t.TempDir())
					if err != nil {
						t.Fatal(err)
					}
					l.Sinks = []replay.Sink{j, d}
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.Mallocs
				if err := l.Run(trace); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&ms)
				return ms.Mallocs - before
			}
			replayAllocs(short) // warm the machine and the buffers
			a, b := replayAllocs(short), replayAllocs(long)
			if b > a+10 {
				t.Errorf("%d packets allocated %d times, %d packets %d times: %.3f allocations per packet, want 0",
					nShort, a, nLong, b, float64(b-a)/float64(nLong-nShort))
			}
		})
	}
}
