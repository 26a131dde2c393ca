package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// dispatchFlags say how several objects are attached through libxdp's dispatcher: the changes to
// their run configurations libxdp's API (and xdp-loader's --prio and --actions) allow, and which
// libxdp's stubs to model.
type dispatchFlags struct {
	prio    []string
	actions []string
	frags   bool
	libxdp  string
}

func (d *dispatchFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&d.prio, "run-prio", nil, "with several objects: set a program's run priority, [PROG=]N, PROG a function name or object file; without PROG every program's, as xdp-loader --prio (repeatable)")
	fs.StringArrayVar(&d.actions, "chain-actions", nil, "with several objects: set a program's chain-call actions, [PROG=]LIST (XDP_PASS,XDP_DROP,...; \"\" for none); without PROG every program's, as xdp-loader --actions (repeatable)")
	fs.BoolVar(&d.frags, "frags-aware", false, "with several objects: mark the SEC(\"xdp.frags\") programs frags-aware, as libxdp's xdp_program__set_xdp_frags_support does (xdp-loader cannot: without it libxdp 1.3.1 takes no program as frags-aware)")
	fs.StringVar(&d.libxdp, "libxdp", "1.3.1", "with several objects: the libxdp whose dispatcher to model: 1.3.1 (Debian 12's), or 1.5.5, whose stubs let programs that change packet data (bpf_xdp_adjust_head, _meta, _tail, tail calls) be attached on Linux 6.13 and later")
}

// options is the dispatcher model the flags select.
func (d *dispatchFlags) options() (device.Options, error) {
	o, err := device.LibXDPOptions(d.libxdp)
	if err != nil {
		return o, fmt.Errorf("--%w", err)
	}
	return o, nil
}

// used says whether any dispatcher flag was given.
func (d *dispatchFlags) used(fs *pflag.FlagSet) []string {
	var out []string
	for _, n := range []string{"run-prio", "chain-actions", "frags-aware", "libxdp"} {
		if fs.Changed(n) {
			out = append(out, "--"+n)
		}
	}
	return out
}

// attachments makes the programs' attachments, with the overrides the flags give each.
func (d *dispatchFlags) attachments(progs []*sim.Program, paths []string) ([]sim.Attachment, error) {
	atts := make([]sim.Attachment, len(progs))
	for i, p := range progs {
		atts[i].Program = p
		if d.frags && p.Frags {
			yes := true
			atts[i].Override.Frags = &yes
		}
	}
	// which finds the programs a "PROG=" names: by function name, object path or base name.
	which := func(flag, key string) ([]int, error) {
		var out []int
		for i, p := range progs {
			if key == p.Name || key == paths[i] || key == filepath.Base(paths[i]) {
				out = append(out, i)
			}
		}
		if len(out) == 0 {
			var names []string
			for i, p := range progs {
				names = append(names, p.Name+" ("+paths[i]+")")
			}
			return nil, fmt.Errorf("--%s %s=...: no program or object %q among %s", flag, key, key, strings.Join(names, ", "))
		}
		return out, nil
	}
	split := func(flag, v string) ([]int, string, error) {
		key, val, ok := strings.Cut(v, "=")
		if !ok {
			all := make([]int, len(progs))
			for i := range all {
				all[i] = i
			}
			return all, v, nil
		}
		idx, err := which(flag, key)
		return idx, val, err
	}
	for _, v := range d.prio {
		idx, val, err := split("run-prio", v)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(val, 0, 32)
		if err != nil {
			return nil, fmt.Errorf("--run-prio %s: %q is not a priority (0 to 4294967295)", v, val)
		}
		prio := uint32(n)
		for _, i := range idx {
			atts[i].Override.Priority = &prio
		}
	}
	for _, v := range d.actions {
		idx, val, err := split("chain-actions", v)
		if err != nil {
			return nil, err
		}
		acts, err := device.ParseActions(val)
		if err != nil {
			return nil, fmt.Errorf("--chain-actions %s: %w", v, err)
		}
		for _, i := range idx {
			atts[i].Override.Actions = &acts
		}
	}
	return atts, nil
}

// openDispatcher is open for several objects: each loaded on its own (as xdp-loader opens each
// file), their programs attached through libxdp's dispatcher in the simulator and, when the
// command uses the kernel, through libxdp's dispatcher program in the kernel with the same plan
// (see dispatchkernel.go).
func (f *runFlags) openDispatcher(df *dispatchFlags, paths []string, use kernelUse, stderr io.Writer) (*session, error) {
	eng, err := lookupEngine(f.engine)
	if err != nil {
		return nil, usageErr(err)
	}
	if use == kernelAlso && eng.kernel {
		return nil, usageErr(errors.New("--engine kernel: diff compares a simulator engine with the kernel; name the simulator's engine (" + strings.Join(engineNames()[:len(engineNames())-1], ", ") + ")"))
	}
	useKernel := eng.kernel || use == kernelAlso
	switch {
	case f.prog != "" || f.typ != "":
		return nil, usageErr(errors.New("--prog, --type: with several objects each must hold one XDP program, as xdp-loader takes the first of each file"))
	case len(f.set) > 0 || len(f.resize) > 0:
		return nil, usageErr(errors.New("--set, --resize: not available with several objects"))
	}
	dopts, err := df.options()
	if err != nil {
		return nil, usageErr(err)
	}
	opts, c, err := f.conditions()
	if err != nil {
		return nil, err
	}
	if useKernel {
		if err := f.checkKernelDispatcher(c, eng); err != nil {
			return nil, err
		}
		// Per-CPU maps hold one value per possible CPU in the kernel: simulate as many.
		if opts.CPUs, err = ebpf.PossibleCPU(); err != nil {
			return nil, &exitError{exitNoKernel, fmt.Errorf("kernel: %w", err)}
		}
	}
	var progs []*sim.Program
	for _, path := range paths {
		obj, err := sim.Load(path, opts)
		if err != nil {
			return nil, usageErr(err)
		}
		p, err := obj.FindProgram("")
		if err != nil {
			return nil, usageErr(err)
		}
		for _, n := range obj.Notices {
			fmt.Fprintf(stderr, "xdpsim: %s: %s\n", path, n)
		}
		if use == kernelAlso {
			if n := cookieNotice(p); n != "" {
				fmt.Fprintf(stderr, "xdpsim: %s: %s\n", path, n)
			}
		}
		progs = append(progs, p)
	}
	atts, err := df.attachments(progs, paths)
	if err != nil {
		return nil, usageErr(err)
	}
	x, err := sim.NewDispatcher(atts, dopts)
	if err != nil {
		return nil, usageErr(err)
	}
	fmt.Fprintf(stderr, "xdpsim: attached as libxdp %s attaches them: %s\n", df.libxdp, x.Dispatcher().Summary())
	s := &session{objPath: strings.Join(paths, " "), obj: progs[0].Object(), prog: progs[0], x: x, engine: eng}
	var kd *kernel.Dispatcher
	if useKernel {
		if kd, err = loadKernelDispatcher(x, progs, paths); err != nil {
			return nil, usageErr(err)
		}
		s.kp = kd.Program
		s.kernel = kernelDispatcherTarget{kernelTarget{kd.Program}, kd}
		fmt.Fprintf(stderr, "xdpsim: kernel: libxdp's dispatcher (%s) with this plan, each program's code in place of its stub (no freplace: see docs/dispatcher.md)\n", kernel.DispatcherObject)
		if df.libxdp != "1.3.1" {
			fmt.Fprintf(stderr, "xdpsim: kernel: libxdp 1.3.1's dispatcher object stands in for %s's: the two differ in the stubs, which the programs' code replaces there\n", df.libxdp)
		}
	}
	fail := func(err error) (*session, error) {
		s.close()
		return nil, err
	}
	for _, m := range x.Machines() {
		m.SetEngine(eng.vm)
		m.SetBudget(f.budget)
	}
	x.SetSeed(f.seed)
	x.SetHost(c.host)
	// The components' objects share the host's devices (control maps reach them from any slot).
	devices := c.devices
	if devices == nil {
		devices = device.NewSet()
		_ = devices.Add(device.NewLoopback())
	}
	for _, p := range progs {
		p.Object().SetDevices(devices)
	}
	if c.dev != nil {
		if err := c.dev.AttachXDP(&device.XDPProgram{Frags: x.Dispatcher().Frags}); err != nil {
			return fail(usageErr(err))
		}
	}
	x.SetDevice(c.dev)
	if f.mapsIn != "" {
		in, err := readMaps(f.mapsIn, f.mapsInFormat, btfjson.MapSpecTypes(x.MapSpecs()))
		if err != nil {
			return fail(usageErr(fmt.Errorf("--maps-in: %w", err)))
		}
		if err := x.LoadMaps(in); err != nil {
			return fail(usageErr(fmt.Errorf("--maps-in %s: %w", f.mapsIn, err)))
		}
		if kd != nil {
			if err := kd.LoadMaps(in); err != nil {
				return fail(usageErr(fmt.Errorf("--maps-in %s: kernel: %w", f.mapsIn, err)))
			}
		}
	}
	if len(f.tc) > 0 {
		// tc ingress behind the dispatcher, as behind a single XDP program.
		if s.tc, err = f.ingressChain(s, opts); err != nil {
			return fail(err)
		}
		x.SetIngress(s.tc)
		f.tune(s.tc, eng)
		s.tc.SetSeed(f.seed)
	}
	if err := f.helpers.apply(s); err != nil {
		return fail(err)
	}
	s.target = replay.Sim{X: x}
	if eng.kernel {
		s.target = s.kernel
	} else {
		sayInterpreted(stderr, eng, x.Programs())
	}
	if s.loop, err = f.newLoop(s, opts.CPUs, c.snap, stderr); err != nil {
		return fail(err)
	}
	return s, nil
}
