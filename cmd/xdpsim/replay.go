package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/jsonfile"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// runFlags are the flags of every command that replays packets (run, diff, test): what to load,
// under which conditions, on which engine, and the outputs. They are registered once, so each means
// the same in every command.
type runFlags struct {
	loadFlags
	ifindex  uint32
	rxq      uint32
	cpus     int
	seed     uint64
	mapsIn   string
	budget   uint64
	noVerify bool
	host     string
	device   string
	devices  string
	rssKey   string
	queues   int
	feature  []string
	engine   string
	snapped  string
	// parallel is how many goroutines replay packets (--parallel); 1 runs them in order.
	parallel int
	// tc names tc programs (PROG.o[:NAME]) at the tc ingress hook behind the XDP program, in tcx
	// order.
	tc []string
	// topology is a topology file (xdpsim run only): the network the traces go through.
	topology string

	// Outputs.
	jsonl   string
	mapsOut string
	// mapsFormat is how --maps writes keys and values and --maps-in reads them (mapsInFormat
	// when set): hex, or btf (as the object's BTF C types).
	mapsFormat   string
	mapsInFormat string
	writeDir     string
	verbose      bool
	trace        bool
	packets      string
	failOn       string
	coverage     coverageFlags

	// The state helpers and kfuncs consult (helperflags.go).
	helpers helperFlags

	fs *pflag.FlagSet
}

func (f *runFlags) register(fs *pflag.FlagSet, engineHelp string) {
	f.fs = fs
	f.loadFlags.register(fs, "program to run, by function or section name (default: the only XDP program, or the only tc program of an object without XDP programs)")
	fs.StringArrayVar(&f.tc, "tc", nil, "a tc program at the device's tc ingress hook, which the packets the XDP program passes reach: PROG.o or PROG.o:NAME (repeatable: the chain in tcx order)")
	fs.StringVar(&f.topology, "topology", "", "run the traces through the small host FILE describes (JSON: namespaces, NICs, veth and netkit pairs, what is attached where, routes, arrivals; see package sim/topology); takes traces only, no object")
	fs.Uint32Var(&f.ifindex, "ifindex", 1, "ingress ifindex the program sees (BPF_PROG_TEST_RUN's default is 1, loopback)")
	fs.Uint32Var(&f.rxq, "rxq", 0, "RX queue index the program sees")
	fs.IntVar(&f.cpus, "cpus", 1, "number of simulated CPUs (per-CPU maps keep one value each); a packet runs on its RX queue's CPU (queue mod CPUs)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of bpf_get_prandom_u32")
	fs.StringVar(&f.mapsIn, "maps-in", "", "preload maps from a JSON file shaped as --maps writes it")
	fs.Uint64Var(&f.budget, "budget", 0, "the simulator's instruction budget per packet; a packet that exceeds it faults (default: the machine's; 1048576 with --no-verify)")
	fs.BoolVar(&f.noVerify, "no-verify", false, "skip the verifier: run a program the kernel would refuse (says so on stderr; a packet stops after --budget instructions)")
	fs.StringVar(&f.host, "host", "", "the simulated host's devices, routes and neighbours as JSON, for bpf_fib_lookup and bpf_check_mtu (see sim.Host); default: a bare namespace that forwards nothing")
	fs.StringVar(&f.device, "device", "", "simulated NIC the packets arrive on, for RX-metadata hints and RSS: a profile (see xdpsim devices), or with --devices a device of that file; default: BPF_PROG_TEST_RUN's loopback, or veth for device-bound programs")
	fs.StringVar(&f.devices, "devices", "", "the simulated host's devices and their attributes: a state `FILE` as xdpsim dev set --devices FILE writes it: what --device names and control maps reach; the ingress ifindex defaults to --device's")
	fs.StringVar(&f.rssKey, "rss-key", "", "Toeplitz RSS key as hex (default: the device's, the standard 40-byte key)")
	fs.IntVar(&f.queues, "queues", 0, "spread packets over N RX queues by RSS hash (needs --device; 1 to the driver's most)")
	fs.IntVar(&f.parallel, "parallel", 1, "replay on N goroutines, each simulated CPU's packets in order on one (0: one per core; needs --device with --queues and --cpus): outputs stay in input order, and programs that read shared state back may differ from an ordered run (see README)")
	fs.StringArrayVar(&f.feature, "feature", nil, "switch on a proposal that never merged: traits, traits-v1, export-to-skb, control-map (repeatable)")
	fs.StringVar(&f.engine, "engine", "", engineHelp)
	fs.StringVar(&f.snapped, "snapped", "report", "records the capture cut short (caplen < len): report (not run, counted), run (the captured bytes), error (exit 2)")
	fs.StringVar(&f.jsonl, "jsonl", "", "write one JSON object per packet to FILE (- for stdout)")
	fs.StringVar(&f.mapsOut, "maps", "", `write map contents after the run to FILE as JSON (- for stdout; after --jsonl - it is one last line {"maps":...})`)
	fs.StringVar(&f.mapsFormat, "maps-format", mapsHex, `how --maps writes keys and values and --maps-in reads them: "hex", or "btf" (as the C types the object's BTF declares, like bpftool map dump -j)`)
	fs.StringVar(&f.mapsInFormat, "maps-in-format", "", "the form of --maps-in: hex or btf (default: --maps-format's)")
	fs.StringVarP(&f.writeDir, "write", "w", "", "write one pcap per verdict and per redirect target into DIR")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print one line per packet: what tcpdump -n prints for it, and the verdict")
	fs.BoolVar(&f.trace, "trace", false, "print every instruction each packet executes, with source lines and register changes (the interpreter runs traced packets: the jit engine hands them to it, with the same results)")
	fs.StringVar(&f.packets, "packet", "", "limit --trace, -v and --jsonl to these packets: N, N-M, or a list (1,5,9-12); all packets still run, and a list that selects none of them is an error")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 1 when any packet ends so: a list of fault, aborted, refused, snapped, exception, drop, pass, tx, redirect")
	f.coverage.register(fs)
	f.helpers.register(fs)
}

// engine is what --engine selected: a simulator engine, or the real kernel.
type engine struct {
	vm     vm.Engine // nil with kernel
	kernel bool
	name   string
}

// engineNames lists the names --engine takes: the vm's engines, then the kernel.
func engineNames() []string { return append(vm.EngineNames(), "kernel") }

// simEngines lists the simulator's engines for a help text, the default first.
func simEngines() string {
	def := vm.DefaultEngine().Name()
	list := []string{def + ` (the default, also "sim")`}
	for _, n := range vm.EngineNames() {
		if n != def {
			list = append(list, n)
		}
	}
	return strings.Join(list, ", ")
}

// lookupEngine finds an engine by name: the vm's engines by their names ("" and "sim" are the
// simulator's default engine), or "kernel".
func lookupEngine(name string) (engine, error) {
	switch name {
	case "", "sim":
		e := vm.DefaultEngine()
		return engine{vm: e, name: e.Name()}, nil
	case "kernel":
		return engine{kernel: true, name: "kernel"}, nil
	}
	e, err := vm.EngineByName(name)
	if err != nil {
		return engine{}, fmt.Errorf("--engine %q: want one of %s", name, strings.Join(engineNames(), ", "))
	}
	return engine{vm: e, name: e.Name()}, nil
}

// loadOptions turns the flags into sim.LoadOptions.
func (f *runFlags) loadOptions() (sim.LoadOptions, error) {
	opts := sim.LoadOptions{CPUs: f.cpus, NoVerify: f.noVerify}
	if f.cpus < 1 {
		return opts, fmt.Errorf("--cpus %d: need at least one CPU", f.cpus)
	}
	if err := f.loadFlags.options(&opts); err != nil {
		return opts, err
	}
	for _, name := range f.feature {
		if err := opts.Features.Enable(name); err != nil {
			return opts, fmt.Errorf("--feature %s: %w", name, err)
		}
	}
	return opts, nil
}

// parseValue reads a --set value: a number (decimal, 0x hex), true/false, or hex bytes as "hex:..".
func parseValue(s string) (any, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	if rest, ok := strings.CutPrefix(s, "hex:"); ok {
		return parseHex(rest)
	}
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number (use hex:.. for bytes)", s)
	}
	return v, nil
}

// session is a loaded object ready to replay packets: the simulator, and the kernel when the
// command asked for it.
type session struct {
	objPath string
	obj     *sim.Object
	prog    *sim.Program
	x       *sim.XDP // the XDP program, nil when the program is a tc program
	// tc runs the tc program run alone, or the tc programs behind the XDP program (--tc).
	tc     *sim.TC
	kp     *kernel.Program
	engine engine
	// target is where the loop runs packets: the simulator, or the kernel with --engine kernel.
	target replay.Target
	// kernel is the kernel as a target, when the command uses it.
	kernel replay.Target
	loop   *replay.Loop
	// cover records the program's coverage, when the flags ask for it.
	cover *coverageSink
}

func (s *session) close() {
	if s.kp != nil {
		s.kp.Close()
	}
}

// kernelUse says what a command needs of the real kernel.
type kernelUse int

const (
	kernelIfAsked kernelUse = iota // run, test: --engine kernel runs there
	kernelAlso                     // diff: the kernel beside the simulator
)

// open loads the object on the engines the command needs and sets up the loop's target and
// conditions (not its outputs: see sinks). Errors carry exit codes.
func (f *runFlags) open(objPath string, use kernelUse, stderr io.Writer) (*session, error) {
	if f.topology != "" {
		return nil, usageErr(errors.New("--topology: only xdpsim run takes a topology"))
	}
	eng, err := lookupEngine(f.engine)
	if err != nil {
		return nil, usageErr(err)
	}
	if eng.kernel && f.coverage.wanted() {
		return nil, usageErr(errCoverageKernel)
	}
	if use == kernelAlso && eng.kernel {
		return nil, usageErr(errors.New("--engine kernel: diff compares a simulator engine with the kernel; name the simulator's engine (" + strings.Join(engineNames()[:len(engineNames())-1], ", ") + ")"))
	}
	opts, c, err := f.conditions()
	if err != nil {
		return nil, err
	}
	switch {
	case f.parallel != 1 && eng.kernel:
		return nil, usageErr(errors.New("--parallel needs the simulator: the kernel runs test runs one at a time"))
	case f.parallel != 1 && f.trace:
		return nil, usageErr(errors.New("--parallel: --trace shows each packet's instructions as it runs, so packets run in order"))
	}
	host, dev := c.host, c.dev
	useKernel := eng.kernel || use == kernelAlso
	if useKernel {
		switch {
		case dev != nil:
			return nil, usageErr(errDeviceKernel)
		case f.trace && eng.kernel:
			return nil, usageErr(errTraceKernel)
		case f.typ != "":
			return nil, usageErr(errors.New("--type: not available with the kernel yet (package kernel loads each section with its own type); run it in the simulator"))
		}
		if err := kernel.Available(); err != nil {
			return nil, &exitError{exitNoKernel, err}
		}
	}
	s := &session{objPath: objPath, engine: eng}
	if useKernel {
		kopts := kernel.Options{Program: f.prog, Variables: opts.Set, MapSizes: opts.Resize}
		if host != nil {
			kopts.HostSetup = host.Commands()
		}
		if s.kp, err = kernel.Load(objPath, kopts); err != nil {
			if _, serr := sim.Load(objPath, opts); serr != nil {
				return nil, usageErr(serr) // what is wrong with the file, in the simulator's words
			}
			if !strings.HasPrefix(err.Error(), "kernel: ") { // most of package kernel's say so already
				err = fmt.Errorf("kernel: %w", err)
			}
			return nil, usageErr(err)
		}
		// Per-CPU maps hold one value per possible CPU in the kernel: simulate as many.
		opts.CPUs = s.kp.NumCPU()
		s.kernel = kernelTarget{s.kp}
		if s.kp.IsTC() {
			s.kernel = kernelTCTarget{s.kp}
		}
	}
	fail := func(err error) (*session, error) {
		s.close()
		return nil, err
	}
	// Unreadable or unusable input exits 2, as bad usage does.
	if s.obj, err = sim.Load(objPath, opts); err != nil {
		return fail(usageErr(err))
	}
	if s.prog, err = s.obj.FindProgram(f.prog); err != nil {
		if errors.As(err, new(*verifier.Error)) {
			return fail(err) // the verifier's rejection: exit 1
		}
		return fail(usageErr(err))
	}
	if err := f.checkType(s.obj, s.prog.Name); err != nil {
		return fail(usageErr(err))
	}
	for _, n := range s.obj.Notices {
		fmt.Fprintf(stderr, "xdpsim: %s\n", n)
	}
	if c.devices != nil {
		s.obj.SetDevices(c.devices)
	}
	if use == kernelAlso {
		if n := cookieNotice(s.prog); n != "" {
			fmt.Fprintf(stderr, "xdpsim: %s\n", n)
		}
	}
	if s.prog.Type == ebpf.SchedCLS {
		if err := s.openTC(f, eng, host, dev); err != nil {
			return fail(err)
		}
	} else {
		if s.x, err = sim.NewXDP(s.prog); err != nil {
			return fail(usageErr(err))
		}
		if eng.vm != nil {
			s.x.Machine().SetEngine(eng.vm)
		}
		if f.budget != 0 {
			s.x.Machine().SetBudget(f.budget)
		}
		s.x.SetSeed(f.seed)
		s.x.SetHost(host)
		if dev != nil {
			if err := dev.AttachXDP(&device.XDPProgram{Frags: s.prog.Frags}); err != nil {
				return fail(usageErr(err))
			}
		}
		s.x.SetDevice(dev)
		switch {
		case dev != nil && dev.Name != dev.Profile.Name:
			fmt.Fprintf(stderr, "xdpsim: packets arrive on %s (ifindex %d), a simulated %s device\n", dev.Name, dev.Ifindex, dev.Profile.Name)
		case dev != nil:
			fmt.Fprintf(stderr, "xdpsim: packets arrive on a simulated %s device\n", dev.Profile.Name)
		}
		if len(f.tc) > 0 {
			if useKernel {
				return fail(usageErr(errors.New("--tc needs the simulator: BPF_PROG_TEST_RUN runs one program, not the path from XDP to tc")))
			}
			if s.tc, err = f.ingressChain(s, opts); err != nil {
				return fail(err)
			}
			s.x.SetIngress(s.tc)
			f.tune(s.tc, eng)
			s.tc.SetSeed(f.seed)
		}
	}
	if err := f.helpers.apply(s); err != nil {
		return fail(err)
	}
	if f.mapsIn != "" {
		in, err := readMaps(f.mapsIn, f.mapsInFormat, btfjson.SpecTypes(s.obj.Spec))
		if err != nil {
			return fail(usageErr(fmt.Errorf("--maps-in: %w", err)))
		}
		if err := s.obj.LoadMaps(in); err != nil {
			return fail(usageErr(fmt.Errorf("--maps-in %s: %w", f.mapsIn, err)))
		}
		if s.kp != nil {
			if err := s.kp.LoadMaps(in); err != nil {
				return fail(usageErr(fmt.Errorf("--maps-in %s: kernel: %w", f.mapsIn, err)))
			}
		}
	}
	if s.x != nil {
		s.target = replay.Sim{X: s.x}
	} else {
		s.target = replay.SimTC{T: s.tc}
	}
	if eng.kernel {
		s.target = s.kernel
	}
	if !eng.kernel {
		progs := []*sim.Program{}
		if s.x != nil {
			progs = append(progs, s.x.Programs()...)
		}
		if s.tc != nil {
			progs = append(progs, s.tc.Programs()...)
		}
		sayInterpreted(stderr, eng, progs)
	}
	if s.loop, err = f.newLoop(s, opts.CPUs, c.snap, stderr); err != nil {
		return fail(err)
	}
	return s, nil
}

// sayInterpreted compiles the programs for the jit engine now and says on stderr which of them it
// runs on the interpreter instead (vm.Program.CompileJIT), so that none runs slower in silence.
func sayInterpreted(stderr io.Writer, eng engine, progs []*sim.Program) {
	if eng.vm != vm.JIT {
		return
	}
	seen := map[*sim.Program]bool{}
	for _, p := range progs {
		if seen[p] {
			continue
		}
		seen[p] = true
		if err := p.VM.CompileJIT(); err != nil {
			fmt.Fprintf(stderr, "xdpsim: --engine jit: %s: %v\n", p.Name, err)
		}
	}
}

// runConditions are what the flags say about the conditions packets run under.
type runConditions struct {
	snap replay.SnapPolicy
	host *sim.Host
	dev  *device.Netdev
	// devices are the simulated host's devices of --devices (nil: the device alone, or lo).
	devices *device.Set
}

// conditions reads the flags every replaying command shares: load options, map formats, the
// snapped-record policy, the host and the device. Errors carry exit codes.
func (f *runFlags) conditions() (sim.LoadOptions, runConditions, error) {
	var c runConditions
	opts, err := f.loadOptions()
	if err != nil {
		return opts, c, usageErr(err)
	}
	if f.mapsInFormat == "" {
		f.mapsInFormat = f.mapsFormat
	}
	if err := checkMapsFormats(f.mapsFormat, f.mapsInFormat); err != nil {
		return opts, c, usageErr(err)
	}
	if c.snap, err = replay.ParseSnapPolicy(f.snapped); err != nil {
		return opts, c, usageErr(fmt.Errorf("--snapped %w", err))
	}
	if c.host, err = f.hostConfig(); err != nil {
		return opts, c, usageErr(err)
	}
	if c.dev, c.devices, err = f.deviceConfig(); err != nil {
		return opts, c, usageErr(err)
	}
	return opts, c, nil
}

// newLoop is the replay loop over the session's target with the flags' conditions, packet
// selection and parallelism; with --parallel it says on stderr when packets run in order anyway.
func (f *runFlags) newLoop(s *session, cpus int, snap replay.SnapPolicy, stderr io.Writer) (*replay.Loop, error) {
	if f.parallel < 0 {
		return nil, usageErr(fmt.Errorf("--parallel %d: want a number of goroutines, 0 for one per core", f.parallel))
	}
	l := &replay.Loop{
		Target:     s.target,
		Conditions: sim.Conditions{IngressIfindex: f.ifindex, RxQueue: f.rxq},
		CPUs:       cpus,
		Snapped:    snap,
		Workers:    f.parallel,
	}
	if f.parallel == 0 {
		l.Workers = runtime.GOMAXPROCS(0)
	}
	if f.parallel != 1 && l.ParallelWorkers() == 1 {
		why := "the packets arrive on one RX queue (--device with --queues N spreads them)"
		switch {
		case s.x == nil:
			why = "tc programs run in order"
		case s.x.Forkable() != nil:
			why = s.x.Forkable().Error()
		case cpus <= 1:
			why = "there is one simulated CPU (--cpus N)"
		}
		fmt.Fprintf(stderr, "xdpsim: --parallel: packets run in order: %s\n", why)
	}
	if f.packets != "" {
		sel, err := parsePackets(f.packets)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--packet %w", err))
		}
		l.Select = sel
	}
	return l, nil
}

// sinks adds the outputs the flags ask for to the session's loop, in the order they print: the
// trace, then -v lines, JSON lines, pcaps and the map dump.
func (f *runFlags) sinks(s *session, stdout io.Writer) error {
	l := s.loop
	if f.trace {
		// Each packet's trace ends with the picture of its frame (and its sk_buff).
		l.Sinks = append(l.Sinks, s.newTrace(stdout), &frames{x: s.x, tc: s.tc, w: stdout})
	}
	if f.verbose {
		l.Sinks = append(l.Sinks, replay.NewVerbose(stdout))
	}
	if f.jsonl != "" {
		j, err := replay.NewJSONL(f.jsonl, stdout)
		if err != nil {
			return usageErr(err)
		}
		l.Sinks = append(l.Sinks, j)
	}
	if f.writeDir != "" {
		newDir := replay.NewPcapDir
		if s.x == nil {
			newDir = replay.NewTCPcapDir
		}
		d, err := newDir(f.writeDir)
		if err != nil {
			l.Abort()
			return usageErr(err)
		}
		l.Sinks = append(l.Sinks, d)
	}
	if f.coverage.wanted() {
		c, err := newCoverageSink(s, &f.coverage, stdout)
		if err != nil {
			l.Abort()
			return usageErr(err)
		}
		s.cover = c
		l.Sinks = append(l.Sinks, c)
	}
	if f.mapsOut != "" {
		m, err := replay.NewMapsOut(f.mapsOut, stdout)
		if err != nil {
			l.Abort()
			return usageErr(err)
		}
		m.Line = f.mapsOut == "-" && f.jsonl == "-"
		if f.mapsFormat == mapsBTF {
			types := s.mapTypes()
			m.Format = func(d result.Maps) ([]byte, error) { return btfjson.FormatMaps(d, types) }
		}
		l.Sinks = append(l.Sinks, m)
	}
	return f.helpers.sinks(s, stdout)
}

// quietSummary says the summary would mix into machine-readable output on stdout.
func (f *runFlags) quietSummary() bool {
	return f.jsonl == "-" || f.mapsOut == "-" || f.helpers.conntrackDump == "-"
}

// failOnCheck reads --fail-on into a check of the run's counts: it returns what matched.
func (f *runFlags) failOnCheck() (func(*replay.Stats) string, error) {
	if f.failOn == "" {
		return nil, nil
	}
	counters := map[string]func(*replay.Stats) int{
		"fault":     func(s *replay.Stats) int { return s.Count(replay.VerdictFault) },
		"aborted":   func(s *replay.Stats) int { return s.Aborted() },
		"refused":   func(s *replay.Stats) int { return s.Count(replay.VerdictRefused) },
		"snapped":   func(s *replay.Stats) int { return s.Count(replay.VerdictSnapped) },
		"exception": func(s *replay.Stats) int { return s.Exceptions },
		"drop":      func(s *replay.Stats) int { return s.Count("XDP_DROP") + s.Count("TC_ACT_SHOT") },
		"pass":      func(s *replay.Stats) int { return s.Count("XDP_PASS") + s.Count("TC_ACT_OK") },
		"tx":        func(s *replay.Stats) int { return s.Count("XDP_TX") },
		"redirect":  func(s *replay.Stats) int { return s.Count("XDP_REDIRECT") + s.Count("TC_ACT_REDIRECT") },
	}
	return failOnList(f.failOn, counters, "want a list of fault, aborted, refused, snapped, exception, drop, pass, tx, redirect")
}

// failOnList reads a --fail-on list against counters (want says what the list may hold) into a
// check of the run's counts that returns what matched.
func failOnList(list string, counters map[string]func(*replay.Stats) int, want string) (func(*replay.Stats) string, error) {
	var names []string
	for _, n := range strings.Split(list, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if counters[n] == nil {
			return nil, fmt.Errorf("--fail-on %q: %s", n, want)
		}
		names = append(names, n)
	}
	return func(s *replay.Stats) string {
		var hits []string
		for _, n := range names {
			if c := counters[n](s); c > 0 {
				hits = append(hits, fmt.Sprintf("%d %s", c, n))
			}
		}
		return strings.Join(hits, ", ")
	}, nil
}

// parsePackets reads a packet selection: N, N-M, or a comma-separated list of both.
func parsePackets(s string) (func(int) bool, error) {
	type span struct{ lo, hi int }
	var spans []span
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b < a {
			return nil, fmt.Errorf("%q: want packet numbers from 1: N, N-M or a list of them", s)
		}
		spans = append(spans, span{a, b})
	}
	return func(n int) bool {
		for _, sp := range spans {
			if n >= sp.lo && n <= sp.hi {
				return true
			}
		}
		return false
	}, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, jsonfile.Explain(b, err))
	}
	return nil
}

// deviceConfig turns the device flags into the simulated device packets arrive on (nil: none) and
// the host's devices (nil: the device alone, or lo).
func (f *runFlags) deviceConfig() (*device.Netdev, *device.Set, error) {
	if f.queues < 0 {
		return nil, nil, fmt.Errorf("--queues %d: want a number of RX queues", f.queues)
	}
	var set *device.Set
	if f.devices != "" {
		var err error
		if set, err = device.LoadState(f.devices); err != nil {
			return nil, nil, fmt.Errorf("--devices: %w", err)
		}
	}
	if f.device == "" {
		if f.queues > 1 || f.rssKey != "" {
			return nil, nil, errors.New("--queues and --rss-key need --device")
		}
		return nil, set, nil
	}
	var d *device.Netdev
	if set != nil {
		var err error
		if d, err = set.ByName(f.device); err != nil {
			return nil, nil, fmt.Errorf("--device: %s: %w", f.devices, err)
		}
		if !f.fs.Changed("ifindex") {
			f.ifindex = d.Ifindex
		}
	} else {
		p, err := device.LookupProfile(f.device)
		if err != nil {
			return nil, nil, fmt.Errorf("--device %s: %w", f.device, err)
		}
		d = device.NewNetdev(p)
		d.Name, d.Ifindex = p.Name, f.ifindex
	}
	if f.queues > 0 {
		if err := d.SetRxQueues(f.queues); err != nil {
			return nil, nil, fmt.Errorf("--queues: %w", err)
		}
	}
	if f.rssKey != "" {
		key, err := parseHex(f.rssKey)
		if err != nil {
			return nil, nil, fmt.Errorf("--rss-key: %w", err)
		}
		if len(key) < 4 {
			return nil, nil, errors.New("--rss-key: a Toeplitz key needs at least 4 bytes")
		}
		d.SetRSSKey(key)
	}
	return d, set, nil
}

// hostConfig reads --host (nil: none).
func (f *runFlags) hostConfig() (*sim.Host, error) {
	if f.host == "" {
		return nil, nil
	}
	h, err := sim.LoadHost(f.host)
	if err != nil {
		return nil, fmt.Errorf("--host: %w", err)
	}
	return h, nil
}

// openTC sets the session up for a tc program run alone, as BPF_PROG_TEST_RUN runs it.
func (s *session) openTC(f *runFlags, eng engine, host *sim.Host, dev *device.Netdev) error {
	switch {
	case len(f.tc) > 0:
		return usageErr(fmt.Errorf("--tc puts tc programs behind an XDP program; %s is a tc program itself", s.prog.Name))
	case dev != nil:
		return usageErr(errors.New("--device: a tc program runs alone as BPF_PROG_TEST_RUN runs it, on loopback; put it behind an XDP program with --tc to see packets arrive on a device"))
	}
	var err error
	if s.tc, err = sim.NewTC(s.prog); err != nil {
		return usageErr(err)
	}
	f.tune(s.tc, eng)
	s.tc.SetSeed(f.seed)
	s.tc.SetHost(host)
	return nil
}

// tune gives the tc programs' machines the engine and budget the flags ask for.
func (f *runFlags) tune(t *sim.TC, eng engine) {
	for _, m := range t.Machines() {
		if eng.vm != nil {
			m.SetEngine(eng.vm)
		}
		m.SetBudget(f.budget)
	}
}

// ingressChain loads the tc programs --tc names: PROG.o (its only tc program) or PROG.o:NAME. An
// object named more than once is loaded once; the XDP program's own object is the session's.
func (f *runFlags) ingressChain(s *session, opts sim.LoadOptions) (*sim.TC, error) {
	objs := map[string]*sim.Object{s.objPath: s.obj}
	var progs []*sim.Program
	for _, spec := range f.tc {
		path, name := spec, ""
		if i := strings.LastIndexByte(spec, ':'); i > 0 && !strings.ContainsRune(spec[i+1:], '/') {
			path, name = spec[:i], spec[i+1:]
		}
		obj := objs[path]
		if obj == nil {
			var err error
			if obj, err = sim.Load(path, opts); err != nil {
				return nil, usageErr(fmt.Errorf("--tc %s: %w", spec, err))
			}
			objs[path] = obj
		}
		var p *sim.Program
		var err error
		if name == "" {
			tcs := obj.TCPrograms()
			if len(tcs) == 0 {
				return nil, usageErr(fmt.Errorf("--tc %s: the object holds no tc program; programs: %s", spec, strings.Join(obj.ProgramNames(), ", ")))
			}
			if len(tcs) != 1 {
				return nil, usageErr(fmt.Errorf("--tc %s: the object holds %d tc programs (%s): name one as %s:NAME", spec, len(tcs), strings.Join(tcs, ", "), path))
			}
			name = tcs[0]
		}
		if p, err = obj.FindProgram(name); err != nil {
			return nil, usageErr(fmt.Errorf("--tc %s: %w", spec, err))
		}
		if p.Type != ebpf.SchedCLS {
			return nil, usageErr(fmt.Errorf("--tc %s: %s is of type %s, not a tc program", spec, p.Name, p.Type))
		}
		switch p.AttachType {
		case ebpf.AttachTCXEgress, ebpf.AttachNetkitPrimary, ebpf.AttachNetkitPeer:
			return nil, usageErr(fmt.Errorf("--tc %s: %s (section %s) does not run at tc ingress; tc, classifier and tcx/ingress programs do", spec, p.Name, p.Section))
		}
		progs = append(progs, p)
	}
	t, err := sim.NewTC(progs...)
	if err != nil {
		return nil, usageErr(err)
	}
	return t, nil
}

// newTrace traces every machine the session's packets run on: the XDP program's (a dispatcher's
// slots'), then the tc programs', each program named by where it runs.
func (s *session) newTrace(w io.Writer) *replay.Trace {
	var ms []*vm.Machine
	if s.x != nil {
		ms = append(ms, s.x.Machines()...)
	}
	if s.tc != nil {
		ms = append(ms, s.tc.Machines()...)
	}
	tr := replay.NewTrace(w, ms[0])
	tr.Also(ms[1:]...)
	if s.x != nil && s.x.Dispatcher() != nil {
		for i, p := range s.x.Programs() {
			tr.Name(p.VM, fmt.Sprintf("slot %d of libxdp's dispatcher", i), replay.ReturnsXDP)
		}
	}
	if s.tc != nil {
		where := ""
		if s.x != nil {
			where = "at tc ingress"
		}
		for _, p := range s.tc.Programs() {
			tr.Name(p.VM, where, replay.ReturnsTC)
		}
	}
	return tr
}

// mapTypes gives the C types of the maps the session dumps: its object's, or for a dispatcher
// every slot's, by the names the dump gives them.
func (s *session) mapTypes() btfjson.TypeOf {
	if s.x != nil {
		return btfjson.MapSpecTypes(s.x.MapSpecs())
	}
	return btfjson.SpecTypes(s.obj.Spec)
}
