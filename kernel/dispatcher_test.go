package kernel_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// requireLibxdp skips (saying why) where the real libxdp cannot be run: no kernel side, or no
// xdp-loader and libxdp dispatcher object (Debian's xdp-tools and libxdp1).
func requireLibxdp(t *testing.T) {
	t.Helper()
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	if _, err := exec.LookPath(kernel.XDPLoader); err != nil {
		t.Skipf("SKIP: %v: install Debian's xdp-tools (libxdp 1.3.1) to compare with the real libxdp", err)
	}
	if _, err := os.Stat(kernel.DispatcherObject); err != nil {
		t.Skipf("SKIP: libxdp's dispatcher object: %v (Debian's libxdp1)", err)
	}
	if _, err := kernel.RunLibxdp(nil, kernel.LibxdpOptions{}); err != nil && errors.Is(err, kernel.ErrNoKernel) {
		t.Skipf("SKIP: %v", err)
	}
}

// setObjects are the object files of a dispatcher set, in the order given, for one ISA level.
func setObjects(t *testing.T, set corpus.DispatcherSet, cpu string) ([]string, []corpus.Program) {
	t.Helper()
	var paths []string
	var progs []corpus.Program
	for _, name := range set.Programs {
		p, ok := corpus.Lookup(name)
		if !ok {
			t.Fatalf("set %s: no corpus program %s", set.Name, name)
		}
		paths = append(paths, p.Object(cpu))
		progs = append(progs, p)
	}
	return paths, progs
}

// realSlots reads, from the configuration the real libxdp wrote, which of the given programs
// went into each slot: the one whose run priority and chain-call actions (as libxdp read them)
// match the slot's. The corpus gives every program of a set a combination of its own, so that the
// match is unique.
func realSlots(t *testing.T, res *kernel.LibxdpResult, progs []corpus.Program) []int {
	t.Helper()
	var cfg device.Config
	if err := cfg.UnmarshalBinary(res.Config); err != nil {
		t.Fatal(err)
	}
	var slots []int
	for i := range int(cfg.NumProgsEnabled) {
		match := -1
		for j, lp := range res.Programs {
			acts, err := device.ParseActions(lp.Actions)
			if err != nil {
				t.Fatal(err)
			}
			if lp.Priority == cfg.RunPrios[i] && uint32(acts)|1<<device.ContinueRetval == cfg.ChainCallActions[i] {
				if match >= 0 {
					t.Fatalf("slot %d matches programs %d and %d: give them different run configurations", i, match, j)
				}
				match = j
			}
		}
		if match < 0 {
			t.Fatalf("slot %d (priority %d, actions %#x) matches no program given: %+v", i, cfg.RunPrios[i], cfg.ChainCallActions[i], res.Programs)
		}
		slots = append(slots, match)
	}
	return slots
}

// TestTheDispatcherPlanIsLibxdps holds the simulator's dispatcher plan to the real libxdp's: for
// every corpus set, at both ISA levels, xdp-loader attaches the objects and the configuration
// libxdp writes into its dispatcher (slots' run priorities, chain-call bitmaps, program flags,
// frags) must be byte for byte the simulator's, and what libxdp read of each program (priority
// and actions after xdp-loader's options) must be what the simulator read from the BTF.
func TestTheDispatcherPlanIsLibxdps(t *testing.T) {
	requireLibxdp(t)
	sets := 0
	for _, set := range corpus.Dispatchers() {
		for _, cpu := range corpus.CPUs {
			t.Run(set.Name+"."+cpu, func(t *testing.T) {
				if set.SetFrags {
					t.Skipf("SKIP: the set marks programs frags-aware through libxdp's API, which xdp-loader cannot (see the frags set for what it does)")
				}
				paths, progs := setObjects(t, set, cpu)
				res, err := kernel.RunLibxdp(paths, kernel.LibxdpOptions{Priority: set.Priority, Actions: set.Actions})
				if err != nil {
					t.Fatal(err)
				}
				if res.Config == nil {
					t.Fatalf("libxdp built no dispatcher; xdp-loader said:\n%s", res.Output)
				}
				x, _ := simtest.DispatcherOf(t, set, cpu, 1)
				d := x.Dispatcher()
				want, _ := d.Config.MarshalBinary()
				if !bytes.Equal(res.Config, want) {
					t.Errorf("dispatcher configuration\nlibxdp:    %s\nsimulator: %s", hex.EncodeToString(res.Config), hex.EncodeToString(want))
				}
				for i, lp := range res.Programs {
					var sp device.Program
					for _, s := range d.Slots {
						if s.Program.Ref == i {
							sp = s.Program
						}
					}
					if lp.Name != sp.Name || lp.Priority != sp.Config.Priority || lp.Actions != sp.Config.Actions.String() {
						t.Errorf("program %d: libxdp read %+v, the simulator %s %d %s", i, lp, sp.Name, sp.Config.Priority, sp.Config.Actions)
					}
				}
				real := realSlots(t, res, progs)
				for i, s := range d.Slots {
					if s.Program.Ref != real[i] {
						t.Errorf("slot %d: libxdp put program %d there, the simulator %d", i, real[i], s.Program.Ref)
					}
				}
				switch {
				case res.Legacy:
					t.Logf("libxdp could not fill the dispatcher and attached the program on its own")
				case res.Attached:
					t.Logf("xdp-loader attached the dispatcher: this kernel allows extension programs")
				case strings.Contains(res.Output, "Compatibility check for dispatcher program failed: Operation not permitted"):
					t.Logf("libxdp built the dispatcher's configuration, then found that this kernel refuses extension programs")
				}
				sets++
			})
		}
	}
	t.Logf("%d runs of xdp-loader (sets x ISA levels): the simulator's configuration is libxdp's in each", sets)
}

// TestLibxdpRefusesAnEleventhProgram: libxdp's limit is the simulator's, with the same errno.
func TestLibxdpRefusesAnEleventhProgram(t *testing.T) {
	requireLibxdp(t)
	mon, _ := corpus.Lookup("disp_mon")
	var paths []string
	for range 11 {
		paths = append(paths, mon.Object("v4"))
	}
	res, err := kernel.RunLibxdp(paths, kernel.LibxdpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config != nil || res.Attached || !strings.Contains(res.Output, "Argument list too long(-7)") {
		t.Errorf("libxdp: config %x, attached %v; xdp-loader said:\n%s", res.Config, res.Attached, res.Output)
	}
	set := corpus.DispatcherSet{Name: "eleven"}
	for range 11 {
		set.Programs = append(set.Programs, "disp_mon")
	}
	_, objs := setObjects(t, set, "v4")
	var atts []sim.Attachment
	for range objs {
		obj, err := sim.Load(mon.Object("v4"), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := obj.FindProgram(mon.Entry)
		atts = append(atts, sim.Attachment{Program: p})
	}
	if _, err := sim.NewDispatcher(atts, device.Options{}); !errors.Is(err, device.ErrTooMany) {
		t.Errorf("simulator: %v", err)
	}
}

// TestXDPLoaderCarriesTheDispatcherObject: the dispatcher kernel.LoadDispatcher builds from is
// byte for byte the one xdp-loader embeds and loads.
func TestXDPLoaderCarriesTheDispatcherObject(t *testing.T) {
	requireLibxdp(t)
	loader, _ := exec.LookPath(kernel.XDPLoader)
	bin, err := os.ReadFile(loader)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile(kernel.DispatcherObject)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bin, obj) {
		t.Errorf("%s does not hold the %d bytes of %s", loader, len(obj), kernel.DispatcherObject)
	}
}

// TestSimulatedDispatcherAgreesWithLibxdpsDispatcher runs every corpus set over its traces, at both
// ISA levels, in the simulator and in the kernel, and requires full agreement on every packet
// (return value, output bytes, metadata) and on every slot's maps after each trace. The kernel
// side is libxdp's own dispatcher program (Debian's xdp-dispatcher.o, the configuration the real
// libxdp computed for the set, its programs in the slots libxdp gave them; see
// kernel.LoadDispatcher for how the slots are filled on a kernel without freplace).
func TestSimulatedDispatcherAgreesWithLibxdpsDispatcher(t *testing.T) {
	requireLibxdp(t)
	traces := map[string][]tracePacket{}
	for _, tr := range corpus.Traces() {
		traces[tr.Name] = readTrace(t, tr.Path())
	}
	runs, packets := 0, 0
	for _, set := range corpus.Dispatchers() {
		for _, cpu := range corpus.CPUs {
			paths, progs := setObjects(t, set, cpu)
			res, err := kernel.RunLibxdp(paths, kernel.LibxdpOptions{Priority: set.Priority, Actions: set.Actions})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range set.Traces {
				t.Run(set.Name+"."+cpu+"/"+strings.TrimSuffix(tr, ".pcap"), func(t *testing.T) {
					config := res.Config
					if config == nil {
						t.Fatalf("libxdp built no dispatcher:\n%s", res.Output)
					}
					var real []int
					if set.SetFrags {
						// xdp-loader cannot mark programs frags-aware: take the slots and the
						// configuration (program flags, frags) from the simulator's plan, which
						// TestTheDispatcherPlanIsLibxdps holds to libxdp's in everything else.
						x, _ := simtest.DispatcherOf(t, set, cpu, 1)
						config, _ = x.Dispatcher().Config.MarshalBinary()
						for _, s := range x.Dispatcher().Slots {
							real = append(real, s.Program.Ref)
						}
					} else {
						real = realSlots(t, res, progs)
					}
					var slots []kernel.Slot
					for _, j := range real {
						slots = append(slots, kernel.Slot{Path: paths[j], Program: progs[j].Entry})
					}
					kd, err := kernel.LoadDispatcher(kernel.DispatcherObject, slots, config)
					if err != nil {
						t.Fatal(err)
					}
					defer kd.Close()
					x, objs := simtest.DispatcherOf(t, set, cpu, kd.NumCPU())
					var divs []string
					for i, pkt := range traces[tr] {
						s := x.Run(pkt.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: pkt.tsNs})
						k := kd.Run(pkt.data, nil, kernel.Context{IngressIfindex: 1})
						divs = append(divs, result.ComparePackets(i+1, s.Packet, k)...)
					}
					for i, j := range real {
						sm, err := objs[j].DumpMaps()
						if err != nil {
							t.Fatal(err)
						}
						km, err := kd.SlotMaps(i)
						if err != nil {
							t.Fatal(err)
						}
						for _, d := range result.CompareMaps(sm, km) {
							divs = append(divs, fmt.Sprintf("slot %d (%s): %s", i, progs[j].Name, d))
						}
					}
					for i, d := range divs {
						if i == 10 {
							t.Errorf("... and %d more divergences", len(divs)-10)
							break
						}
						t.Error(d)
					}
					runs++
					packets += len(traces[tr])
				})
			}
		}
	}
	t.Logf("%d dispatcher sets x %d ISA levels over their traces: %d runs, %d packets on each side", len(corpus.Dispatchers()), len(corpus.CPUs), runs, packets)
}
