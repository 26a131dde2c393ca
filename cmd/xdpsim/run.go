package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// runFlags are the flags run and diff share: what to load and under which conditions.
type runFlags struct {
	prog    string
	typ     string
	ifindex uint32
	rxq     uint32
	cpus    int
	seed    uint64
	set     []string
	resize  []string
	btf     string
	mapsIn  string
	budget  uint64
	host    string
	device  string
	rssKey  string
	queues  int
	feature []string
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.prog, "prog", "p", "", "program to run, by function or section name (default: the only XDP program)")
	fs.StringVar(&f.typ, "type", "", `program type for a section that carries none ("xdp")`)
	fs.Uint32Var(&f.ifindex, "ifindex", 1, "ingress ifindex the program sees (BPF_PROG_TEST_RUN's default is 1, loopback)")
	fs.Uint32Var(&f.rxq, "rxq", 0, "RX queue index the program sees")
	fs.IntVar(&f.cpus, "cpus", 1, "number of simulated CPUs (per-CPU maps keep one value each)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of bpf_get_prandom_u32")
	fs.StringArrayVar(&f.set, "set", nil, "set a const volatile variable before load: NAME=VALUE (repeatable)")
	fs.StringArrayVar(&f.resize, "resize", nil, "set a map's max_entries: MAP=N (repeatable)")
	fs.StringVar(&f.btf, "btf", "", "vmlinux BTF to resolve CO-RE relocations against (default: the simulator's Linux 6.18 BTF)")
	fs.StringVar(&f.mapsIn, "maps-in", "", "preload maps from a JSON file shaped as --maps writes it")
	fs.Uint64Var(&f.budget, "budget", 0, "instruction budget per packet (default: the machine's)")
	fs.StringVar(&f.host, "host", "", "the simulated host's devices, routes and neighbours as JSON, for bpf_fib_lookup and bpf_check_mtu (see sim.Host); default: a bare namespace that forwards nothing")
	fs.StringVar(&f.device, "device", "", "simulated NIC the packets arrive on, for RX-metadata hints and RSS (see xdpsim devices); default: BPF_PROG_TEST_RUN's loopback, or veth for device-bound programs")
	fs.StringVar(&f.rssKey, "rss-key", "", "Toeplitz RSS key as hex (default: the device's, the standard 40-byte key)")
	fs.IntVar(&f.queues, "queues", 0, "spread packets over N RX queues by RSS hash (needs --device)")
	fs.StringArrayVar(&f.feature, "feature", nil, "switch on a proposal that never merged: traits, traits-v1, export-to-skb (repeatable)")
}

// loadOptions turns the flags into sim.LoadOptions.
func (f *runFlags) loadOptions() (sim.LoadOptions, error) {
	opts := sim.LoadOptions{CPUs: f.cpus, BTF: f.btf, Set: map[string]any{}, Resize: map[string]uint32{}}
	if f.cpus < 1 {
		return opts, fmt.Errorf("--cpus %d: need at least one CPU", f.cpus)
	}
	for _, kv := range f.set {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return opts, fmt.Errorf("--set %q: want NAME=VALUE", kv)
		}
		v, err := parseValue(val)
		if err != nil {
			return opts, fmt.Errorf("--set %s: %w", name, err)
		}
		opts.Set[name] = v
	}
	for _, kv := range f.resize {
		name, val, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(val, 0, 32)
		if !ok || name == "" || err != nil || n == 0 {
			return opts, fmt.Errorf("--resize %q: want MAP=N with N > 0", kv)
		}
		opts.Resize[name] = uint32(n)
	}
	for _, name := range f.feature {
		if err := opts.Features.Enable(name); err != nil {
			return opts, fmt.Errorf("--feature %s: %w", name, err)
		}
	}
	if f.typ != "" {
		if f.typ != "xdp" {
			return opts, fmt.Errorf("--type %q: only xdp is simulated", f.typ)
		}
		if f.prog == "" {
			return opts, errors.New("--type needs --prog to say which program it types")
		}
		opts.Types = map[string]ebpf.ProgramType{f.prog: ebpf.XDP}
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

// packetJSON is one --jsonl line: the fixed keys first, then what else the run produced.
type packetJSON struct {
	Packet    int                       `json:"packet"`
	Ret       *uint32                   `json:"ret,omitempty"`
	Verdict   string                    `json:"verdict,omitempty"`
	Data      *string                   `json:"data,omitempty"`
	Meta      *string                   `json:"meta,omitempty"`
	Error     string                    `json:"error,omitempty"`
	Redirect  *sim.Redirect             `json:"redirect,omitempty"`
	Exception string                    `json:"exception,omitempty"`
	Skb       *sim.SkbHandoff           `json:"skb,omitempty"`
	Hints     map[string]sim.HintResult `json:"hints,omitempty"`
	Traits    map[string]string         `json:"traits,omitempty"`
	Printk    []string                  `json:"printk,omitempty"`
	Insns     uint64                    `json:"insns,omitempty"`
	File      string                    `json:"file"`
	Record    int                       `json:"record"`
}

func outcomeJSON(o sim.Outcome, rec record) packetJSON {
	j := packetJSON{Packet: o.Index, Error: o.Err, Printk: o.Printk, Insns: o.Executed, File: rec.file, Record: rec.index}
	if o.Err == "" {
		ret := o.Ret
		d, m := result.Hex(o.Data), result.Hex(o.Meta)
		j.Ret, j.Verdict, j.Data, j.Meta = &ret, result.VerdictName(o.Ret), &d, &m
		j.Redirect, j.Exception, j.Skb = o.Redirect, o.Exception, o.Skb
		if len(o.Traits) > 0 {
			j.Traits = map[string]string{}
			for _, t := range o.Traits {
				j.Traits[strconv.FormatUint(t.Key, 10)] = t.Value
			}
		}
	}
	j.Hints = o.Hints
	return j
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	var rf runFlags
	rf.register(fs)
	jsonl := fs.String("jsonl", "", "write one JSON object per packet to FILE (- for stdout)")
	mapsOut := fs.String("maps", "", "write map contents after the run to FILE as JSON (- for stdout)")
	writeDir := fs.StringP("write", "w", "", "write one pcap per verdict and per redirect target into DIR")
	verbose := fs.BoolP("verbose", "v", false, "print one line per packet")
	traceOut := fs.Bool("trace", false, "print every instruction each packet executes, with source lines and register changes")
	engine := fs.String("engine", "sim", `where to run: "sim" (the simulator) or "kernel" (the real kernel through BPF_PROG_TEST_RUN; Linux, CAP_BPF)`)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: xdpsim run [flags] PROG.o TRACE.pcap [TRACE.pcap...]\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return &exitError{2, errors.New("need an object and at least one trace")}
	}
	objPath, traces := fs.Arg(0), fs.Args()[1:]
	opts, err := rf.loadOptions()
	if err != nil {
		return &exitError{2, err}
	}
	if *engine != "sim" && *engine != "kernel" {
		return &exitError{2, fmt.Errorf("--engine %q: want sim or kernel", *engine)}
	}
	host, err := rf.hostConfig()
	if err != nil {
		return &exitError{2, err}
	}
	var kp *kernel.Program
	if *engine == "kernel" {
		if err := kernel.Available(); err != nil {
			return &exitError{3, err}
		}
		kopts := kernel.Options{Program: rf.prog, Variables: opts.Set, MapSizes: opts.Resize}
		if host != nil {
			kopts.HostSetup = host.Commands()
		}
		if kp, err = kernel.Load(objPath, kopts); err != nil {
			return &exitError{2, err}
		}
		defer kp.Close()
		opts.CPUs = kp.NumCPU()
	}
	// Unreadable or unusable input exits 2, as bad usage does.
	obj, err := sim.Load(objPath, opts)
	if err != nil {
		return &exitError{2, err}
	}
	prog, err := obj.FindProgram(rf.prog)
	if err != nil {
		return &exitError{2, err}
	}
	for _, n := range obj.Notices {
		fmt.Fprintf(stderr, "xdpsim: %s\n", n)
	}
	if rf.mapsIn != "" {
		if err := loadMapsFile(obj, rf.mapsIn); err != nil {
			return &exitError{2, err}
		}
		if kp != nil {
			var in result.Maps
			if err := readJSON(rf.mapsIn, &in); err != nil {
				return &exitError{2, err}
			}
			if err := kp.LoadMaps(in); err != nil {
				return &exitError{2, fmt.Errorf("kernel: %w", err)}
			}
		}
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		return err
	}
	x.Machine().SetBudget(rf.budget)
	dev, err := rf.deviceConfig()
	if err != nil {
		return &exitError{2, err}
	}
	if dev != nil && kp != nil {
		return &exitError{2, errors.New("--device needs the simulator: the kernel cannot test-run device-bound programs")}
	}
	x.SetDevice(dev)
	x.SetHost(host)
	if dev != nil {
		fmt.Fprintf(stderr, "xdpsim: packets arrive on a simulated %s device\n", dev.Profile.Name)
	}
	var tcr *tracer
	if *traceOut {
		if kp != nil {
			return &exitError{2, errors.New("--trace needs the simulator (--engine sim)")}
		}
		tcr = newTracer(stdout, x.Machine())
		x.Machine().SetTrace(tcr.step)
	}
	x.SetSeed(rf.seed)

	// Outputs appear whole or not at all: everything is written to temporary files that are
	// renamed only when every trace has been read.
	var jl *atomicFile
	var enc *json.Encoder
	var pending []interface{ abort() }
	fail := func(err error) error {
		for _, p := range pending {
			p.abort()
		}
		return err
	}
	if *jsonl != "" {
		if jl, err = createAtomic(*jsonl, stdout); err != nil {
			return err
		}
		pending = append(pending, jl)
		enc = json.NewEncoder(jl)
	}
	pcaps := map[string]*pcapOut{}
	if *writeDir != "" {
		if err := os.MkdirAll(*writeDir, 0o755); err != nil {
			return err
		}
	}
	counts := map[string]int{}
	var errorsSeen, faults, exceptions int
	n := 0
	for _, tr := range traces {
		err := readTrace(tr, func(rec record) error {
			n++
			cond := sim.Conditions{IngressIfindex: rf.ifindex, RxQueue: rf.rxq, CPU: int(rf.rxq) % rf.cpus, TimeNs: uint64(rec.ts.UnixNano())}
			var o sim.Outcome
			if kp != nil {
				o.Packet = kp.Run(rec.data, nil, kernel.Context{IngressIfindex: cond.IngressIfindex, RxQueue: cond.RxQueue, CPU: cond.CPU})
				if o.Err == "" && o.Ret == 0 {
					o.Exception = "XDP_ABORTED"
				} else if o.Err == "" && o.Ret > 4 {
					o.Exception = fmt.Sprintf("invalid action %d", o.Ret)
				}
			} else {
				if tcr != nil {
					tcr.packet(n)
				}
				o = x.Run(rec.data, nil, cond)
				if tcr != nil && o.Err == "" {
					tcr.end(o.Ret)
				}
			}
			o.Index = n
			if o.Exception != "" {
				exceptions++
			}
			verdict := ""
			if o.Err != "" {
				errorsSeen++
				verdict = "refused"
				if o.Fault != nil {
					faults++
					verdict = "fault"
				}
			} else {
				verdict = result.VerdictName(o.Ret)
				if o.Ret > 4 {
					verdict = "XDP_ABORTED (invalid action " + strconv.FormatUint(uint64(o.Ret), 10) + ")"
				}
			}
			counts[verdict]++
			if enc != nil {
				if err := enc.Encode(outcomeJSON(o, rec)); err != nil {
					return err
				}
			}
			if *verbose {
				line := fmt.Sprintf("%5d %s %s", n, rec.ts.UTC().Format("15:04:05.000000000"), summarize(rec.data))
				if o.Err != "" {
					fmt.Fprintf(stdout, "%s -> error: %s\n", line, o.Err)
				} else {
					fmt.Fprintf(stdout, "%s -> %s\n", line, verdict)
				}
				for _, p := range o.Printk {
					fmt.Fprintf(stdout, "      printk: %s\n", p)
				}
			}
			if *writeDir != "" && o.Err == "" {
				name := pcapName(o)
				pw := pcaps[name]
				if pw == nil {
					var err error
					if pw, err = newPcapOut(*writeDir, name); err != nil {
						return err
					}
					pcaps[name] = pw
					pending = append(pending, pw)
				}
				if err := pw.write(rec.ts, o.Data); err != nil {
					return err
				}
			}
			return nil
		})
		var te *traceError
		if errors.As(err, &te) {
			return fail(&exitError{2, err})
		}
		if err != nil {
			return fail(err)
		}
	}
	var mo *atomicFile
	if *mapsOut != "" {
		if mo, err = createAtomic(*mapsOut, stdout); err != nil {
			return fail(err)
		}
		pending = append(pending, mo)
		var dump result.Maps
		if kp != nil {
			dump, err = kp.DumpMaps()
		} else {
			dump, err = obj.DumpMaps()
		}
		if err != nil {
			return fail(err)
		}
		b, err := json.MarshalIndent(dump, "", "  ")
		if err != nil {
			return fail(err)
		}
		mo.Write(append(b, '\n'))
	}
	// Every input was read: put the outputs in place.
	if jl != nil {
		if err := jl.commit(); err != nil {
			return fail(err)
		}
	}
	for _, name := range sortedNames(pcaps) {
		if err := pcaps[name].commit(); err != nil {
			return fail(err)
		}
	}
	if mo != nil {
		if err := mo.commit(); err != nil {
			return err
		}
	}
	if *jsonl != "-" && *mapsOut != "-" {
		fmt.Fprintf(stdout, "%s: %s: %d packets (%s)\n", objPath, prog.Name, n, map[bool]string{true: "real kernel", false: "simulator"}[kp != nil])
		for _, v := range sortedNames(counts) {
			fmt.Fprintf(stdout, "  %-14s %d\n", v, counts[v])
		}
		if exceptions > 0 {
			fmt.Fprintf(stdout, "  %d exceptions (XDP_ABORTED or invalid actions, as the xdp_exception tracepoint reports them)\n", exceptions)
		}
		if errorsSeen > 0 {
			fmt.Fprintf(stdout, "  %d packets not run to completion: %d refused as the kernel refuses them, %d program faults; see -v or --jsonl for each\n", errorsSeen, errorsSeen-faults, faults)
		}
	}
	return nil
}

// pcapName is the output pcap a packet's verdict sends it to.
func pcapName(o sim.Outcome) string {
	switch o.Ret {
	case 1:
		return "drop.pcap"
	case 2:
		return "pass.pcap"
	case 3:
		return "tx.pcap"
	case 4:
		if r := o.Redirect; r != nil {
			if r.Map != "" {
				return fmt.Sprintf("redirect-%s-%d.pcap", r.Map, r.Key)
			}
			return fmt.Sprintf("redirect-ifindex-%d.pcap", r.Ifindex)
		}
		return "redirect.pcap"
	}
	return "aborted.pcap"
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func loadMapsFile(obj *sim.Object, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var in result.Maps
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := obj.LoadMaps(in); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// device turns the device flags into a simulated device (nil: none).
func (f *runFlags) deviceConfig() (*sim.Device, error) {
	if f.device == "" {
		if f.queues > 1 || f.rssKey != "" {
			return nil, errors.New("--queues and --rss-key need --device")
		}
		return nil, nil
	}
	p, err := kfuncs.Profile(f.device)
	if err != nil {
		return nil, fmt.Errorf("--device %s: %w", f.device, err)
	}
	d := &sim.Device{Profile: p, Queues: f.queues}
	if f.rssKey != "" {
		if d.RSSKey, err = parseHex(f.rssKey); err != nil {
			return nil, fmt.Errorf("--rss-key: %w", err)
		}
		if len(d.RSSKey) < 4 {
			return nil, errors.New("--rss-key: a Toeplitz key needs at least 4 bytes")
		}
	}
	return d, nil
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
