package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// requireKernelDispatcher skips, saying why, where libxdp's dispatcher cannot be loaded into the
// kernel: no BPF, or no libxdp dispatcher object (Debian's libxdp1).
func requireKernelDispatcher(t *testing.T) {
	t.Helper()
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: no kernel to load libxdp's dispatcher into: %v", err)
	}
	if _, err := os.Stat(kernel.DispatcherObject); err != nil {
		t.Skipf("SKIP: libxdp's dispatcher object: %v (Debian's libxdp1)", err)
	}
}

// setArgs are the objects (compiled for -mcpu=v4) and flags of a corpus dispatcher set as the
// command line gives them, and its traces.
func setArgs(t *testing.T, set corpus.DispatcherSet) (objs, flags, traces []string) {
	t.Helper()
	objs = dispObjects(t, set.Programs...)
	if set.Priority != 0 {
		flags = append(flags, "--run-prio", fmt.Sprint(set.Priority))
	}
	if set.Actions != "" {
		flags = append(flags, "--chain-actions", set.Actions)
	}
	if set.SetFrags {
		flags = append(flags, "--frags-aware")
	}
	if set.PacketChangingStubs {
		flags = append(flags, "--libxdp", "1.5.5")
	}
	for _, tr := range set.Traces {
		traces = append(traces, corpus.TracePath(tr))
	}
	return objs, flags, traces
}

var agreeLine = regexp.MustCompile(`: (\d+) packets: simulator \(jit\) and kernel agree \(return values, data, metadata, every slot's maps\)\n`)

// TestDiffHoldsEveryDispatcherSetToTheKernel runs xdpsim diff on every corpus dispatcher set over
// its traces: the simulator and libxdp's dispatcher in the kernel must agree on every packet and
// every slot's maps, and, where xdp-loader can express the set's flags, the real libxdp must plan
// the dispatcher the simulator plans.
func TestDiffHoldsEveryDispatcherSetToTheKernel(t *testing.T) {
	requireKernelDispatcher(t)
	_, noLoader := exec.LookPath(kernel.XDPLoader)
	total := 0
	for _, set := range corpus.Dispatchers() {
		t.Run("the "+set.Name+" set agrees", func(t *testing.T) {
			objs, flags, traces := setArgs(t, set)
			args := append(append(append([]string{"diff"}, objs...), flags...), "--")
			rc, stdout, stderr := runCmd(t, append(args, traces...)...)
			m := agreeLine.FindStringSubmatch(stdout)
			if rc != 0 || m == nil {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", rc, stdout, stderr)
			}
			var n int
			fmt.Sscan(m[1], &n)
			if n == 0 {
				t.Errorf("no packets compared: %s", stdout)
			}
			total += n
			checked := strings.Contains(stderr, "the real libxdp (xdp-loader) plans the same dispatcher configuration")
			switch {
			case noLoader != nil:
				t.Logf("the plan is not checked against libxdp: %v", noLoader)
			case set.SetFrags || set.PacketChangingStubs:
				if checked || !strings.Contains(stderr, "not checked against the real libxdp: ") {
					t.Errorf("xdp-loader cannot express %v, yet stderr says:\n%s", flags, stderr)
				}
			case !checked:
				t.Errorf("the plan was not checked against the real libxdp:\n%s", stderr)
			}
		})
	}
	t.Logf("%d packets over %d sets: the simulator and the kernel agree", total, len(corpus.Dispatchers()))
}

// TestRunOnTheKernelCountsWhatTheSimulatorCounts: run --engine kernel with several objects gives
// the verdicts the simulator gives, with per-program overrides (which only libxdp's API has) as
// with xdp-loader's.
func TestRunOnTheKernelCountsWhatTheSimulatorCounts(t *testing.T) {
	requireKernelDispatcher(t)
	objs := dispObjects(t, "disp_echo", "disp_fw", "disp_mon")
	for _, flags := range [][]string{
		nil,
		{"--run-prio", "xdp_mon=5", "--chain-actions", "disp_fw.v4.o=XDP_PASS,XDP_DROP"},
	} {
		t.Run(fmt.Sprintf("with flags %q", flags), func(t *testing.T) {
			counts := map[string]string{}
			for _, engine := range []string{"jit", "kernel"} {
				args := append(append(append([]string{"run", "--engine", engine}, objs...), flags...), "--", corpus.TracePath("mixed.pcap"))
				rc, stdout, stderr := runCmd(t, args...)
				if rc != 0 {
					t.Fatalf("%s: exit %d: %s", engine, rc, stderr)
				}
				i := strings.Index(stdout, "libxdp's dispatcher of 3 programs: 4000 packets (")
				if i < 0 {
					t.Fatalf("%s: stdout:\n%s", engine, stdout)
				}
				_, counts[engine], _ = strings.Cut(stdout[i:], "\n")
			}
			if counts["jit"] != counts["kernel"] || !strings.Contains(counts["jit"], "XDP_TX") {
				t.Errorf("simulator:\n%skernel:\n%s", counts["jit"], counts["kernel"])
			}
		})
	}
}

// TestDiffReportsADifferentDispatcher shows the check can fail: a kernel dispatcher with its
// slots in another order than the simulator's, and a simulator plan in another order than the
// real libxdp's, are reported.
func TestDiffReportsADifferentDispatcher(t *testing.T) {
	requireKernelDispatcher(t)
	t.Run("a kernel dispatcher in another order diverges on packets and maps", func(t *testing.T) {
		set, _ := corpus.LookupDispatcher("chain-rules")
		objs, _, _ := setArgs(t, set)
		var rf runFlags
		var df dispatchFlags
		fs := newFlagSet("diff", "", io.Discard)
		rf.register(fs, "")
		df.register(fs)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		s, err := rf.openDispatcher(&df, objs, kernelAlso, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		// The kernel's dispatcher with its two slots swapped, each keeping its configuration:
		// xdp_last first, whose return values end the chain where xdp_verdict's went on.
		plan := s.x.Dispatcher()
		cfg := plan.Config
		cfg.RunPrios[0], cfg.RunPrios[1] = cfg.RunPrios[1], cfg.RunPrios[0]
		cfg.ChainCallActions[0], cfg.ChainCallActions[1] = cfg.ChainCallActions[1], cfg.ChainCallActions[0]
		config, _ := cfg.MarshalBinary()
		var slots []kernel.Slot
		for _, i := range []int{1, 0} {
			ref := plan.Slots[i].Program.Ref
			slots = append(slots, kernel.Slot{Path: objs[ref], Program: plan.Slots[i].Program.Name})
		}
		kd, err := kernel.LoadDispatcher(kernel.DispatcherObject, slots, config)
		if err != nil {
			t.Fatal(err)
		}
		defer kd.Close()
		var lines []string
		cmp := &replay.Compare{Other: kernelDispatcherTarget{kernelTarget{kd.Program}, kd}, Report: func(l string) error {
			lines = append(lines, l)
			return nil
		}}
		s.loop.Sinks = append(s.loop.Sinks, cmp)
		if err := kd.OnTestThread(func() error { return s.loop.Run(corpus.TracePath("mixed.pcap")) }); err != nil {
			t.Fatal(err)
		}
		if cmp.PacketDiffs == 0 || cmp.MapDiffs == 0 {
			t.Errorf("%d packet and %d map divergences; want some of each:\n%s", cmp.PacketDiffs, cmp.MapDiffs, strings.Join(lines, "\n"))
		}
	})
	t.Run("a simulator plan in another order than libxdp's is a plan divergence", func(t *testing.T) {
		if _, err := exec.LookPath(kernel.XDPLoader); err != nil {
			t.Skipf("SKIP: %v: install Debian's xdp-tools (libxdp 1.3.1) to compare with the real libxdp", err)
		}
		set, _ := corpus.LookupDispatcher("pipeline")
		objs, _, _ := setArgs(t, set)
		res, err := kernel.RunLibxdp(objs, kernel.LibxdpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var real device.Config
		if err := real.UnmarshalBinary(res.Config); err != nil {
			t.Fatal(err)
		}
		if d := comparePlans(real, real); len(d) != 0 {
			t.Fatalf("libxdp's plan differs from itself: %q", d)
		}
		moved := real
		moved.RunPrios[0], moved.RunPrios[2] = moved.RunPrios[2], moved.RunPrios[0]
		d := comparePlans(real, moved)
		if len(d) != 2 || !strings.HasPrefix(d[0], "dispatcher plan: slot 0: libxdp: priority 1,") || !strings.HasPrefix(d[1], "dispatcher plan: slot 2: ") {
			t.Errorf("plan divergences: %q", d)
		}
	})
}

func TestDiffOfSeveralObjectsRefusesWhatTheKernelCannotDo(t *testing.T) {
	requireKernelDispatcher(t)
	objs := dispObjects(t, "disp_echo", "disp_fw")
	trace := corpus.TracePath("mixed.pcap")
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"a simulated device", []string{"--device", "mlx5"}, "--device: the kernel cannot test-run packets as a device delivers them"},
		{"a tc chain behind the dispatcher", []string{"--tc", objectOf(t, "udp_echo")}, "--tc needs the simulator"},
		{"the kernel as the simulator's engine", []string{"--engine", "kernel"}, "diff compares a simulator engine with the kernel"},
		{"a program named", []string{"-p", "xdp_fw"}, "--prog, --type: with several objects"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			args := append(append(append([]string{"diff"}, objs...), tc.flags...), "--", trace)
			rc, _, stderr := runCmd(t, args...)
			if rc != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tc.want)
			}
		})
	}
}
