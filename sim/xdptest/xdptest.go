// Package xdptest runs an XDP program in Go tests and fuzz tests: load a clang-built object once,
// then run packets through its program, each from the same map state, and check what comes out.
//
//	func FuzzParser(f *testing.F) {
//		p := xdptest.Load(f, "parser.o")
//		p.AddSeeds(f, "testdata/traffic.pcap")
//		f.Fuzz(func(t *testing.T, pkt []byte) {
//			p.Run(t, pkt) // fails t on a fault, XDP_ABORTED, a malformed frame out, ...
//		})
//	}
//
// Under go test -fuzz, a Program steers Go's fuzzer by the BPF program's own coverage: the edges
// of its branches, how often they ran, and how close the comparison an input's path ends on came
// to going the other way. The simulator's Go code is instrumented too, but what it counts is
// hidden from the fuzzer, so that new paths through the interpreter no longer pass for new
// behaviour of the program (see the internal fuzzcov package). Each input also brings its
// neighbours: the packet with the bytes its last comparison compared set to a value that takes it
// the other way (see RunInput). No flags are needed.
//
// In a go test -fuzz worker process (not in the coordinator, nor in plain go test), loading a
// program sets GOMAXPROCS to 1 unless the GOMAXPROCS environment variable is set: Go's fuzzer runs
// every input on a new goroutine and waits for it, and with a second P the runtime often wakes
// another thread to run it, which cost a quarter of the inputs a 40-instruction parser gets through.
//
// Every input starts from the maps as they were after Load (or the last Snapshot), with the random
// number generator reseeded, so a failing input fails again when run alone, and in xdpsim: set
// XDPTEST_PCAP to a file name and run the failing input again (go test -run=FuzzX/ID) to get it as a
// pcap for xdpsim run and xdpsim diff.
package xdptest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/xdptest/internal/fuzzcov"
	"github.com/xdpsim/xdpsim/vm"
)

// Program is an XDP program loaded for tests. It runs one input at a time: use it from one
// goroutine (a fuzz target's inputs come one at a time).
type Program struct {
	// Object is the loaded object; its maps can be filled before the first Run (then call
	// Snapshot) and read after any Run.
	Object *sim.Object
	// Prog is the program that runs.
	Prog *sim.Program

	x    *sim.XDP
	loop replay.Loop
	rec  replay.Record
	// The neighbours of the input running, and two buffers for the packets they go on from.
	nbuf          [][]byte
	cur, next     []byte
	ranNeighbours bool
	path          string
	snaps         []*maps.Snapshot
	cfg           config
	cov           *vm.Coverage // the coverage of the last run
	total         *vm.Coverage // everything run since CollectCoverage, or nil
	feats         *features    // the program's features, from cov
	guide         bool         // steering go test -fuzz (fuzzcov.Active)
	solve         bool         // RunInput also runs an input's neighbours
}

// Option changes how Load loads and runs a program.
type Option func(*config)

type config struct {
	prog   string
	load   sim.LoadOptions
	checks []Check
	budget uint64
	seed   uint64
	cond   sim.Conditions
	device *device.Netdev
	engine vm.Engine
	exact  bool
}

// WithProgram picks the program by function or section name (default: the object's only XDP
// program).
func WithProgram(name string) Option { return func(c *config) { c.prog = name } }

// WithLoadOptions loads the object with o (variables set before load, map sizes, features, ...).
func WithLoadOptions(o sim.LoadOptions) Option { return func(c *config) { c.load = o } }

// WithChecks replaces the checks every input must pass (DefaultChecks) by checks.
func WithChecks(checks ...Check) Option { return func(c *config) { c.checks = checks } }

// WithBudget limits the instructions one input may run (default 1,000,000: far more than any
// program the kernel accepts runs on one packet). A program that runs out faults.
func WithBudget(n uint64) Option { return func(c *config) { c.budget = n } }

// WithSeed seeds bpf_get_prandom_u32 afresh for every input (default 1, as xdpsim run starts).
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithConditions sets the conditions packets run under (ingress ifindex, time); an Input's
// RxQueue gives the queue, and the queue the CPU (as in xdpsim run: queue mod the object's CPUs).
// Default: BPF_PROG_TEST_RUN's (ingress ifindex 1, time 0).
func WithConditions(cond sim.Conditions) Option { return func(c *config) { c.cond = cond } }

// WithEngine runs the program on engine e (vm.Interpreter, vm.Closures, ...). Every engine gives
// the same results and the same coverage; the default is the compiled-blocks engine, which
// records coverage a block at a time rather than an instruction at a time.
func WithEngine(e vm.Engine) Option { return func(c *config) { c.engine = e } }

// WithExactInputs makes Run and RunInput run the input alone, not its neighbours (see RunInput).
func WithExactInputs() Option { return func(c *config) { c.exact = true } }

// WithDevice makes packets arrive on a simulated NIC (RX-metadata hints, RSS, VLAN offload; see
// sim/device).
func WithDevice(d *device.Netdev) Option { return func(c *config) { c.device = d } }

// Load loads the object file at path and prepares its program, as Open does; it stops the test
// (tb.Fatal) if it cannot. tb is usually the *testing.F of a fuzz target or the *testing.T of a
// test.
func Load(tb testing.TB, path string, opts ...Option) *Program {
	tb.Helper()
	p, err := Open(path, opts...)
	if err != nil {
		tb.Fatalf("xdptest: %v", err)
	}
	return p
}

// LoadBytes is Load for an object held in memory (say, one embedded with go:embed); name names it
// in messages.
func LoadBytes(tb testing.TB, name string, elf []byte, opts ...Option) *Program {
	tb.Helper()
	p, err := OpenBytes(name, elf, opts...)
	if err != nil {
		tb.Fatalf("xdptest: %v", err)
	}
	return p
}

// Open loads the object file at path and prepares its program, outside a test.
func Open(path string, opts ...Option) (*Program, error) {
	cfg := configure(opts)
	obj, err := sim.Load(path, cfg.load)
	if err != nil {
		return nil, err
	}
	return newProgram(obj, path, cfg)
}

// OpenBytes is Open for an object held in memory; name names it in messages.
func OpenBytes(name string, elf []byte, opts ...Option) (*Program, error) {
	cfg := configure(opts)
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(elf))
	if err != nil {
		return nil, fmt.Errorf("%s: not a loadable BPF object: %w", name, err)
	}
	obj, err := sim.LoadSpec(name, spec, cfg.load)
	if err != nil {
		return nil, err
	}
	return newProgram(obj, name, cfg)
}

func configure(opts []Option) config {
	cfg := config{checks: DefaultChecks, budget: 1_000_000, seed: 1, cond: sim.Conditions{IngressIfindex: 1}, engine: vm.Closures}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func newProgram(obj *sim.Object, path string, cfg config) (*Program, error) {
	prog, err := obj.FindProgram(cfg.prog)
	if err != nil {
		return nil, err
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		return nil, err
	}
	x.Machine().SetBudget(cfg.budget)
	x.Machine().SetEngine(cfg.engine)
	if cfg.device != nil {
		x.SetDevice(cfg.device)
	}
	runOnOneThread()
	p := &Program{Object: obj, Prog: prog, x: x, path: path, cfg: cfg}
	// Inputs run through the replay loop, so that their conditions are those xdpsim run gives a
	// packet: the time, the RX queue and the CPU it maps to.
	p.loop = replay.Loop{Target: replay.Sim{X: x}, Conditions: cfg.cond, CPUs: cfg.load.CPUs}
	p.rec = replay.Record{Time: time.Unix(0, int64(cfg.cond.TimeNs)), Index: 1, File: path}
	p.cov, p.feats, p.guide, p.solve = vm.NewCoverage(), newFeatures(obj), fuzzcov.Active(), !cfg.exact
	x.Machine().SetCoverage(p.cov)
	p.Snapshot()
	return p, nil
}

// Snapshot makes the maps as they are now the state every later input starts from (Load takes
// the first one). Fill maps through p.Object.Maps, then call Snapshot.
func (p *Program) Snapshot() {
	p.snaps = p.snaps[:0]
	for _, m := range p.Object.MapOrder() {
		p.snaps = append(p.snaps, m.Snapshot())
	}
}

// Input is one input to a program: a packet and what else a fuzz target may vary.
type Input struct {
	// Packet is the frame, from the Ethernet header on.
	Packet []byte
	// Meta is XDP metadata in front of the packet (a multiple of 4 bytes, at most 216).
	Meta []byte
	// RxQueue is the queue the packet arrives on (xdp_md.rx_queue_index), unless a device
	// spreads packets over queues itself.
	RxQueue uint32
	// Maps are written into the maps after they are restored, before the packet runs.
	Maps []MapEntry
}

// MapEntry is a value to put into a map (with BPF_ANY; for per-CPU maps, into every CPU's value).
type MapEntry struct {
	Map        string
	Key, Value []byte
}

// Run runs one packet, as Input{Packet: pkt}, and returns what happened (see RunInput).
func (p *Program) Run(t testing.TB, pkt []byte) sim.Outcome {
	growStack()
	out, failure := p.runChecked(Input{Packet: pkt})
	if failure != "" {
		// Helper costs a stack walk: only a failing input pays it.
		t.Helper()
		t.Errorf("%s", failure)
	}
	return out
}

// RunInput restores the maps, runs the input and checks the outcome against the checks (by
// default DefaultChecks), failing t (t.Errorf) with every check that fails. A packet the kernel
// would refuse (shorter than an Ethernet header, say) is not run; the outcome's Err says why and
// checks do not fail it. The outcome (its Data and Meta valid until the next run) and the maps
// afterwards are the input's.
//
// RunInput also runs the input's neighbours (unless WithExactInputs): it takes the last comparison
// the program made on the packet and runs the packet with the bytes that held the tested value
// (where they occur, up to four places, in either byte order) changed to a value that takes the
// comparison the other way: the value an equality test tested for, or an ordering test's bound and
// the value past it, as the fuzzers REDQUEEN and AFL++'s CmpLog do. Go's fuzzer cannot learn from
// the program's comparisons itself; this way a magic value is met at once rather than a bit at a
// time; a neighbour that gets past the comparison brings neighbours of its own, up to three
// comparisons deep (at most ten runs an input). A neighbour that fails is reported with its bytes
// (it is what XDPTEST_PCAP writes), and since neighbours follow from the input alone, the input
// fails again whenever it runs.
func (p *Program) RunInput(t testing.TB, in Input) sim.Outcome {
	growStack()
	out, failure := p.runChecked(in)
	if failure != "" {
		t.Helper()
		t.Errorf("%s", failure)
	}
	return out
}

// runChecked runs an input (and its neighbours) with the checks and describes a failure, "" if
// none.
func (p *Program) runChecked(in Input) (sim.Outcome, string) {
	out, failed, msgs, err := p.run(in, p.cfg.checks, p.solve)
	if err != nil {
		return out, "xdptest: " + err.Error()
	}
	if len(msgs) > 0 {
		return out, p.failure(in, failed, msgs)
	}
	return out, ""
}

// stackNeed makes growStack grow a goroutine's stack to 16 KiB, the largest size the runtime keeps
// per-P caches of: more than a run takes (BenchmarkFuzzInput's profile shows no growth below),
// without a large stack's allocation from the heap.
const stackNeed = 10 << 10

// growStack grows the goroutine's stack, while it is still shallow, to what a run needs: go test
// -fuzz calls the fuzz function on a new goroutine (of a 2 KiB stack) for every input, and the
// run would otherwise grow it twice more from deep in the simulator, each time copying and
// adjusting every frame (a quarter of xdptest's time per input, measured with
// BenchmarkFuzzInput). Growing it once here, first thing, costs a copy of a few frames.
//
//go:noinline
func growStack() byte {
	var pad [stackNeed]byte
	return pad[stackIndex%stackNeed] // (an index the compiler cannot know keeps the array)
}

var stackIndex = stackNeed - 1

// Outcome runs an input alone, without checks and without a test: the outcome, or an error for an
// input that cannot be set up (a map entry that does not fit its map).
func (p *Program) Outcome(in Input) (sim.Outcome, error) {
	out, _, _, err := p.run(in, nil, false)
	return out, err
}

// run runs an input with the checks and, with solve, its neighbours (see RunInput); it returns the
// input's outcome, and the input that failed (the input or a neighbour) with its problems. The
// features of every run it made are in p.feats.pending. Under go test -fuzz, all of it happens
// with the fuzzer's counters masked (the simulator's and the checks' own branches would otherwise
// pass for coverage too); the program's features are shown to the fuzzer afterwards.
func (p *Program) run(in Input, checks []Check, solve bool) (out sim.Outcome, failed Input, msgs []string, err error) {
	if p.guide {
		fuzzcov.Mask()
	}
	p.feats.pending = p.feats.pending[:0]
	out, msgs, err = p.once(in, checks, true)
	failed = in
	if solve && err == nil && len(msgs) == 0 {
		if f, fmsgs := p.neighbours(in, checks); f != nil {
			failed, msgs = *f, fmsgs
		}
		if p.ranNeighbours {
			// The outcome and the maps are the input's again.
			out, _, _ = p.once(in, nil, false)
		}
	}
	if p.guide {
		fuzzcov.Unmask()
		p.feats.show()
	}
	return out, failed, msgs, err
}

// Neighbours go at most maxDepth comparisons past the input's, in at most maxSolveRuns runs.
const (
	maxDepth     = 3
	maxSolveRuns = 10
)

// neighbours runs the input's neighbours (see RunInput), and theirs: when a neighbour takes the
// comparison the other way, the neighbours of the comparison its path ends on then run too, up to
// maxDepth comparisons deep. It returns the first that fails the checks, with its problems.
func (p *Program) neighbours(in Input, checks []Check) (*Input, []string) {
	p.ranNeighbours = false
	cmp, ok := p.cov.LastComparison()
	if !ok {
		return nil, nil
	}
	cur := in.Packet // read only: the neighbours are copies
	runs := 0
	for range maxDepth {
		// Which way the comparison went, so that a neighbour that goes the other way goes on.
		taken, fell := cmp.Rec.Branch(cmp.PC)
		if taken != 0 && fell != 0 {
			return nil, nil // it went both ways (a loop): no other way to take
		}
		p.nbuf = neighbours(cur, cmp, p.nbuf[:0])
		var next vm.Comparison
		found := false
		for _, pkt := range p.nbuf {
			if runs == maxSolveRuns {
				return nil, nil
			}
			runs++
			p.ranNeighbours = true
			nb := in
			nb.Packet = pkt
			_, nmsgs, nerr := p.once(nb, checks, true)
			if nerr == nil && len(nmsgs) > 0 {
				failed := nb // (a copy, so that nb need not live on the heap)
				failed.Packet = append([]byte(nil), pkt...)
				return &failed, nmsgs
			}
			nt, nf := cmp.Rec.Branch(cmp.PC)
			if c, ok := p.cov.LastComparison(); ok && !found && (taken == 0 && nt != 0 || fell == 0 && nf != 0) {
				next, found = c, true
				p.next = append(p.next[:0], pkt...)
			}
		}
		if !found {
			return nil, nil
		}
		// The packet goes on from the neighbour that went on (a copy: p.nbuf is rewritten).
		cmp, cur = next, p.next
		p.cur, p.next = p.next, p.cur
	}
	return nil, nil
}

// once restores the maps and runs one input with the checks, adding its features to
// p.feats.pending when record is set.
func (p *Program) once(in Input, checks []Check, record bool) (out sim.Outcome, msgs []string, err error) {
	p.cov.Reset()
	for _, s := range p.snaps {
		s.Restore()
	}
	for _, e := range in.Maps {
		if err = p.setEntry(e); err != nil {
			return out, nil, err
		}
	}
	p.x.SetSeed(p.cfg.seed)
	p.loop.Conditions.RxQueue = in.RxQueue
	p.rec.Data, p.rec.OrigLen, p.rec.Meta = in.Packet, len(in.Packet), in.Meta
	pkt, err := p.loop.Packet(&p.rec)
	if err != nil {
		return out, nil, err
	}
	out = pkt.Outcome
	for _, c := range checks {
		if cerr := c(in, out); cerr != nil {
			msgs = append(msgs, cerr.Error())
		}
	}
	if record {
		p.feats.collect(p.cov, &out)
		if p.total != nil {
			p.total.Merge(p.cov)
		}
	}
	return out, msgs, nil
}

func (p *Program) setEntry(e MapEntry) error {
	m := p.Object.Maps[e.Map]
	if m == nil {
		return fmt.Errorf("input: no map %q in %s", e.Map, p.path)
	}
	var err error
	if m.PerCPU() {
		vals := make([][]byte, m.NumCPU())
		for i := range vals {
			vals[i] = e.Value
		}
		err = m.UpdatePerCPU(e.Key, vals, maps.UpdateAny)
	} else {
		err = m.Update(e.Key, e.Value, maps.UpdateAny, 0)
	}
	if err != nil {
		return fmt.Errorf("input: map %s, key %x: %w", e.Map, e.Key, err)
	}
	return nil
}

// PcapEnv names the environment variable that makes a failing input write its packet to a pcap
// file (the variable's value), for xdpsim run and xdpsim diff.
const PcapEnv = "XDPTEST_PCAP"

func (p *Program) failure(orig, in Input, msgs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "xdptest: %s: %s\n", p.Prog.Name, strings.Join(msgs, "; "))
	if !bytes.Equal(orig.Packet, in.Packet) {
		fmt.Fprintf(&b, "  found from the input %x: the bytes its last comparisons compared, set to take them the other way\n", orig.Packet)
	}
	fmt.Fprintf(&b, "  packet (%d bytes): %x\n", len(in.Packet), in.Packet)
	if len(in.Meta) > 0 {
		fmt.Fprintf(&b, "  metadata: %x\n", in.Meta)
	}
	if in.RxQueue != 0 {
		fmt.Fprintf(&b, "  rx queue: %d\n", in.RxQueue)
	}
	for _, e := range in.Maps {
		fmt.Fprintf(&b, "  map %s: %x = %x\n", e.Map, e.Key, e.Value)
	}
	// go test runs in the package's directory: name files so that they work from anywhere.
	obj := absolute(p.path)
	if path := os.Getenv(PcapEnv); path != "" {
		if err := replay.WritePcap(path, time.Unix(0, int64(p.cfg.cond.TimeNs)), in.Packet); err != nil {
			fmt.Fprintf(&b, "  %s: %v", PcapEnv, err)
		} else {
			fmt.Fprintf(&b, "  written to %s: replay it with: xdpsim run %s %s", absolute(path), obj, absolute(path))
		}
	} else {
		fmt.Fprintf(&b, "  to replay it in xdpsim, run this input again with %s=/tmp/crash.pcap, then: xdpsim run %s /tmp/crash.pcap", PcapEnv, obj)
	}
	return b.String()
}

// CollectCoverage makes the program count, from now on, which instructions and branches every
// run executes; Coverage returns the counts.
func (p *Program) CollectCoverage() {
	if p.total != nil {
		return
	}
	p.total = vm.NewCoverage()
}

// Coverage is what the runs since CollectCoverage executed (nil before it): cover.New turns it into
// a report over the C source.
func (p *Program) Coverage() *vm.Coverage { return p.total }

// absolute is path made absolute, or path as it is if that fails.
func absolute(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}
