package kernel_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// The probes of the simulator's network tests: setter at tcx egress writes the mark and priority
// cfg[32], cfg[33] give; probe0 at tcx ingress records what it sees in seen[0..9].
const probeObject = "../sim/testdata/netkit_probe.o"

// probeCfg is the probes' configuration as a map preload: setter marks 0x42 with priority 7,
// everything returns TCX_PASS.
func probeCfg() result.Maps {
	v := func(x int64) string {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, uint64(x))
		return hex.EncodeToString(b)
	}
	k := func(i uint32) string {
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, i)
		return hex.EncodeToString(b)
	}
	return result.Maps{"cfg": {{Key: k(32), Value: v(0x42)}, {Key: k(33), Value: v(7)}}}
}

// seenRuns is probe0's run count in a dump.
func seenRuns(m result.Maps) uint64 {
	for _, e := range m["seen"] {
		if e.Key == "00000000" {
			b, _ := hex.DecodeString(e.Value)
			return binary.LittleEndian.Uint64(b)
		}
	}
	return 0
}

// seenFields are probe0's records in a dump, by name; tstamp is left out: whether the receive
// path stamps a packet depends on sockets elsewhere on the machine asking for timestamps.
func seenFields(m result.Maps) map[string]uint64 {
	names := []string{"runs", "mark", "priority", "ingress_ifindex", "ifindex", "pkt_type", "protocol", "len", "tstamp", "linear"}
	out := map[string]uint64{}
	for _, e := range m["seen"] {
		kb, _ := hex.DecodeString(e.Key)
		i := binary.LittleEndian.Uint32(kb)
		if i < uint32(len(names)) && names[i] != "tstamp" {
			vb, _ := hex.DecodeString(e.Value)
			out[names[i]] = binary.LittleEndian.Uint64(vb)
		}
	}
	return out
}

// TestVethTransmitAndReceiveAgreeWithTheKernel sends frames out of one end of a real veth pair
// with a packet socket, the other end in the same network namespace and in another, and holds
// the simulator's network (its transmit path, veth_xmit's forward and scrub, the receive path up
// to tc ingress) to what a tcx ingress program on the receiving end sees in the kernel, after a
// tcx egress program on the sending end set the mark and the priority: the mark crosses within a
// namespace and is scrubbed across, the priority is zeroed either way, pkt_type is decided
// against the receiving end's address, skb_iif is the receiving end.
func TestVethTransmitAndReceiveAgreeWithTheKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	sendMAC := net.HardwareAddr{2, 0, 0, 0, 7, 1}
	recvMAC := net.HardwareAddr{2, 0, 0, 0, 7, 2}
	frame := func(dst net.HardwareAddr, typ layers.EthernetType, payload gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: sendMAC, DstMAC: dst, EthernetType: typ}, payload, gopacket.Payload(make([]byte, 40))}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 7, 0, 1}, DstIP: net.IP{10, 7, 0, 2}}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolNoNextHeader, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	frames := [][]byte{
		frame(recvMAC, layers.EthernetTypeIPv4, ip4),
		frame(net.HardwareAddr{2, 0, 0, 0, 7, 9}, layers.EthernetTypeIPv4, ip4),
		frame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, layers.EthernetTypeIPv6, ip6),
		frame(net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}, layers.EthernetTypeIPv6, ip6),
	}
	for _, cross := range []bool{false, true} {
		t.Run(fmt.Sprintf("the receiving end in another namespace: %v", cross), func(t *testing.T) {
			var n *sim.Network
			var obj *sim.Object
			var first *kernel.VethPairResult
			for i, f := range frames {
				// One kernel run per frame: its maps hold that frame's fields alone.
				kr, err := kernel.RunVethPair(kernel.VethPair{Object: probeObject, Egress: []string{"setter"}, Ingress: []string{"probe0"},
					Preload: probeCfg(), SendMAC: sendMAC, RecvMAC: recvMAC, CrossNS: cross, Frames: [][]byte{f},
					Done: func(m result.Maps, n int) bool { return seenRuns(m) >= uint64(n) }})
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = kr
					n, obj = vethPairNetwork(t, kr, sendMAC, recvMAC, cross)
				} else if kr.SendIfindex != first.SendIfindex || kr.RecvIfindex != first.RecvIfindex {
					t.Fatalf("frame %d: the kernel numbered the ends %d, %d; before %d, %d", i+1, kr.SendIfindex, kr.RecvIfindex, first.SendIfindex, first.RecvIfindex)
				}
				o := n.Run(f, nil, sim.Conditions{}, sim.Arrival{Device: "veth0", Transmit: true})
				if o.Err != "" {
					t.Fatalf("frame %d: %s", i+1, o.Err)
				}
				sm, err := obj.DumpMaps()
				if err != nil {
					t.Fatal(err)
				}
				want, got := seenFields(kr.Maps), seenFields(sm)
				if want["len"] != uint64(len(f)) {
					t.Fatalf("frame %d: the kernel's probe saw %d bytes, not the frame's %d: another packet reached it", i+1, want["len"], len(f))
				}
				if got["runs"] != uint64(i+1) || want["runs"] != 1 {
					t.Errorf("frame %d: the probe ran %d times in the simulator, %d in the kernel", i+1, got["runs"], want["runs"])
				}
				delete(got, "runs")
				delete(want, "runs")
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("frame %d:\n  simulator %v\n  kernel    %v", i+1, got, want)
				}
			}
		})
	}
}

// vethPairNetwork is the simulator's side of a VethPair run: the ends with the kernel's ifindexes
// and the same programs and configuration.
func vethPairNetwork(t *testing.T, k *kernel.VethPairResult, sendMAC, recvMAC net.HardwareAddr, cross bool) (*sim.Network, *sim.Object) {
	t.Helper()
	obj, err := sim.Load(probeObject, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := obj.LoadMaps(probeCfg()); err != nil {
		t.Fatal(err)
	}
	n := sim.NewNetwork()
	peer := sim.DeviceConfig{Name: "veth0p", Ifindex: uint32(k.RecvIfindex), MAC: recvMAC.String()}
	if cross {
		if err := n.AddNamespace(sim.NamespaceConfig{Name: "other"}); err != nil {
			t.Fatal(err)
		}
		peer.Namespace = "other"
	}
	if err := n.AddVeth(sim.DeviceConfig{Name: "veth0", Ifindex: uint32(k.SendIfindex), MAC: sendMAC.String()}, peer); err != nil {
		t.Fatal(err)
	}
	prog := func(name string) *sim.Program {
		p, err := obj.FindProgram(name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := n.Attach("veth0", ebpf.AttachTCXEgress, prog("setter"), sim.MprogOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Attach("veth0p", ebpf.AttachTCXIngress, prog("probe0"), sim.MprogOptions{}); err != nil {
		t.Fatal(err)
	}
	return n, obj
}
