package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
)

// The kernel side of several objects (xdpsim diff A.o B.o -- TRACE, xdpsim run --engine kernel
// A.o B.o -- TRACE) is libxdp's own dispatcher program loaded by package kernel with the plan the
// simulator computed (slot order, chain-call bitmaps, priorities, frags), each program's code in
// place of the stub it replaces: this kernel refuses freplace, see kernel.LoadDispatcher and
// docs/dispatcher.md. diff also asks the real libxdp (xdp-loader) for its plan, where xdp-loader
// can express the flags, and reports a different plan as a divergence.

// kernelDispatcherTarget is libxdp's dispatcher in the kernel as a replay.Target: each packet one
// BPF_PROG_TEST_RUN of the dispatcher, the maps every slot's, named as the simulator names them.
type kernelDispatcherTarget struct {
	kernelTarget
	d *kernel.Dispatcher
}

func (k kernelDispatcherTarget) DumpMaps() (result.Maps, error) {
	m, err := k.d.DumpMaps()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	return m, nil
}

// What the kernel side cannot do, for one object or several.
var (
	errDeviceKernel = errors.New("--device: the kernel cannot test-run packets as a device delivers them (RX-metadata hints, VLAN offload, RSS queues); run it in the simulator")
	errTraceKernel  = errors.New("--trace needs the simulator: the kernel does not show the instructions it runs")
)

// checkKernelDispatcher refuses, before anything is loaded, what the kernel side cannot do with
// several objects. Errors carry exit codes.
func (f *runFlags) checkKernelDispatcher(c runConditions, eng engine) error {
	switch {
	case c.dev != nil:
		return usageErr(errDeviceKernel)
	case f.trace && eng.kernel:
		return usageErr(errTraceKernel)
	case len(f.tc) > 0:
		return usageErr(errors.New("--tc needs the simulator: BPF_PROG_TEST_RUN runs the dispatcher, not the path from XDP to tc"))
	case c.host != nil:
		return usageErr(errors.New("--host, --route, --neigh: with several objects the kernel side sets up no host (package kernel's LoadDispatcher takes no host setup); run them in the simulator"))
	case eng.kernel && f.coverage.wanted():
		return usageErr(errCoverageKernel)
	}
	if err := kernel.Available(); err != nil {
		return &exitError{exitNoKernel, err}
	}
	if _, err := os.Stat(kernel.DispatcherObject); err != nil {
		return &exitError{exitNoKernel, fmt.Errorf("kernel: libxdp's dispatcher object: %w (install Debian's libxdp1)", err)}
	}
	return nil
}

// loadKernelDispatcher loads libxdp's dispatcher into the kernel with x's plan: the programs of
// paths (progs[i] from paths[i]) in the slots the plan gives them, and its configuration.
func loadKernelDispatcher(x *sim.XDP, progs []*sim.Program, paths []string) (*kernel.Dispatcher, error) {
	plan := x.Dispatcher()
	config, err := plan.Config.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var slots []kernel.Slot
	for _, s := range plan.Slots {
		slots = append(slots, kernel.Slot{Path: paths[s.Program.Ref], Program: progs[s.Program.Ref].Name})
	}
	kd, err := kernel.LoadDispatcher(kernel.DispatcherObject, slots, config)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "kernel: ") {
			err = fmt.Errorf("kernel: %w", err)
		}
		return nil, err
	}
	return kd, nil
}

// xdpLoaderOptions are the dispatcher flags as xdp-loader's load options, when xdp-loader can
// express them: one --prio (not 0, which xdp-loader ignores) and one --actions for every program,
// no per-program values, nothing marked frags-aware, libxdp 1.3.1. Otherwise why says why not.
func (d *dispatchFlags) xdpLoaderOptions() (opts kernel.LibxdpOptions, why string) {
	switch {
	case d.libxdp != "1.3.1":
		return opts, "xdp-loader is libxdp 1.3.1's, not " + d.libxdp + "'s"
	case d.frags:
		return opts, "--frags-aware is libxdp's API (xdp_program__set_xdp_frags_support), which xdp-loader does not offer"
	case len(d.prio) > 1 || len(d.actions) > 1:
		return opts, "xdp-loader takes one --prio and one --actions for every program"
	}
	for _, v := range d.prio {
		if strings.Contains(v, "=") {
			return opts, "a per-program --run-prio is libxdp's API (xdp_program__set_run_prio), which xdp-loader does not offer"
		}
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil || n == 0 {
			return opts, "xdp-loader ignores --prio 0"
		}
		opts.Priority = uint32(n)
	}
	for _, v := range d.actions {
		if strings.Contains(v, "=") {
			return opts, "per-program --chain-actions are libxdp's API (xdp_program__set_chain_call_enabled), which xdp-loader does not offer"
		}
		acts, err := device.ParseActions(v)
		if err != nil || acts == 0 {
			return opts, "xdp-loader cannot take an empty --actions"
		}
		opts.Actions = acts.String()
	}
	return opts, ""
}

// libxdpPlanDiffs asks the real libxdp (xdp-loader load, in a network namespace of its own) for the
// configuration it writes into its dispatcher for the objects and compares it with x's plan: one
// line per difference. skipped says why it could not ask ("" when it did).
func libxdpPlanDiffs(df *dispatchFlags, paths []string, x *sim.XDP) (diffs []string, skipped string, err error) {
	opts, why := df.xdpLoaderOptions()
	if why != "" {
		return nil, why, nil
	}
	if _, err := exec.LookPath(kernel.XDPLoader); err != nil {
		return nil, fmt.Sprintf("%v (install Debian's xdp-tools)", err), nil
	}
	res, err := kernel.RunLibxdp(paths, opts)
	if err != nil {
		if errors.Is(err, kernel.ErrNoKernel) {
			return nil, err.Error(), nil
		}
		return nil, "", err
	}
	if res.Config == nil {
		return []string{"dispatcher plan: libxdp built no dispatcher, the simulator did; xdp-loader said:\n" + res.Output}, "", nil
	}
	var real device.Config
	if err := real.UnmarshalBinary(res.Config); err != nil {
		return nil, "", fmt.Errorf("libxdp's dispatcher configuration: %w", err)
	}
	return comparePlans(real, x.Dispatcher().Config), "", nil
}

// comparePlans lists where the simulator's dispatcher configuration differs from libxdp's.
func comparePlans(real, simulated device.Config) []string {
	var out []string
	if real.Version != simulated.Version || real.NumProgsEnabled != simulated.NumProgsEnabled || real.IsXDPFrags != simulated.IsXDPFrags {
		out = append(out, fmt.Sprintf("dispatcher plan: libxdp: version %d, %d programs, frags %d; simulator: version %d, %d programs, frags %d",
			real.Version, real.NumProgsEnabled, real.IsXDPFrags, simulated.Version, simulated.NumProgsEnabled, simulated.IsXDPFrags))
	}
	for i := range device.MaxPrograms {
		if real.RunPrios[i] != simulated.RunPrios[i] || real.ChainCallActions[i] != simulated.ChainCallActions[i] || real.ProgramFlags[i] != simulated.ProgramFlags[i] {
			out = append(out, fmt.Sprintf("dispatcher plan: slot %d: libxdp: priority %d, chain-call bitmap %#x, flags %#x; simulator: priority %d, chain-call bitmap %#x, flags %#x",
				i, real.RunPrios[i], real.ChainCallActions[i], real.ProgramFlags[i], simulated.RunPrios[i], simulated.ChainCallActions[i], simulated.ProgramFlags[i]))
		}
	}
	return out
}

// openDispatcherDiff opens diff's session for the objects before the "--" at dash in args (the
// traces after it) and asks the real libxdp for its plan: the differences from the simulator's
// are the plan's divergences. What could not be asked is said on stderr.
func openDispatcherDiff(rf *runFlags, df *dispatchFlags, args []string, dash int, stderr io.Writer) (*session, []string, []string, error) {
	objs, traces := args[:dash], args[dash:]
	if len(objs) == 0 || len(traces) == 0 {
		return nil, nil, nil, usageErr(errors.New("need objects before -- and traces after it (see xdpsim diff --help)"))
	}
	s, err := rf.openDispatcher(df, objs, kernelAlso, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	diffs, skipped, err := libxdpPlanDiffs(df, objs, s.x)
	if err != nil {
		s.close()
		return nil, nil, nil, &exitError{exitNoKernel, fmt.Errorf("the real libxdp: %w", err)}
	}
	if skipped != "" {
		fmt.Fprintf(stderr, "xdpsim: the plan is the simulator's, not checked against the real libxdp: %s\n", skipped)
	} else if len(diffs) == 0 {
		fmt.Fprintf(stderr, "xdpsim: the real libxdp (%s) plans the same dispatcher configuration\n", kernel.XDPLoader)
	}
	return s, diffs, traces, nil
}
