package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
)

// simSetup loads the object and prepares the XDP the way run does for the simulator: options,
// notices, preloaded maps, device, host, seed and budget. The views (show, debug) share it.
func simSetup(rf *runFlags, objPath string, stderr io.Writer) (*sim.Object, *sim.XDP, error) {
	opts, err := rf.loadOptions()
	if err != nil {
		return nil, nil, &exitError{2, err}
	}
	host, err := rf.hostConfig()
	if err != nil {
		return nil, nil, &exitError{2, err}
	}
	dev, err := rf.deviceConfig()
	if err != nil {
		return nil, nil, &exitError{2, err}
	}
	obj, err := sim.Load(objPath, opts)
	if err != nil {
		return nil, nil, &exitError{2, err}
	}
	prog, err := obj.FindProgram(rf.prog)
	if err != nil {
		return nil, nil, &exitError{2, err}
	}
	for _, n := range obj.Notices {
		fmt.Fprintf(stderr, "xdpsim: %s\n", n)
	}
	if rf.mapsIn != "" {
		if err := loadMapsFile(obj, rf.mapsIn); err != nil {
			return nil, nil, &exitError{2, err}
		}
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		return nil, nil, &exitError{2, err}
	}
	x.Machine().SetBudget(rf.budget)
	x.SetDevice(dev)
	x.SetHost(host)
	x.SetSeed(rf.seed)
	return obj, x, nil
}

// conditions are the packet's conditions under the run flags.
func (f *runFlags) conditions(rec record) sim.Conditions {
	return sim.Conditions{IngressIfindex: f.ifindex, RxQueue: f.rxq, CPU: int(f.rxq) % max(f.cpus, 1), TimeNs: uint64(rec.ts.UnixNano())}
}

// errStop ends reading a trace early.
var errStop = errors.New("stop")

// cmdShow is `xdpsim show PROG.o TRACE.pcap --packet N`: the frame of packet N as the program saw
// it before and after the run, with every pointer move, as text and, with --html, as a page.
func cmdShow(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("show", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf runFlags
	rf.register(fs)
	packet := fs.IntP("packet", "n", 1, "the packet to draw, counted from 1 across the traces (earlier packets run first, so maps hold what they left)")
	htmlOut := fs.String("html", "", "also write the picture as an HTML page with SVG to FILE (- for stdout instead of the text)")
	hexDump := fs.Bool("hex", false, "add a hex dump of the metadata and of each protocol layer")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: xdpsim show [flags] PROG.o TRACE.pcap [TRACE.pcap...]\n%s", fs.FlagUsages())
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
	if *packet < 1 {
		return &exitError{2, fmt.Errorf("--packet %d: packets count from 1", *packet)}
	}
	objPath, traces := fs.Arg(0), fs.Args()[1:]
	_, x, err := simSetup(&rf, objPath, stderr)
	if err != nil {
		return err
	}
	var rec picture.Recorder
	var out *sim.Outcome
	n := 0
	for _, tr := range traces {
		err := readTrace(tr, func(r record) error {
			n++
			if n < *packet {
				x.Run(r.data, nil, rf.conditions(r))
				return nil
			}
			rec.Title = fmt.Sprintf("packet %d (%s record %d), program %s", n, r.file, r.index, x.Program().Name)
			x.SetFrameObserver(&rec)
			o := x.Run(r.data, nil, rf.conditions(r))
			x.SetFrameObserver(nil)
			out = &o
			return errStop
		})
		if errors.Is(err, errStop) {
			break
		}
		if err != nil {
			return &exitError{2, err}
		}
	}
	if out == nil {
		return &exitError{2, fmt.Errorf("--packet %d: the traces hold %d packets", *packet, n)}
	}
	if rec.Run == nil {
		return &exitError{1, fmt.Errorf("packet %d did not run: %s", *packet, out.Err)}
	}
	opts := picture.TextOptions{Hex: *hexDump}
	if *htmlOut == "" {
		return rec.Run.Text(stdout, opts)
	}
	f, err := createAtomic(*htmlOut, stdout)
	if err != nil {
		return err
	}
	if err := rec.Run.HTML(f); err != nil {
		f.abort()
		return err
	}
	if err := f.commit(); err != nil {
		return err
	}
	if *htmlOut != "-" {
		return rec.Run.Text(stdout, opts)
	}
	return nil
}
