package kernel_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// dispatcherFor gives the slots and configuration of a set as the real libxdp computed them (or,
// for a set that marks programs frags-aware, which xdp-loader cannot, as the simulator plans
// them).
func dispatcherFor(t *testing.T, set corpus.DispatcherSet, cpu string) ([]kernel.Slot, []byte) {
	t.Helper()
	paths, progs := setObjects(t, set, cpu)
	var config []byte
	var order []int
	if set.SetFrags {
		x, _ := simtest.DispatcherOf(t, set, cpu, 1)
		config, _ = x.Dispatcher().Config.MarshalBinary()
		for _, s := range x.Dispatcher().Slots {
			order = append(order, s.Program.Ref)
		}
	} else {
		res, err := kernel.RunLibxdp(paths, kernel.LibxdpOptions{Priority: set.Priority, Actions: set.Actions})
		if err != nil {
			t.Fatal(err)
		}
		config, order = res.Config, realSlots(t, res, progs)
	}
	var slots []kernel.Slot
	for _, j := range order {
		slots = append(slots, kernel.Slot{Path: paths[j], Program: progs[j].Entry})
	}
	return slots, config
}

// TestRealFramesSeeWhatTheTestRunSees sends real frames through libxdp's dispatcher attached to a
// veth and requires what BPF_PROG_TEST_RUN gives for the same frames: the verdict, the frame the
// dispatcher passed to the stack or sent back, and every slot's maps. It is what lets the
// differential test use BPF_PROG_TEST_RUN on the dispatcher.
func TestRealFramesSeeWhatTheTestRunSees(t *testing.T) {
	requireLibxdp(t)
	for _, tc := range []struct {
		set, trace string
		n          int
	}{
		{"pipeline", "mixed.pcap", 300},
		{"chain-rules", "mixed.pcap", 300},
		{"ties", "mixed.pcap", 300},
		{"single", "mixed.pcap", 120},
		{"meta", "vlan.pcap", 200},
		{"frags-api", "jumbo.pcap", 120},
	} {
		t.Run(tc.set+"/"+strings.TrimSuffix(tc.trace, ".pcap"), func(t *testing.T) {
			set, _ := corpus.LookupDispatcher(tc.set)
			slots, config := dispatcherFor(t, set, "v4")
			// The stack frees a passed frame that says it is VLAN-tagged but is too short to
			// take the tag out of (six bytes after the Ethernet header) before any packet tap
			// sees it: leave out the packets the dispatcher would turn into such frames.
			scratch, err := kernel.LoadDispatcher(kernel.DispatcherObject, slots, config)
			if err != nil {
				t.Fatal(err)
			}
			var pkts [][]byte
			left := 0
			for _, p := range readTrace(t, corpus.TracePath(tc.trace)) {
				if len(p.data) < kernel.MinPacket || len(pkts) == tc.n {
					continue
				}
				k := scratch.Run(p.data, nil, kernel.Context{IngressIfindex: 1})
				if k.Ret == result.XDPPass && untaggable(k.Data) {
					left++
					continue
				}
				pkts = append(pkts, p.data)
			}
			scratch.Close()
			veth, err := kernel.RunDispatcherOnVeth(kernel.DispatcherObject, slots, config, pkts, kernel.VethOptions{})
			if err != nil {
				t.Fatal(err)
			}
			kd, err := kernel.LoadDispatcher(kernel.DispatcherObject, slots, config)
			if err != nil {
				t.Fatal(err)
			}
			defer kd.Close()
			var divs []string
			frames := 0
			for i, pkt := range pkts {
				k := kd.Run(pkt, nil, kernel.Context{IngressIfindex: 1})
				if k.Err != "" {
					t.Fatalf("packet %d: %s", i+1, k.Err)
				}
				if veth.Rets[i] != k.Ret {
					divs = append(divs, fmt.Sprintf("packet %d: a real frame got %d, the test run %d", i+1, veth.Rets[i], k.Ret))
					continue
				}
				if k.Ret == result.XDPPass || k.Ret == result.XDPTX {
					frames++
					if veth.Frames[i] == nil {
						divs = append(divs, fmt.Sprintf("packet %d (%s): no real frame came out", i+1, result.VerdictName(k.Ret)))
						continue
					}
					if !bytes.Equal(veth.Frames[i], k.Data) {
						divs = append(divs, fmt.Sprintf("packet %d (%s): the real frame left as %x, the test run's as %x", i+1, result.VerdictName(k.Ret), veth.Frames[i], k.Data))
					}
				}
			}
			km, err := kd.DumpMaps()
			if err != nil {
				t.Fatal(err)
			}
			divs = append(divs, result.CompareMaps(veth.Maps, km)...)
			for i, d := range divs {
				if i == 10 {
					t.Errorf("... and %d more", len(divs)-10)
					break
				}
				t.Error(d)
			}
			t.Logf("%d frames (%d left out): verdicts %v; %d passed or sent back, byte for byte the test run's", len(pkts), left, veth.Verdicts, frames)
		})
	}
}

// A dispatcher without frags support (xdp-loader's, whatever its programs are; or one of whose
// programs is not frags-aware) cannot go on a veth whose MTU needs fragments: the driver refuses
// it with ERANGE. With every program marked frags-aware it attaches and jumbo frames reach it.
func TestAVethWithAJumboMTURefusesADispatcherWithoutFrags(t *testing.T) {
	requireLibxdp(t)
	jumbo := make([]byte, 9000)
	copy(jumbo, frame(0x0800, 60))
	for _, tc := range []struct {
		set    string
		attach bool
	}{
		{"frags", false},
		{"frags-mix", false},
		{"frags-api", true},
	} {
		t.Run(tc.set, func(t *testing.T) {
			set, _ := corpus.LookupDispatcher(tc.set)
			slots, config := dispatcherFor(t, set, "v4")
			res, err := kernel.RunDispatcherOnVeth(kernel.DispatcherObject, slots, config, [][]byte{jumbo}, kernel.VethOptions{})
			if tc.attach {
				if err != nil || len(res.Rets) != 1 || res.Rets[0] != result.XDPDrop {
					t.Fatalf("got %v, %+v; want the 9000-byte frame dropped by xdp_flen", err, res)
				}
				return
			}
			if !errors.Is(err, unix.ERANGE) || !strings.Contains(err.Error(), "too large for a program without frags support (loaded without BPF_F_XDP_HAS_FRAGS)") {
				t.Fatalf("got %v, want ERANGE", err)
			}
		})
	}
}

// untaggable says the stack cannot take a VLAN tag out of the frame: it says it is tagged, but
// its tag and the EtherType after it are cut short.
func untaggable(f []byte) bool {
	return len(f) >= 14 && (f[12] == 0x81 && f[13] == 0 || f[12] == 0x88 && f[13] == 0xa8) && len(f) < 20
}

func frame(ethertype uint16, n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, byte(ethertype >> 8), byte(ethertype)})
	return b
}
