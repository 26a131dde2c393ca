package kernel_test

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/simtest"
)

// skbLayout is where the kernel's sk_buff keeps a tc program's packet, as offsets from skb->head:
// skb->data, the tail (data_end), skb->end (skb_shared_info follows it), the MAC and network
// headers.
type skbLayout struct{ Data, Tail, End, Mac, Network int }

// skbLayoutCase is one helper call (op, with the arguments a and b, as testdata/tc_layout.c takes
// them in cb[]) on an IPv4/UDP packet of n bytes run as BPF_PROG_TEST_RUN runs a tc program, and
// the layout after it, measured on Linux 6.18 (x86_64) through bpf_cast_to_kern_ctx.
type skbLayoutCase struct {
	name    string
	n       int
	op      int
	a, b    int64
	want    skbLayout
	wantRet int32
}

const (
	opNone = iota
	opChangeTail
	opChangeHead
	opAdjustRoom
	opPullData
	opVlanPushTwice
	opChangeProto
)

func skbLayoutCases() []skbLayoutCase {
	return []skbLayoutCase{
		// The test run's head: kzalloc(SKB_DATA_ALIGN(n) + 64 + 320), all of the kmalloc object
		// used: skb->end is its size less skb_shared_info's 320 bytes.
		{name: "a 60-byte packet gets a 512-byte head", n: 60, want: skbLayout{64, 124, 192, 64, 78}},
		{name: "a 376-byte packet gets a 1024-byte head", n: 376, want: skbLayout{64, 440, 704, 64, 78}},
		{name: "a 1000-byte packet gets a 2048-byte head", n: 1000, want: skbLayout{64, 1064, 1728, 64, 78}},
		{name: "a 1500-byte packet gets a 2048-byte head", n: 1500, want: skbLayout{64, 1564, 1728, 64, 78}},
		{name: "the longest packet fills a page", n: 3712, want: skbLayout{64, 3776, 3776, 64, 78}},
		// pskb_expand_head: SKB_DATA_ALIGN(end + nhead + ntail) + 320, rounded up to a kmalloc size
		// (576 from the small-head cache, then powers of two).
		{name: "skb_change_tail into the tailroom keeps the head", n: 376, op: opChangeTail, a: 640, want: skbLayout{64, 704, 704, 64, 78}},
		{name: "skb_change_tail one byte past the tailroom gets a 2048-byte head", n: 376, op: opChangeTail, a: 641, want: skbLayout{64, 705, 1728, 64, 78}},
		{name: "skb_change_tail shrinking keeps the head", n: 376, op: opChangeTail, a: 100, want: skbLayout{64, 164, 704, 64, 78}},
		{name: "skb_change_tail to 9000 bytes gets a 16 KiB head", n: 376, op: opChangeTail, a: 9000, want: skbLayout{64, 9064, 16064, 64, 78}},
		{name: "skb_change_tail to the longest packet gets a 32 KiB head", n: 376, op: opChangeTail, a: 16064, want: skbLayout{64, 16128, 32448, 64, 78}},
		{name: "skb_change_head within the headroom keeps the head", n: 376, op: opChangeHead, a: 64, want: skbLayout{0, 440, 704, 0, 78}},
		{name: "skb_change_head one byte past the headroom adds 64 bytes in front", n: 376, op: opChangeHead, a: 65, want: skbLayout{63, 504, 1728, 63, 142}},
		{name: "skb_change_head of 200 bytes adds 192 in front", n: 376, op: opChangeHead, a: 200, want: skbLayout{56, 632, 1728, 56, 270}},
		{name: "a small head grows into the 576-byte small-head cache", n: 60, op: opChangeHead, a: 65, want: skbLayout{63, 188, 256, 63, 142}},
		{name: "a small head grows past the small-head cache", n: 60, op: opChangeHead, a: 200, want: skbLayout{56, 316, 704, 56, 270}},
		{name: "skb_adjust_room at the MAC header past the headroom", n: 376, op: opAdjustRoom, a: 65, b: 1, want: skbLayout{63, 504, 1728, 63, 77}},
		{name: "skb_adjust_room shrinking behind the network header", n: 376, op: opAdjustRoom, a: -20, want: skbLayout{84, 440, 704, 84, 98}},
		{name: "skb_pull_data of a linear packet changes nothing", n: 376, op: opPullData, want: skbLayout{64, 440, 704, 64, 78}},
		{name: "a second skb_vlan_push moves the first tag into the frame, and the network header with it", n: 376, op: opVlanPushTwice, a: 100, b: 200, want: skbLayout{60, 440, 704, 60, 74}},
		{name: "skb_change_proto to IPv6 pushes 20 bytes", n: 376, op: opChangeProto, a: 0x86dd, want: skbLayout{44, 440, 704, 44, 58}},
	}
}

// layoutBody is the case's helper call for the simulator, as testdata/tc_layout.c makes it.
func layoutBody(c skbLayoutCase) asm.Instructions {
	switch c.op {
	case opChangeTail:
		return tcCall(asm.FnSkbChangeTail, c.a, 0)
	case opChangeHead:
		return tcCall(asm.FnSkbChangeHead, c.a, 0)
	case opAdjustRoom:
		return tcCall(asm.FnSkbAdjustRoom, c.a, c.b, 0)
	case opPullData:
		return tcCall(asm.FnSkbPullData, c.a)
	case opVlanPushTwice:
		return append(append(tcCall(asm.FnSkbVlanPush, 0x0081, c.a), asm.JNE.Imm(asm.R0, 0, "out")),
			append(tcCall(asm.FnSkbVlanPush, 0x0081, c.b), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"))...)
	case opChangeProto:
		return tcCall(asm.FnSkbChangeProto, int64(c.a>>8|(c.a&0xff)<<8), 0)
	}
	return asm.Instructions{asm.Mov.Imm(asm.R0, 0)}
}

// lastSkb keeps the skb as the simulator's tc hook left it.
type lastSkb struct{ v sim.SkbView }

func (l *lastSkb) SkbStart(sim.SkbView)                   {}
func (l *lastSkb) SkbMoved(sim.SkbView, sim.SkbMove)      {}
func (l *lastSkb) SkbProgramDone(sim.SkbView, sim.TCRun)  {}
func (l *lastSkb) SkbEnd(v sim.SkbView, _ *sim.TCOutcome) { l.v = v }

func simLayout(v sim.SkbView) skbLayout { return skbLayout{v.Data, v.Tail, v.End, v.Mac, v.Network} }

// kernelLayouts reads tc_layout's map: the layout before the call and after it, and the call's
// result.
func kernelLayouts(t *testing.T, kp *kernel.Program) (before, after skbLayout, ret int32, metaLen int) {
	t.Helper()
	m, err := kp.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	var ls [2]skbLayout
	for i, e := range m["layout"] {
		b, err := hex.DecodeString(e.Value)
		if err != nil || len(b) < 48 {
			t.Fatalf("layout entry %d: %q", i, e.Value)
		}
		w := func(k int) int { return int(binary.LittleEndian.Uint32(b[4*k:])) }
		ls[i] = skbLayout{w(0), w(1), w(2), w(3), w(4)}
		if i == 1 {
			ret, metaLen = int32(w(8)), w(10)
		}
	}
	return ls[0], ls[1], ret, metaLen
}

// TestSkbLayoutAgreesWithTheKernel holds the simulator's sk_buff head (where data, the tail, the
// end and the headers sit, which xdpsim show draws and packet pointers count from) to the
// kernel's, read through bpf_cast_to_kern_ctx, for the test run's skb and after the helpers that
// move or resize it.
func TestSkbLayoutAgreesWithTheKernel(t *testing.T) {
	kerr := kernel.Available()
	var kp *kernel.Program
	if kerr == nil {
		var err error
		if kp, err = kernel.Load("testdata/tc_layout.o", kernel.Options{Program: "tc_layout"}); err != nil {
			t.Fatal(err)
		}
		defer kp.Close()
	}
	for _, c := range skbLayoutCases() {
		t.Run(c.name, func(t *testing.T) {
			insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, layoutBody(c)...)
			spec := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
				"layout": {Name: "layout", Type: ebpf.SchedCLS, License: "GPL", Instructions: append(insns, asm.Return())}}}
			o, err := sim.LoadSpec("layout", spec, sim.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := o.FindProgram("layout")
			if err != nil {
				t.Fatal(err)
			}
			tc, err := sim.NewTC(p)
			if err != nil {
				t.Fatal(err)
			}
			var last lastSkb
			tc.SetSkbObserver(&last)
			out := tc.Run(udp4(c.n, 0, 0), &sim.SkbContext{Ifindex: 1}, sim.Conditions{})
			if out.Err != "" || int32(out.Ret) != c.wantRet {
				t.Fatalf("simulator: ret %d, %s", int32(out.Ret), out.Err)
			}
			if got := simLayout(last.v); got != c.want {
				t.Errorf("simulator: %+v, measured on 6.18: %+v", got, c.want)
			}
			if kerr != nil {
				t.Logf("kernel side skipped: %v", kerr)
				return
			}
			ctx := sim.SkbContext{Ifindex: 1}
			ctx.CB[0], ctx.CB[1], ctx.CB[2] = uint32(c.op), uint32(c.a), uint32(c.b)
			if k := kp.RunTC(udp4(c.n, 0, 0), ctx.Marshal(), kernel.Context{}); k.Err != "" {
				t.Fatalf("kernel: %s", k.Err)
			}
			_, got, ret, _ := kernelLayouts(t, kp)
			if got != c.want || ret != c.wantRet {
				t.Errorf("kernel: %+v (helper returned %d); the case says %+v: the case is wrong", got, ret, c.want)
			}
		})
	}
}

// TestSkbFromAnXDPFrameAtTCIngress reads the skb a veth's receive path builds from a frame its XDP
// program passed with 8 bytes of metadata, at tcx ingress: data and the MAC header at the frame's
// data (XDP_PACKET_HEADROOM from the head), the metadata in front. veth copies a frame into a
// page_pool buffer sized for it (SKB_HEAD_ALIGN(len) + 256) when it fits in half a page, into a
// whole page otherwise: the simulator's devices give every frame a page, as BPF_PROG_TEST_RUN
// does, so its skb->end is the page's (3776) and agrees with veth's for the larger frame.
func TestSkbFromAnXDPFrameAtTCIngress(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	for _, c := range []struct {
		n       int
		want    skbLayout // on veth
		pageEnd bool      // veth gives the frame a page, as the simulator does
	}{
		{60, skbLayout{256, 316, 320, 256, 270}, false},
		{376, skbLayout{256, 632, 640, 256, 270}, false},
		{1500, skbLayout{256, 1756, 3776, 256, 270}, true},
	} {
		r, err := kernel.RunOnVeth("testdata/tc_layout.o", kernel.Options{Program: "xdp_meta8"}, [][]byte{udp4(c.n, 0, 0)},
			kernel.VethOptions{TCX: []string{"tc_layout"}, Maps: []string{"layout"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Rets) != 1 || r.Rets[0] != 2 {
			t.Fatalf("%d bytes: XDP returned %v, want XDP_PASS", c.n, r.Rets)
		}
		b, _ := hex.DecodeString(r.Maps["layout"][0].Value)
		w := func(k int) int { return int(binary.LittleEndian.Uint32(b[4*k:])) }
		got := skbLayout{w(0), w(1), w(2), w(3), w(4)}
		if got != c.want || w(10) != 8 {
			t.Errorf("%d bytes on veth: %+v with %d bytes of metadata, measured on 6.18: %+v with 8", c.n, got, w(10), c.want)
		}
		// The simulator: the same programs, XDP then tc ingress.
		v := simFromXDP(t, udp4(c.n, 0, 0))
		sv := simLayout(v)
		if !c.pageEnd {
			sv.End = c.want.End // veth's smaller buffer, which the simulator's devices do not give
		}
		if sv != c.want || v.MetaLen != 8 {
			t.Errorf("%d bytes in the simulator: %+v with %d bytes of metadata, veth: %+v with 8", c.n, simLayout(v), v.MetaLen, c.want)
		}
	}
}

// firstSkb keeps the skb as the first tc program gets it.
type firstSkb struct{ lastSkb }

func (f *firstSkb) SkbStart(v sim.SkbView)             { f.v = v }
func (f *firstSkb) SkbEnd(sim.SkbView, *sim.TCOutcome) {}

// simFromXDP runs pkt through an XDP program that passes it with 8 bytes of metadata, into a tc
// program at tc ingress behind it, and returns the skb as the tc program gets it.
func simFromXDP(t *testing.T, pkt []byte) sim.SkbView {
	t.Helper()
	spec := &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"xdp_meta8": {Name: "xdp_meta8", Type: ebpf.XDP, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R2, -8), asm.FnXdpAdjustMeta.Call(), asm.Mov.Imm(asm.R0, 2), asm.Return()}},
		"tc_pass": {Name: "tc_pass", Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0), asm.Return()}},
	}}
	o, err := sim.LoadSpec("from_xdp", spec, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := simtest.Behind(t, o, "xdp_meta8", "tc_pass")
	var first firstSkb
	x.Ingress().SetSkbObserver(&first)
	if out := x.Run(pkt, nil, sim.Conditions{}); out.Err != "" || out.TC == nil {
		t.Fatalf("simulator: %+v", out)
	}
	return first.v
}
