package replay_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel/runcost"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/simtest"
	"github.com/xdpsim/xdpsim/vm"
)

// The corpus programs whose parallel replay may differ from the sequential one, and why (the
// README's table says the same). Every other corpus program must come out byte for byte the same.
var (
	// Only the instruction counts differ: a packet takes another path when it is the first to see
	// a key of a shared map and inserts it, which depends on which CPU gets there first.
	parallelInsnsDiffer = []string{"vlan", "tcp_flags"}
	// Results may differ: the programs read shared state back and act on it, or update it in ways
	// that lose updates when CPUs run at once (as on the kernel's CPUs).
	parallelDiffers = map[string]string{
		"nat44":        "allocates ports from a shared counter and table",
		"lpm_acl":      "installs its rules on the first packet, whichever CPU runs it",
		"map_in_map":   "caps packets per source with a shared counter it reads back",
		"queue_stack":  "a shared queue and stack keep the order the CPUs pushed in",
		"ringbuf":      "the ring holds records in the order the CPUs reserved them",
		"atomics":      "returns and stores values atomic fetches read",
		"loops":        "keeps the busiest bucket it reads back from .bss",
		"encap":        "numbers outer headers from a shared counter",
		"globals":      "increments .bss counters without atomics: CPUs at once lose updates",
		"udp_echo":     "increments .bss counters without atomics",
		"ipv4_options": "increments a shared array's counters without atomics",
		"ratelimit":    "token buckets in a shared map",
		"hints":        "keeps the last hint seen per class",
		"frags":        "keeps the largest frame and the last sum in .bss",
		"spinlock":     "drops a source's packets once its bytes, counted across CPUs, pass the budget",
		"udp_filter":   "inserts a key's first count when a lookup misses: two CPUs at once lose one",
		"traits":       "inserts a key's first count when a lookup misses",
		"export_skb":   "inserts a key's first count when a lookup misses",
	}
)

// parallelRun replays program p's traces over a 4-queue mlx5 device on 4 CPUs with the given
// number of workers on engine e, and returns every output: JSON lines, -v lines, the map dump and
// the verdict pcaps.
func parallelRun(t *testing.T, p corpus.Program, e vm.Engine, workers int) map[string][]byte {
	t.Helper()
	opts := simtest.Options(p)
	opts.CPUs = 4
	obj, err := sim.Load(p.Object("v4"), opts)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := obj.Program(p.Entry)
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		t.Fatal(err)
	}
	x.Machine().SetEngine(e)
	prof, err := device.LookupProfile("mlx5")
	if err != nil {
		t.Fatal(err)
	}
	x.SetDevice(&device.Netdev{Profile: prof, Queues: 4})
	dir := t.TempDir()
	j, err := replay.NewJSONL(filepath.Join(dir, "packets.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := replay.NewMapsOut(filepath.Join(dir, "maps.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := replay.NewPcapDir(filepath.Join(dir, "pcaps"))
	if err != nil {
		t.Fatal(err)
	}
	var verbose bytes.Buffer
	l := &replay.Loop{Target: replay.Sim{X: x}, CPUs: 4, Workers: workers,
		Sinks: []replay.Sink{replay.NewVerbose(&verbose), j, d, m}}
	var traces []string
	for _, tr := range p.Traces {
		traces = append(traces, corpus.TracePath(tr))
	}
	if err := l.Run(traces...); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"-v": verbose.Bytes()}
	err = filepath.WalkDir(dir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[strings.TrimPrefix(path, dir)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out["stats"] = fmt.Appendf(nil, "%d packets, %d exceptions, verdicts %v", l.Stats.Packets, l.Stats.Exceptions, l.Stats.Verdicts)
	return out
}

var insnsField = regexp.MustCompile(`,"insns":[0-9]+`)

// TestParallelReplayIsTheSequentialReplay replays every corpus program on 2 and 4 workers and in
// order, on the interpreter and the jit, and holds every output of the parallel replays to the
// sequential one's bytes, save what the lists above name. Under -race (go test -race -run
// Parallel ./sim/replay/), it shows the parallel replay free of data races: the loop, the shared
// maps, the per-CPU state, and the interpreter's every load and store of map values.
func TestParallelReplayIsTheSequentialReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: replays the corpus three times over (-short)")
	}
	for _, p := range corpus.Programs() {
		why, differs := parallelDiffers[p.Name]
		insnsOnly := slices.Contains(parallelInsnsDiffer, p.Name)
		engines := []vm.Engine{vm.Interpreter, vm.JIT}
		if differs || insnsOnly {
			// Their programs race for shared values; the interpreter's plain loads and stores
			// of them are data races to the race detector (as they are on the kernel's CPUs).
			engines = []vm.Engine{vm.JIT}
		}
		for _, e := range engines {
			name := fmt.Sprintf("%s on %s", p.Name, e.Name())
			switch {
			case differs:
				name += " runs, and may differ: " + why
			case insnsOnly:
				name += " is the same save instruction counts"
			default:
				name += " is the same byte for byte"
			}
			t.Run(name, func(t *testing.T) {
				want := parallelRun(t, p, e, 1)
				for _, workers := range []int{2, 4} {
					got := parallelRun(t, p, e, workers)
					if !bytes.Equal(got["stats"], want["stats"]) && !differs {
						t.Errorf("%d workers: %s; in order: %s", workers, got["stats"], want["stats"])
					}
					if len(got) != len(want) {
						t.Errorf("%d workers wrote %d outputs, in order %d", workers, len(got), len(want))
					}
					if differs {
						continue
					}
					for name, w := range want {
						g := got[name]
						if insnsOnly && name == "/packets.jsonl" {
							g, w = insnsField.ReplaceAll(g, nil), insnsField.ReplaceAll(w, nil)
						}
						if !bytes.Equal(g, w) {
							t.Errorf("%d workers: %s differs from the sequential replay's (%d and %d bytes)", workers, name, len(g), len(w))
						}
					}
				}
			})
		}
	}
}

// TestParallelReplayNamesTheSameErrors: a trace that ends inside a record and a snapped record
// under SnapError stop a parallel replay as they stop the sequential one, after the same packets
// reached the sinks.
func TestParallelReplayNamesTheSameErrors(t *testing.T) {
	good, err := os.ReadFile(corpus.TracePath("mixed.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// 300 whole frames, then one the capture cut short, then more.
	snapped := filepath.Join(t.TempDir(), "snapped.pcap")
	f, err := os.Create(snapped)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		fr := frame(60+i%200, byte(i))
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(fr), Length: len(fr)}
		if i == 300 {
			ci.Length += 100
		}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	for _, tt := range []struct {
		name   string
		traces []string
		snap   replay.SnapPolicy
	}{
		{"a truncated trace", []string{corpus.TracePath("vlan.pcap"), cut}, replay.SnapReport},
		{"a snapped record under SnapError", []string{corpus.TracePath("mixed.pcap"), snapped}, replay.SnapError},
	} {
		t.Run(tt.name+" stops the replay at the same record", func(t *testing.T) {
			run := func(workers int) (string, int, error) {
				_, x := newSim(t, "eth_stats", sim.LoadOptions{CPUs: 2})
				prof, _ := device.LookupProfile("mlx5")
				x.SetDevice(&device.Netdev{Profile: prof, Queues: 2})
				var v bytes.Buffer
				l := &replay.Loop{Target: replay.Sim{X: x}, CPUs: 2, Workers: workers, Snapped: tt.snap, Sinks: []replay.Sink{replay.NewVerbose(&v)}}
				err := l.Run(tt.traces...)
				return v.String(), l.Stats.Packets, err
			}
			wantOut, wantN, wantErr := run(1)
			gotOut, gotN, gotErr := run(2)
			var te *replay.TraceError
			if !errors.As(wantErr, &te) {
				t.Fatalf("the sequential replay ended with %v, want a trace error", wantErr)
			}
			if gotErr == nil || gotErr.Error() != wantErr.Error() || gotN != wantN || gotOut != wantOut {
				t.Errorf("parallel: %d packets, %d bytes of -v, error %v; in order: %d packets, %d bytes, error %v", gotN, len(gotOut), gotErr, wantN, len(wantOut), wantErr)
			}
		})
	}
}

// failAt is a sink that fails at packet n.
type failAt struct {
	n    int
	seen []int
}

func (f *failAt) Packet(p *replay.Packet) error {
	f.seen = append(f.seen, p.N)
	if p.N == f.n {
		return fmt.Errorf("sink refuses packet %d", p.N)
	}
	return nil
}

// TestParallelReplayStopsAtASinkError: the sinks see the packets up to the one a sink refuses, in
// order, and no more.
func TestParallelReplayStopsAtASinkError(t *testing.T) {
	_, x := newSim(t, "eth_stats", sim.LoadOptions{CPUs: 4})
	prof, _ := device.LookupProfile("mlx5")
	x.SetDevice(&device.Netdev{Profile: prof, Queues: 4})
	f := &failAt{n: 1000}
	l := &replay.Loop{Target: replay.Sim{X: x}, CPUs: 4, Workers: 4, Sinks: []replay.Sink{f}}
	err := l.Run(corpus.TracePath("mixed.pcap"))
	if err == nil || !strings.Contains(err.Error(), "refuses packet 1000") {
		t.Fatalf("error %v", err)
	}
	if len(f.seen) != 1000 || f.seen[0] != 1 || f.seen[999] != 1000 || !slices.IsSorted(f.seen) {
		t.Errorf("the sink saw %d packets, last %d", len(f.seen), f.seen[len(f.seen)-1])
	}
}

// forkCounter is a simulator target that counts its forks.
type forkCounter struct {
	replay.Sim
	forks *int
}

func (f forkCounter) Fork() (replay.Target, error) {
	*f.forks++
	return f.Sim.Fork()
}

// TestParallelReplayRunsInOrderWhenItMust: a tracer sees every instruction of a packet as it runs,
// so a loop with one runs in order; so does a loop over one CPU or one RX queue, whose packets
// must run in order anyway. None forks the target.
func TestParallelReplayRunsInOrderWhenItMust(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cpus  int
		trace bool
	}{
		{"with a tracer", 4, true},
		{"on one CPU", 1, false},
		{"on one RX queue", 4, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, x := newSim(t, "eth_stats", sim.LoadOptions{CPUs: tt.cpus})
			if tt.name != "on one RX queue" {
				prof, _ := device.LookupProfile("mlx5")
				x.SetDevice(&device.Netdev{Profile: prof, Queues: 4})
			}
			forks := 0
			l := &replay.Loop{Target: forkCounter{replay.Sim{X: x}, &forks}, CPUs: tt.cpus, Workers: 4}
			if tt.trace {
				l.Sinks = []replay.Sink{replay.NewTrace(&bytes.Buffer{}, x.Machine())}
				l.Select = func(n int) bool { return n == 1 }
			}
			if err := l.Run(corpus.TracePath("vlan.pcap")); err != nil {
				t.Fatal(err)
			}
			if forks != 0 {
				t.Errorf("the target forked %d times", forks)
			}
		})
	}
	t.Run("but four queues on four CPUs run on four goroutines", func(t *testing.T) {
		_, x := newSim(t, "eth_stats", sim.LoadOptions{CPUs: 4})
		prof, _ := device.LookupProfile("mlx5")
		x.SetDevice(&device.Netdev{Profile: prof, Queues: 4})
		forks := 0
		l := &replay.Loop{Target: forkCounter{replay.Sim{X: x}, &forks}, CPUs: 4, Workers: 8}
		if err := l.Run(corpus.TracePath("vlan.pcap")); err != nil {
			t.Fatal(err)
		}
		if forks != 3 {
			t.Errorf("the target forked %d times, want 3", forks)
		}
	})
}

// BenchmarkParallelReplay shows how a parallel replay scales: it replays the mixed trace, five
// times over, through a corpus program on a 4-queue mlx5 device with 4 CPUs (eth_stats and
// icmp_echo, a few hundred nanoseconds a packet, where the replay's own work weighs most; loops,
// about 3,900 instructions a packet, where the program's dominates), in order and on one
// goroutine per core (GOMAXPROCS), the two alternating in every iteration so that their ratio comes
// from the same moments of a noisy machine. It reports each one's wall time per packet, the
// process's CPU time per packet (what the parallel replay costs beyond the sequential one) and
// x-speedup, the in-order wall time over the parallel wall time, which only a machine with cores
// to spare can raise.
func BenchmarkParallelReplay(b *testing.B) {
	trace := filepath.Join(b.TempDir(), "mixed5.pcap")
	simtest.RepeatTrace(b, corpus.TracePath("mixed.pcap"), trace, 5)
	prof, err := device.LookupProfile("mlx5")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"eth_stats", "icmp_echo", "loops"} {
		b.Run(name, func(b *testing.B) {
			_, x := newSim(b, name, sim.LoadOptions{CPUs: 4})
			x.SetDevice(&device.Netdev{Profile: prof, Queues: 4})
			workers := runtime.GOMAXPROCS(0)
			var seq, par, seqCPU, parCPU time.Duration
			pkts := 0
			for b.Loop() {
				for _, w := range []int{1, workers} {
					l := &replay.Loop{Target: replay.Sim{X: x}, CPUs: 4, Workers: w}
					t0, c0 := time.Now(), runcost.ProcessCPU()
					if err := l.Run(trace); err != nil {
						b.Fatal(err)
					}
					wall, cpu := time.Since(t0), runcost.ProcessCPU()-c0
					if w == 1 {
						seq, seqCPU = seq+wall, seqCPU+cpu
						pkts += l.Stats.Packets
					} else {
						par, parCPU = par+wall, parCPU+cpu
					}
				}
			}
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(pkts) }
			b.ReportMetric(per(seq), "seq-ns/packet")
			b.ReportMetric(per(par), "par-ns/packet")
			b.ReportMetric(per(seqCPU), "seq-cpu-ns/packet")
			b.ReportMetric(per(parCPU), "par-cpu-ns/packet")
			b.ReportMetric(float64(seq)/float64(par), "x-speedup")
			b.ReportMetric(float64(workers), "workers")
			b.ReportMetric(0, "ns/op")
		})
	}
}
