package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// cmdDiff runs an object in the simulator and in the real kernel over the same packets and reports
// every divergence. Exit codes: 0 agree, 1 diverge, 3 no kernel can be used.
func cmdDiff(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	var rf runFlags
	rf.register(fs)
	maxShown := fs.Int("max", 20, "show at most this many packet divergences (all are counted)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: xdpsim diff [flags] PROG.o TRACE.pcap [TRACE.pcap...]\n%s", fs.FlagUsages())
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
	if err := kernel.Available(); err != nil {
		return &exitError{3, err}
	}
	objPath, traces := fs.Arg(0), fs.Args()[1:]
	opts, err := rf.loadOptions()
	if err != nil {
		return &exitError{2, err}
	}
	d, err := newDiffer(objPath, rf, opts)
	if err != nil {
		return err
	}
	defer d.close()
	var divergences, n int
	for _, tr := range traces {
		err := readTrace(tr, func(rec record) error {
			n++
			for _, msg := range d.packet(n, rec) {
				divergences++
				if divergences <= *maxShown {
					fmt.Fprintln(stdout, msg)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	mapDiffs, err := d.maps()
	if err != nil {
		return err
	}
	for _, msg := range mapDiffs {
		fmt.Fprintln(stdout, msg)
	}
	total := divergences + len(mapDiffs)
	if divergences > *maxShown {
		fmt.Fprintf(stdout, "... %d more packet divergences not shown\n", divergences-*maxShown)
	}
	if total > 0 {
		fmt.Fprintf(stdout, "%s: %d packets: %d packet divergences, %d map divergences\n", objPath, n, divergences, len(mapDiffs))
		return &exitError{1, nil}
	}
	fmt.Fprintf(stdout, "%s: %d packets: simulator and kernel agree (return values, data, metadata, maps)\n", objPath, n)
	return nil
}

// differ holds both sides of a comparison.
type differ struct {
	rf  runFlags
	x   *sim.XDP
	obj *sim.Object
	kp  *kernel.Program
}

func newDiffer(objPath string, rf runFlags, opts sim.LoadOptions) (*differ, error) {
	host, err := rf.hostConfig()
	if err != nil {
		return nil, &exitError{2, err}
	}
	kopts := kernel.Options{Program: rf.prog, Variables: opts.Set, MapSizes: opts.Resize}
	if host != nil {
		kopts.HostSetup = host.Commands()
	}
	kp, err := kernel.Load(objPath, kopts)
	if err != nil {
		return nil, err
	}
	// Per-CPU maps hold one value per possible CPU in the kernel: simulate as many.
	opts.CPUs = kp.NumCPU()
	obj, err := sim.Load(objPath, opts)
	if err != nil {
		kp.Close()
		return nil, err
	}
	prog, err := obj.FindProgram(rf.prog)
	if err != nil {
		kp.Close()
		return nil, err
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		kp.Close()
		return nil, err
	}
	x.SetSeed(rf.seed)
	x.SetHost(host)
	d := &differ{rf: rf, x: x, obj: obj, kp: kp}
	if rf.mapsIn != "" {
		if err := loadMapsFile(obj, rf.mapsIn); err != nil {
			kp.Close()
			return nil, err
		}
		var in result.Maps
		if err := readJSON(rf.mapsIn, &in); err != nil {
			kp.Close()
			return nil, err
		}
		if err := kp.LoadMaps(in); err != nil {
			kp.Close()
			return nil, fmt.Errorf("kernel: %w", err)
		}
	}
	return d, nil
}

func (d *differ) close() { d.kp.Close() }

// packet runs one packet on both sides and describes each difference.
func (d *differ) packet(n int, rec record) []string {
	cpu := 0
	cond := sim.Conditions{IngressIfindex: d.rf.ifindex, RxQueue: d.rf.rxq, CPU: cpu, TimeNs: uint64(rec.ts.UnixNano())}
	s := d.x.Run(rec.data, nil, cond)
	k := d.kp.Run(rec.data, nil, kernel.Context{IngressIfindex: d.rf.ifindex, RxQueue: d.rf.rxq, CPU: cpu})
	return result.ComparePackets(n, s.Packet, k)
}

// maps compares map contents after the run.
func (d *differ) maps() ([]string, error) {
	sm, err := d.obj.DumpMaps()
	if err != nil {
		return nil, err
	}
	km, err := d.kp.DumpMaps()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	return result.CompareMaps(sm, km), nil
}
