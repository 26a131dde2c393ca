package sim_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/verifier"
)

// tcProg loads a one-program object of a tc program built from instructions (r6 = ctx first).
func tcProg(t testing.TB, attach ebpf.AttachType, body ...asm.Instruction) *sim.Program {
	t.Helper()
	insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, body...)
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{"p": {Name: "p", Type: ebpf.SchedCLS, AttachType: attach, License: "GPL", Instructions: insns}}}
	o, err := sim.LoadSpec("p", spec, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("p")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// field returns a program that returns the __sk_buff field at off (4 bytes).
func field(t testing.TB, off int16) *sim.Program {
	return tcProg(t, ebpf.AttachNone, asm.LoadMem(asm.R0, asm.R6, off, asm.Word), asm.Return())
}

func hexFrame(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// udpFrame is Ethernet/IPv4/UDP of n bytes to dst MAC dst.
func udpFrame(dst string, n int) []byte {
	b, _ := hex.DecodeString(dst + "020000000001" + "0800" + "4500" + "0000" + "00000000401100000a0000010a000002" + "04d2162e00000000")
	binary.BigEndian.PutUint16(b[16:], uint16(n-14))
	for len(b) < n {
		b = append(b, byte(len(b)))
	}
	return b[:n]
}

// TestTCRunIsBPFProgTestRun holds TC.Run to what Linux 6.18's BPF_PROG_TEST_RUN does for a tc
// program (measured: kernel/helpers_edge_tc_test.go and the probes behind it).
func TestTCRunIsBPFProgTestRun(t *testing.T) {
	refusals := []struct {
		name string
		pkt  []byte
		ctx  *sim.SkbContext
	}{
		{"a frame shorter than an Ethernet header", make([]byte, 13), nil},
		{"a frame longer than 3712 bytes", udpFrame("020000000002", 3713), nil},
		{"an IPv4 frame without a whole IPv4 header", udpFrame("020000000002", 33), nil},
		{"a context naming a device the host lacks", udpFrame("020000000002", 60), &sim.SkbContext{Ifindex: 7}},
		{"a wire_len shorter than the packet", udpFrame("020000000002", 60), &sim.SkbContext{WireLen: 59}},
		{"a wire_len above 65536", udpFrame("020000000002", 60), &sim.SkbContext{WireLen: 65537}},
		{"gso_segs above 65535", udpFrame("020000000002", 60), &sim.SkbContext{GSOSegs: 65536}},
	}
	for _, r := range refusals {
		t.Run("refuses "+r.name, func(t *testing.T) {
			tc, err := sim.NewTC(field(t, verifier.SkbLen))
			if err != nil {
				t.Fatal(err)
			}
			o := tc.Run(r.pkt, r.ctx, sim.Conditions{})
			if o.Err == "" {
				t.Fatalf("ran it, returned %d", o.Ret)
			}
		})
	}
	fields := []struct {
		name string
		off  int16
		pkt  []byte
		ctx  *sim.SkbContext
		want uint32
	}{
		{"len is the whole frame", verifier.SkbLen, udpFrame("020000000002", 60), nil, 60},
		{"a frame to another MAC is PACKET_OTHERHOST on loopback", verifier.SkbPktType, udpFrame("020000000002", 60), nil, 3},
		{"a frame to loopback's all-zero MAC is PACKET_HOST", verifier.SkbPktType, udpFrame("000000000000", 60), nil, 0},
		{"broadcast is PACKET_MULTICAST on loopback, whose broadcast address is zero", verifier.SkbPktType, udpFrame("ffffffffffff", 60), nil, 2},
		{"protocol reads in network order", verifier.SkbProtocol, udpFrame("020000000002", 60), nil, 0x0008},
		{"ifindex is loopback's", verifier.SkbIfindex, udpFrame("020000000002", 60), nil, 1},
		{"wire_len is 0 without a context", verifier.SkbWireLen, udpFrame("020000000002", 60), nil, 0},
		{"wire_len is the length with one", verifier.SkbWireLen, udpFrame("020000000002", 60), &sim.SkbContext{}, 60},
		{"wire_len is the context's when it gives one", verifier.SkbWireLen, udpFrame("020000000002", 60), &sim.SkbContext{WireLen: 9000}, 9000},
		{"ingress_ifindex is the context's", verifier.SkbIngressIfindex, udpFrame("020000000002", 60), &sim.SkbContext{IngressIfindex: 77}, 77},
		{"mark is the context's", verifier.SkbMark, udpFrame("020000000002", 60), &sim.SkbContext{Mark: 0xabc}, 0xabc},
		{"no tag is beside the packet", verifier.SkbVlanPresent, udpFrame("020000000002", 60), nil, 0},
		{"data_meta is data: no metadata", verifier.SkbDataMeta, udpFrame("020000000002", 60), nil, 0},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			p := field(t, f.off)
			if f.off == verifier.SkbDataMeta {
				// data - data_meta
				p = tcProg(t, ebpf.AttachNone, asm.LoadMem(asm.R0, asm.R6, verifier.SkbData, asm.Word),
					asm.LoadMem(asm.R1, asm.R6, verifier.SkbDataMeta, asm.Word), asm.Sub.Reg(asm.R0, asm.R1), asm.Return())
			}
			tc, err := sim.NewTC(p)
			if err != nil {
				t.Fatal(err)
			}
			o := tc.Run(f.pkt, f.ctx, sim.Conditions{})
			if o.Err != "" {
				t.Fatal(o.Err)
			}
			if o.Ret != f.want {
				t.Errorf("got %#x, want %#x", o.Ret, f.want)
			}
		})
	}
	t.Run("the context comes back with what the program wrote and what the kernel keeps", func(t *testing.T) {
		p := tcProg(t, ebpf.AttachNone,
			asm.StoreImm(asm.R6, verifier.SkbMark, 0x55, asm.Word),
			asm.StoreImm(asm.R6, verifier.SkbCB+4, 0x66, asm.Word),
			asm.StoreImm(asm.R6, verifier.SkbTCIndex, 9, asm.Word),
			asm.Mov.Imm(asm.R0, 0), asm.Return())
		tc, err := sim.NewTC(p)
		if err != nil {
			t.Fatal(err)
		}
		in := sim.SkbContext{Priority: 4, CB: [5]uint32{1, 2, 3, 4, 5}, GSOSize: 1400, Tstamp: 1234}
		o := tc.Run(udpFrame("020000000002", 60), &in, sim.Conditions{})
		got, err := sim.ParseSkbContext(o.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := sim.SkbContext{Mark: 0x55, Priority: 4, Ifindex: 1, CB: [5]uint32{1, 0x66, 3, 4, 5}, GSOSize: 1400, Tstamp: 1234, WireLen: 60}
		if got != want {
			t.Errorf("context back %+v, want %+v", got, want)
		}
	})
}

func TestParseSkbContextTakesWhatTheKernelTakes(t *testing.T) {
	c := sim.SkbContext{Mark: 1, Priority: 2, IngressIfindex: 3, Ifindex: 4, CB: [5]uint32{5, 6, 7, 8, 9}, Tstamp: 10, WireLen: 11, GSOSegs: 12, GSOSize: 13, Hwtstamp: 14}
	got, err := sim.ParseSkbContext(c.Marshal())
	if err != nil || got != c {
		t.Fatalf("round trip gave %+v, %v", got, err)
	}
	for _, off := range []int{verifier.SkbLen, verifier.SkbQueueMapping, verifier.SkbTCIndex, verifier.SkbDataMeta} {
		b := c.Marshal()
		b[off] = 1
		if _, err := sim.ParseSkbContext(b); !errors.Is(err, sim.ErrRefused) {
			t.Errorf("byte %d set: err %v, want a refusal", off, err)
		}
	}
}

// verdictProg returns ret after setting tc_classid (and mark, to tell which programs ran).
func verdictProg(t testing.TB, attach ebpf.AttachType, ret int32, mark int32) *sim.Program {
	return tcProg(t, attach,
		asm.LoadMem(asm.R1, asm.R6, verifier.SkbMark, asm.Word),
		asm.Add.Imm(asm.R1, mark),
		asm.StoreMem(asm.R6, verifier.SkbMark, asm.R1, asm.Word),
		asm.StoreImm(asm.R6, verifier.SkbTCClassid, 0x42, asm.Word),
		asm.Mov.Imm(asm.R0, ret), asm.Return())
}

func TestTheChainRunsAsTheKernelRunsTcxAndClsBpf(t *testing.T) {
	const tcx, classic = ebpf.AttachTCXIngress, ebpf.AttachNone
	type prog struct {
		attach ebpf.AttachType
		ret    int32
	}
	tests := []struct {
		name     string
		progs    []prog
		ran      int // programs that ran, by the marks they add up
		action   string
		tcIndex  uint16
		verdict  uint32
		programs int
	}{
		{"TCX_NEXT hands on and the chain ends at TCX_PASS, which copies tc_classid into tc_index",
			[]prog{{tcx, -1}, {tcx, 0}, {tcx, 2}}, 0b011, sim.TCPass, 0x42, 0, 2},
		{"TCX_DROP drops", []prog{{tcx, -1}, {tcx, 2}}, 0b11, sim.TCDrop, 0, 2, 2},
		{"every program returning TCX_NEXT passes", []prog{{tcx, -1}, {tcx, -1}}, 0b11, sim.TCPass, 0, sim.TCXNext, 2},
		{"an unknown tcx value ends the chain but counts as TCX_NEXT, so the classic programs run",
			[]prog{{tcx, 3}, {tcx, 0}, {classic, 2}}, 0b101, sim.TCDrop, 0, 2, 2},
		{"cls_bpf takes TC_ACT_PIPE as TC_ACT_UNSPEC: the next filter runs", []prog{{classic, 3}, {classic, 0}}, 0b11, sim.TCPass, 0x42, 0, 2},
		{"TC_ACT_STOLEN consumes the packet", []prog{{classic, 4}}, 0b1, sim.TCStolen, 0, 4, 1},
		{"TC_ACT_REDIRECT without a target drops it", []prog{{classic, 7}}, 0b1, sim.TCDrop, 0, 7, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progs []*sim.Program
			for i, p := range tt.progs {
				progs = append(progs, verdictProg(t, p.attach, p.ret, 1<<i))
			}
			tc, err := sim.NewTC(progs...)
			if err != nil {
				t.Fatal(err)
			}
			o := tc.Run(udpFrame("020000000002", 60), &sim.SkbContext{}, sim.Conditions{})
			if o.Err != "" {
				t.Fatal(o.Err)
			}
			if o.TC.Skb.Mark != uint32(tt.ran) || o.TC.Action != tt.action || o.TC.Skb.TCIndex != tt.tcIndex ||
				len(o.TC.Programs) != tt.programs {
				t.Errorf("programs %v (marks %b), action %q, tc_index %#x; want marks %b, %q, %#x, %d programs",
					o.TC.Programs, o.TC.Skb.Mark, o.TC.Action, o.TC.Skb.TCIndex, tt.ran, tt.action, tt.tcIndex, tt.programs)
			}
		})
	}
}

func TestRedirectsReachTheHostsDevices(t *testing.T) {
	host, err := sim.LoadHost(filepath.Join(corpus.Dir(), "hosts", "router.json"))
	if err != nil {
		t.Fatal(err)
	}
	redirect := func(f asm.BuiltinFunc, ifindex, flags int32) *sim.Program {
		return tcProg(t, ebpf.AttachNone, asm.Mov.Imm(asm.R1, ifindex), asm.Mov.Imm(asm.R2, flags), f.Call(), asm.Return())
	}
	tests := []struct {
		name    string
		prog    *sim.Program
		host    *sim.Host
		want    sim.TCRedirect
		action  string
		verdict uint32
	}{
		{"to a device's egress", redirect(asm.FnRedirect, 2, 0), host, sim.TCRedirect{Ifindex: 2, Device: "eth0"}, sim.TCRedirected, 7},
		{"into a device's ingress", redirect(asm.FnRedirect, 2, 1), host, sim.TCRedirect{Ifindex: 2, Ingress: true, Device: "eth0"}, sim.TCRedirected, 7},
		{"to a device the host lacks drops", redirect(asm.FnRedirect, 9, 0), host, sim.TCRedirect{Ifindex: 9, Dropped: "no device with ifindex 9"}, sim.TCDrop, 7},
		{"to a peer drops: the host has no other namespace", redirect(asm.FnRedirectPeer, 2, 0), host,
			sim.TCRedirect{Ifindex: 2, Ingress: true, Peer: true, Device: "eth0", Dropped: "eth0 has no peer in another network namespace (bpf_redirect_peer)"}, sim.TCDrop, 7},
		{"to loopback, down in a fresh namespace, drops", redirect(asm.FnRedirect, 1, 0), nil, sim.TCRedirect{Ifindex: 1, Device: "lo", Dropped: "lo is down"}, sim.TCDrop, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := sim.NewTC(tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			tc.SetHost(tt.host)
			o := tc.Run(udpFrame("020000000002", 60), &sim.SkbContext{}, sim.Conditions{})
			if o.Err != "" {
				t.Fatal(o.Err)
			}
			if o.Ret != tt.verdict || o.TC.Action != tt.action || o.TC.Redirect == nil || *o.TC.Redirect != tt.want {
				t.Errorf("ret %d, action %q, redirect %+v; want %d, %q, %+v", o.Ret, o.TC.Action, o.TC.Redirect, tt.verdict, tt.action, tt.want)
			}
		})
	}
}

// ingressPath is the corpus's XDP metadata writer in front of its tc reader, on a device.
func ingressPath(t testing.TB, profile string) (*sim.Object, *sim.XDP) {
	t.Helper()
	var tcm corpus.Program
	for _, p := range corpus.TCPrograms() {
		if p.Name == "tc_meta" {
			tcm = p
		}
	}
	o, err := sim.Load(tcm.Object("v4"), sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := o.FindProgram(tcm.XDP)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := o.FindProgram(tcm.Entry)
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
	if profile != "" {
		prof, err := device.LookupProfile(profile)
		if err != nil {
			t.Fatal(err)
		}
		x.SetDevice(&device.Netdev{Profile: prof})
	}
	x.SetIngress(tc)
	return o, x
}

func TestXDPPassContinuesIntoTCIngress(t *testing.T) {
	_, x := ingressPath(t, "")
	udp := udpFrame("020000000002", 100)
	o := x.Run(udp, nil, sim.Conditions{IngressIfindex: 1, RxQueue: 0})
	if o.Err != "" || o.TC == nil {
		t.Fatalf("err %q, tc %v", o.Err, o.TC)
	}
	tc := o.TC
	if tc.Action != sim.TCPass || len(tc.Programs) != 1 || tc.Programs[0].Program != "tc_meta_reader" {
		t.Fatalf("tc: action %q, programs %v", tc.Action, tc.Programs)
	}
	// The XDP metadata (8 bytes: magic, class 1, length 100) is the skb's metadata at tc.
	if want := hexFrame(t, "577e0100 64000000"); !bytes.Equal(tc.Meta, want) || tc.Skb.MetaLen != 8 {
		t.Errorf("metadata at tc %x (meta_len %d), want %x", tc.Meta, tc.Skb.MetaLen, want)
	}
	if !bytes.Equal(tc.Data, udp) {
		t.Errorf("tc saw %x, want the frame from its MAC header", tc.Data)
	}
	// The reader found the record (mark 0xc1a55000 | class) and the stack's fields are set:
	// queue_mapping is the RX queue + 1, and there is no context to give back.
	if tc.Skb.Mark != 0xc1a55001 || tc.Skb.QueueMapping != 1 || tc.Skb.Protocol != 0x0800 || tc.Ctx != nil {
		t.Errorf("skb after tc: %+v, ctx %x", tc.Skb, tc.Ctx)
	}

	// A frame with an 802.1Q tag reaches tc with the tag beside the packet and the MAC header
	// moved over it; the metadata moves too.
	tagged := append(append(append([]byte{}, udp[:12]...), 0x81, 0x00, 0x20, 0x05), udp[12:]...)
	o = x.Run(tagged, nil, sim.Conditions{IngressIfindex: 1})
	tc = o.TC
	if o.Err != "" || tc == nil || tc.Action != sim.TCPass {
		t.Fatalf("tagged: err %q, tc %+v", o.Err, tc)
	}
	if tc.Skb.VlanProto != 0x8100 || tc.Skb.VlanTCI != 0x2005 || !bytes.Equal(tc.Data, udp) || tc.Skb.Protocol != 0x0800 {
		t.Errorf("tagged: vlan %#x/%#x, protocol %#x, data %x", tc.Skb.VlanProto, tc.Skb.VlanTCI, tc.Skb.Protocol, tc.Data)
	}
	if want := hexFrame(t, "577e0400 68000000"); !bytes.Equal(tc.Meta, want) {
		t.Errorf("tagged: metadata at tc %x, want %x", tc.Meta, want)
	}

	// A frame XDP never runs on (shorter than an Ethernet header) never reaches tc.
	if o = x.Run(make([]byte, 13), nil, sim.Conditions{IngressIfindex: 1}); o.TC != nil {
		t.Errorf("a 13-byte frame reached tc: %+v", o.TC)
	}
}

func TestTheDeviceFillsTheSkbAsItsDriverDoes(t *testing.T) {
	_, x := ingressPath(t, "mlx5")
	o := x.Run(udpFrame("020000000002", 100), nil, sim.Conditions{IngressIfindex: 2, RxQueue: 3, TimeNs: 1709298000000000000})
	if o.Err != "" || o.TC == nil {
		t.Fatalf("err %q", o.Err)
	}
	if o.TC.Skb.Hash == 0 || o.TC.Skb.QueueMapping != 4 {
		t.Errorf("skb hash %#x, queue_mapping %d; want the device's RSS hash and queue 3 + 1", o.TC.Skb.Hash, o.TC.Skb.QueueMapping)
	}
}

func TestTCPacketsDoNotAllocate(t *testing.T) {
	pkts := readPcap(t, "../corpus/traces/mixed.pcap")
	var parser corpus.Program
	for _, p := range corpus.TCPrograms() {
		if p.Name == "tc_parser" {
			parser = p
		}
	}
	o, err := sim.Load(parser.Object("v4"), sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := sim.NewTC(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := sim.SkbContext{}
	for _, pkt := range pkts {
		tc.Run(pkt, &ctx, sim.Conditions{})
	}
	n := 0
	if allocs := testing.AllocsPerRun(len(pkts), func() {
		tc.Run(pkts[n%len(pkts)], &ctx, sim.Conditions{})
		n++
	}); allocs != 0 {
		t.Errorf("TC.Run: %v allocations per packet, want 0", allocs)
	}
	_, x := ingressPath(t, "")
	for _, pkt := range pkts {
		x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
	}
	if allocs := testing.AllocsPerRun(len(pkts), func() {
		x.Run(pkts[n%len(pkts)], nil, sim.Conditions{IngressIfindex: 1})
		n++
	}); allocs != 0 {
		t.Errorf("XDP to tc: %v allocations per packet, want 0", allocs)
	}
}

// BenchmarkTCPacketsPerSecond runs the corpus's tc parser as BPF_PROG_TEST_RUN runs it, and the
// XDP-to-tc path of its metadata pair, over the mixed trace.
func BenchmarkTCPacketsPerSecond(b *testing.B) {
	pkts := readPcap(b, "../corpus/traces/mixed.pcap")
	b.Run("tc_parser", func(b *testing.B) {
		o, err := sim.Load("../corpus/tc_parser.v4.o", sim.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		p, _ := o.FindProgram("")
		tc, _ := sim.NewTC(p)
		ctx := sim.SkbContext{}
		var insns uint64
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			insns += tc.Run(pkts[n%len(pkts)], &ctx, sim.Conditions{}).Executed
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		b.ReportMetric(float64(insns)/float64(n), "insns/packet")
	})
	b.Run("xdp_meta_writer+tc_meta_reader", func(b *testing.B) {
		_, x := ingressPath(b, "")
		var insns uint64
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			insns += x.Run(pkts[n%len(pkts)], nil, sim.Conditions{IngressIfindex: 1}).Executed
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		b.ReportMetric(float64(insns)/float64(n), "insns/packet")
	})
}

// tcBehind puts the corpus tc program tc_parser behind x at tc ingress.
func tcBehind(t testing.TB, x *sim.XDP) {
	t.Helper()
	var p corpus.Program
	for _, c := range corpus.TCPrograms() {
		if c.Name == "tc_parser" {
			p = c
		}
	}
	o, err := sim.Load(p.Object("v4"), sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := o.FindProgram(p.Entry)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := sim.NewTC(prog)
	if err != nil {
		t.Fatal(err)
	}
	x.SetIngress(tc)
}

// The proposals' data travels from XDP to tc as they say: packet traits stay with the skb, out of
// the tc program's reach; export-to-skb's struct fills the skb's hash and VLAN tag and is consumed.
func TestTraitsAndExportedHintsReachTC(t *testing.T) {
	t.Run("traits", func(t *testing.T) {
		_, prog := hintsObject(t, "traits", kfuncs.Features{Traits: true}, 1)
		x := hintsXDP(t, prog, nil)
		tcBehind(t, x)
		carried := 0
		for i, r := range hintsTrace(t, "mixed.pcap") {
			o := x.Run(r.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: r.ts})
			if o.Ret != 2 || o.Err != "" {
				continue
			}
			if o.TC == nil {
				t.Fatalf("packet %d passed without reaching tc", i+1)
			}
			if fmt.Sprint(o.TC.Traits) != fmt.Sprint(o.Traits) {
				t.Fatalf("packet %d: tc outcome carries traits %v, XDP left %v", i+1, o.TC.Traits, o.Traits)
			}
			if len(o.Traits) > 0 {
				carried++
			}
		}
		if carried == 0 {
			t.Error("no packet reached tc with traits")
		}
	})
	t.Run("export-to-skb", func(t *testing.T) {
		_, prog := hintsObject(t, "export_skb", kfuncs.Features{ExportToSkb: true}, 1)
		x := hintsXDP(t, prog, &device.Netdev{Profile: hintsProfile(t, "mlx5")})
		tcBehind(t, x)
		exported, hashed, tagged := 0, 0, 0
		for i, r := range hintsTrace(t, "vlan.pcap") {
			o := x.Run(r.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: r.ts})
			if o.Ret != 2 || o.Err != "" || o.Skb == nil || o.Skb.Exported == nil || o.TC == nil || o.TC.Dropped != "" {
				continue
			}
			exported++
			e, skb := o.Skb.Exported, o.TC.Skb
			if e.Set&kfuncs.HintHash != 0 {
				hashed++
			}
			if e.Set&kfuncs.HintVLANTag != 0 {
				tagged++
			}
			if e.Set&kfuncs.HintHash != 0 && skb.Hash != e.Hash {
				t.Errorf("packet %d: skb hash %#x, exported %#x", i+1, skb.Hash, e.Hash)
			}
			if e.Set&kfuncs.HintVLANTag != 0 && (uint16(skb.VlanProto) != e.VLANProto || skb.VlanTCI != e.VLANTCI) {
				t.Errorf("packet %d: skb vlan %#x/%#x, exported %#x/%#x", i+1, skb.VlanProto, skb.VlanTCI, e.VLANProto, e.VLANTCI)
			}
			if skb.MetaLen != e.MetaLen || len(o.TC.Meta) != e.MetaLen {
				t.Errorf("packet %d: tc sees %d bytes of metadata, want the %d left after the exported struct", i+1, len(o.TC.Meta), e.MetaLen)
			}
		}
		if exported == 0 || hashed == 0 || tagged == 0 {
			t.Errorf("%d packets reached tc with exported hints, %d with a hash, %d with a VLAN tag", exported, hashed, tagged)
		}
	})
}
