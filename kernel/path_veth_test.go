package kernel_test

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
)

func tcProgram(t *testing.T, name string) corpus.Program {
	t.Helper()
	for _, p := range corpus.TCPrograms() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no tc program %s in the corpus", name)
	return corpus.Program{}
}

// mapSum adds up the 8-byte little-endian values of a map dump.
func mapSum(entries []result.MapEntry) uint64 {
	var n uint64
	for _, e := range entries {
		b, _ := hex.DecodeString(e.Value)
		if len(b) >= 8 {
			n += binary.LittleEndian.Uint64(b)
		}
	}
	return n
}

// TestXDPToTCPathAgreesWithVeth sends frames through a real veth whose receiving end runs the
// corpus's XDP metadata writer in native mode and its tc metadata reader at tcx ingress, and
// requires the simulator's XDP-to-tc path (XDP.SetIngress, on its veth profile) to leave the same
// maps: the metadata the XDP program wrote reached tc at data_meta, with the frame's length, and
// the skb looked alike at tc (the VLAN tag the stack moved beside the packet, the protocol, the
// packet type against the device's address, len, wire_len, the metadata's length, ingress_ifindex).
func TestXDPToTCPathAgreesWithVeth(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	p := tcProgram(t, "tc_meta")
	var frames [][]byte
	var times []uint64
	for _, tr := range []string{"mixed.pcap", "vlan.pcap"} {
		for i, pkt := range readTrace(t, corpus.TracePath(tr)) {
			if i >= 300 || len(pkt.data) < kernel.MinPacket || len(pkt.data) > 1514 {
				continue
			}
			frames = append(frames, pkt.data)
			times = append(times, pkt.tsNs)
		}
	}
	obj := p.Object("v4")
	// The simulator first: it says how many frames reach tc, which the kernel side waits for.
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := o.FindProgram(p.XDP)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := o.FindProgram(p.Entry)
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(xp)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := sim.NewTC(tp)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := device.LookupProfile("veth")
	if err != nil {
		t.Fatal(err)
	}
	x.SetDevice(&device.Netdev{Profile: prof})
	x.SetIngress(tc)
	// The device is one the simulated host does not describe (the veth's ifindex and random MAC
	// are the kernel's): no frame of the traces is addressed to it.
	reached := 0
	for i, f := range frames {
		out := x.Run(f, nil, sim.Conditions{IngressIfindex: 2, TimeNs: times[i]})
		if out.Err != "" {
			t.Fatalf("simulator, frame %d: %s", i+1, out.Err)
		}
		if out.TC != nil && len(out.TC.Programs) > 0 {
			reached++
		}
	}
	res, err := kernel.RunOnVeth(obj, kernel.Options{Program: p.XDP}, frames, kernel.VethOptions{
		TCX:  []string{p.Entry},
		Maps: []string{"tc_meta_paths", "tc_meta_classes", "tc_meta_seen"},
		Settle: func(m result.Maps) bool {
			return mapSum(m["tc_meta_paths"]) >= uint64(reached)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if reached == 0 {
		t.Fatal("no frame reached tc in the simulator")
	}
	sm, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tc_meta_paths", "tc_meta_classes", "tc_meta_seen"} {
		for _, d := range result.CompareMaps(result.Maps{name: sm[name]}, result.Maps{name: res.Maps[name]}) {
			t.Error(d)
		}
	}
	// What the maps must show on both sides: every frame at tc found the XDP program's record,
	// and the VLAN frames arrived with their tag beside the packet.
	paths := res.Maps["tc_meta_paths"]
	if len(paths) == 0 || mapSum(paths[:1]) != uint64(reached) {
		t.Errorf("tc_meta_paths %v: want all %d frames at tc to have found the XDP metadata", paths, reached)
	}
	vlan := uint32(0)
	for _, e := range res.Maps["tc_meta_seen"] {
		b, _ := hex.DecodeString(e.Value)
		vlan += binary.LittleEndian.Uint32(b[32:])
	}
	if vlan == 0 {
		t.Error("no frame reached tc with a VLAN tag beside it")
	}
	t.Logf("%d frames through XDP and tcx on a veth (ifindex %d); %d reached tc, %d with the tag beside the packet", len(frames), res.Ifindex, reached, vlan)
}

// TestTCXChainAgreesWithVeth attaches the corpus's three tcx programs, in order, to the tcx
// ingress hook of a real veth behind an XDP program that passes everything, and requires the
// simulator's chain to count the same: which programs ran on which frames (TCX_NEXT hands on,
// TCX_DROP and TCX_PASS end the chain, TC_ACT_PIPE ends it too).
func TestTCXChainAgreesWithVeth(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	p := tcProgram(t, "tc_chain")
	var frames [][]byte
	for _, tr := range []string{"mixed.pcap", "ipv6ext.pcap", "malformed.pcap"} {
		for i, pkt := range readTrace(t, corpus.TracePath(tr)) {
			if i < 250 && len(pkt.data) >= kernel.MinPacket && len(pkt.data) <= 1514 {
				frames = append(frames, pkt.data)
			}
		}
	}
	obj := p.Object("v3")
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := o.FindProgram(p.XDP)
	if err != nil {
		t.Fatal(err)
	}
	var chain []*sim.Program
	for _, name := range p.Chain {
		cp, err := o.FindProgram(name)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, cp)
	}
	x, err := sim.NewXDP(xp)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := sim.NewTC(chain...)
	if err != nil {
		t.Fatal(err)
	}
	x.SetIngress(tc)
	reached := 0
	for i, f := range frames {
		out := x.Run(f, nil, sim.Conditions{IngressIfindex: 2})
		if out.Err != "" {
			t.Fatalf("simulator, frame %d: %s", i+1, out.Err)
		}
		if out.TC != nil && len(out.TC.Programs) > 0 {
			reached++
		}
	}
	res, err := kernel.RunOnVeth(obj, kernel.Options{Program: p.XDP}, frames, kernel.VethOptions{
		TCX:  p.Chain,
		Maps: []string{"tc_chain_counts"},
		Settle: func(m result.Maps) bool {
			c := m["tc_chain_counts"]
			return len(c) > 0 && mapSum(c[:1]) >= uint64(reached)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range result.CompareMaps(result.Maps{"tc_chain_counts": sm["tc_chain_counts"]}, res.Maps) {
		t.Error(d)
	}
	c := res.Maps["tc_chain_counts"]
	ran := func(i int) uint64 { return mapSum(c[i : i+1]) }
	if ran(1) != ran(0) || ran(2) >= ran(1) || ran(3) == 0 {
		t.Errorf("the chain did not stop where it should: classify %d, police %d, final %d, pipe %d", ran(0), ran(1), ran(2), ran(3))
	}
	t.Logf("%d frames through a tcx chain of %d programs on a veth; classify ran %d times, police %d, final %d (TC_ACT_PIPE %d)",
		len(frames), len(p.Chain), ran(0), ran(1), ran(2), ran(3))
}
