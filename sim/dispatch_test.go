package sim_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/simtest"
	"github.com/xdpsim/xdpsim/vm"
)

// The expected orders, verdicts and maps below are worked out from libxdp 1.3.1's rules (see
// package device) and the components' C sources; package kernel holds the same sets to the real
// libxdp's configuration and the real dispatcher code.

// loadSet loads each program of a corpus dispatcher set from its own object, as xdp-loader opens
// each file it is given, and attaches them with the set's overrides.
func loadSet(t testing.TB, set corpus.DispatcherSet, cpu string) (*sim.XDP, []*sim.Object, error) {
	t.Helper()
	atts, objs := simtest.Attachments(t, set, cpu, 0)
	x, err := sim.NewDispatcher(atts, device.Options{PacketChangingStubs: set.PacketChangingStubs})
	return x, objs, err
}

func mustSet(t *testing.T, name, cpu string) (*sim.XDP, []*sim.Object) {
	t.Helper()
	set, ok := corpus.LookupDispatcher(name)
	if !ok {
		t.Fatalf("no dispatcher set %s", name)
	}
	x, objs, err := loadSet(t, set, cpu)
	if err != nil {
		t.Fatal(err)
	}
	return x, objs
}

// slotsOf lists "function(object base name)" per slot.
func slotsOf(x *sim.XDP) string {
	var s []string
	for _, sl := range x.Dispatcher().Slots {
		obj := sl.Program.Object[strings.LastIndexByte(sl.Program.Object, '/')+1:]
		obj = strings.SplitN(obj, ".", 2)[0]
		s = append(s, fmt.Sprintf("%s(%s)", sl.Program.Name, obj))
	}
	return strings.Join(s, " ")
}

func TestTheCorpusSetsGetLibxdpsOrder(t *testing.T) {
	for _, tc := range []struct {
		set, want string
		frags     bool
	}{
		{"pipeline", "xdp_mon(disp_mon) xdp_fw(disp_fw) xdp_echo(disp_echo)", false},
		{"ties", "xdp_acl(disp_acl) xdp_count(disp_count_small) xdp_count(disp_count_big) xdp_dup(disp_dup_a) xdp_dup(disp_dup_b)", false},
		{"ties-reversed", "xdp_acl(disp_acl) xdp_count(disp_count_small) xdp_count(disp_count_big) xdp_dup(disp_dup_b) xdp_dup(disp_dup_a)", false},
		{"chain-rules", "xdp_verdict(disp_verdict) xdp_last(disp_last)", false},
		{"chain-rules-drop", "xdp_verdict(disp_verdict) xdp_last(disp_last)", false},
		{"chain-rules-prio", "xdp_last(disp_last) xdp_verdict(disp_verdict)", false},
		{"single", "xdp_verdict(disp_verdict)", false},
		{"frags", "xdp_flen(disp_flen) xdp_fsum(disp_fsum)", false},
		{"frags-api", "xdp_flen(disp_flen) xdp_fsum(disp_fsum)", true},
		{"frags-mix", "xdp_mon(disp_mon) xdp_flen(disp_flen) xdp_fsum(disp_fsum)", false},
		{"meta", "xdp_mon(disp_mon) xdp_meta(disp_meta) xdp_vlanpop(disp_vlanpop)", false},
	} {
		for _, cpu := range corpus.CPUs {
			t.Run(tc.set+" "+cpu, func(t *testing.T) {
				x, _ := mustSet(t, tc.set, cpu)
				if got := slotsOf(x); got != tc.want {
					t.Errorf("slots %s\nwant  %s", got, tc.want)
				}
				if d := x.Dispatcher(); d.Frags != tc.frags {
					t.Errorf("frags %v, want %v (%s)", d.Frags, tc.frags, d.Summary())
				}
			})
		}
	}
	t.Run("every set is checked here", func(t *testing.T) {
		if n := len(corpus.Dispatchers()); n != 11 {
			t.Errorf("%d sets in the corpus, 11 checked here", n)
		}
	})
}

func TestTheRunConfigComesFromEachObjectsBTF(t *testing.T) {
	x, _ := mustSet(t, "pipeline", "v3")
	var got []string
	for _, s := range x.Dispatcher().Slots {
		got = append(got, fmt.Sprintf("%s %d %s %#x", s.Program.Name, s.Program.Config.Priority, s.Program.Config.Actions, s.ChainActions))
	}
	want := "xdp_mon 1 XDP_DROP,XDP_PASS 0x80000006|xdp_fw 10 XDP_PASS 0x80000004|xdp_echo 30 XDP_PASS 0x80000004"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	t.Run("and xdp-loader's overrides replace it for every program", func(t *testing.T) {
		x, _ := mustSet(t, "chain-rules-drop", "v3")
		for _, s := range x.Dispatcher().Slots {
			if s.ChainActions != 1<<31|1<<1 {
				t.Errorf("%s: chain actions %#x, want XDP_DROP only", s.Program.Name, s.ChainActions)
			}
		}
	})
}

// ipv4Frame is an untagged IPv4 frame with the given ID and an L4 header for proto.
func ipv4Frame(id uint16, proto uint8, src, dst [4]byte, sport, dport uint16) []byte {
	b := make([]byte, 14+20+8+18)
	copy(b, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(b)-14))
	binary.BigEndian.PutUint16(ip[4:], id)
	ip[8], ip[9] = 64, proto
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	l4 := ip[20:]
	binary.BigEndian.PutUint16(l4[0:], sport)
	binary.BigEndian.PutUint16(l4[2:], dport)
	if proto == 6 {
		l4 = append(l4, make([]byte, 12)...)
		b = append(b[:34], l4...)
		binary.BigEndian.PutUint16(b[16:], uint16(len(b)-14))
	}
	return b
}

var (
	srcA = [4]byte{10, 0, 0, 2}
	dstA = [4]byte{10, 0, 0, 1}
)

func counter(t *testing.T, obj *sim.Object, name string, key uint32) uint64 {
	t.Helper()
	return binary.LittleEndian.Uint64(lookup(t, obj, name, binary.LittleEndian.AppendUint32(nil, key)))
}

func TestChainRulesFollowTheDispatchersCode(t *testing.T) {
	// disp_verdict's return value by IPv4 ID & 15, and whether a slot chaining on every action
	// (chain-rules) or on XDP_DROP only (chain-rules-drop) goes on to xdp_last.
	for _, tc := range []struct {
		pick            uint16
		ret             uint32
		onAll, onDrop   bool
		exceptionOnStop string
	}{
		{0, 0, true, false, "XDP_ABORTED"},
		{1, 1, true, true, ""},
		{2, 2, true, false, ""},
		{3, 3, true, false, ""},
		{4, 4, true, false, ""},
		{5, 7, false, false, "invalid action 7"},
		{6, 31, true, true, ""},
		{7, 32, false, false, "invalid action 32"},
		{8, 63, false, false, "invalid action 63"},
		{9, 66, true, false, "invalid action 66"}, // bit 66 & 63 = 2: XDP_PASS
		{10, 95, true, true, ""},                  // bit 31
		{11, 0xffffffff, false, false, "invalid action 4294967295"},
		{12, 2, true, false, ""},
	} {
		for _, set := range []string{"chain-rules", "chain-rules-drop"} {
			t.Run(fmt.Sprintf("%s: a return of %d", set, int32(tc.ret)), func(t *testing.T) {
				x, objs := mustSet(t, set, "v4")
				out := x.Run(ipv4Frame(tc.pick, 17, srcA, dstA, 1000, 2000), nil, sim.Conditions{})
				if out.Err != "" {
					t.Fatal(out.Err)
				}
				cont := tc.onAll
				if set == "chain-rules-drop" {
					cont = tc.onDrop
				}
				wantRet, wantSlots := tc.ret, 1
				if cont {
					wantRet, wantSlots = 2, 2 // xdp_last passes UDP
				}
				if out.Ret != wantRet || len(out.Dispatch) != wantSlots || out.Dispatch[0].Ret != tc.ret || out.Dispatch[0].Continued != cont {
					t.Errorf("ret %d, slots %+v; want ret %d after %d slots", out.Ret, out.Dispatch, wantRet, wantSlots)
				}
				// Each program counted the packet in its own object's maps, and only the ones
				// that ran did.
				verdictObj, lastObj := objs[1], objs[0]
				if counter(t, verdictObj, "verdict_tried", uint32(tc.pick)) != 1 {
					t.Error("xdp_verdict did not count the packet")
				}
				if got := counter(t, lastObj, "last_reached", uint32(tc.pick)); got != map[bool]uint64{true: 1}[cont] {
					t.Errorf("xdp_last counted %d", got)
				}
				if !cont && tc.exceptionOnStop != "" && out.Exception != tc.exceptionOnStop {
					t.Errorf("exception %q, want %q", out.Exception, tc.exceptionOnStop)
				}
			})
		}
	}
	t.Run("when every slot goes on, the verdict is XDP_PASS even if the last said otherwise", func(t *testing.T) {
		// xdp_last drops SSH; with --actions XDP_DROP its XDP_DROP chains on, past the last slot.
		x, _ := mustSet(t, "chain-rules-drop", "v4")
		out := x.Run(ipv4Frame(1, 6, srcA, dstA, 1000, 22), nil, sim.Conditions{})
		if out.Ret != 2 || len(out.Dispatch) != 2 || out.Dispatch[1].Ret != 1 || !out.Dispatch[1].Continued {
			t.Errorf("ret %d, slots %+v", out.Ret, out.Dispatch)
		}
	})
	t.Run("a single program's return value is the verdict as it is", func(t *testing.T) {
		x, _ := mustSet(t, "single", "v4")
		for pick, want := range map[uint16]uint32{0: 0, 6: 31, 9: 66, 11: 0xffffffff} {
			out := x.Run(ipv4Frame(pick, 17, srcA, dstA, 1000, 2000), nil, sim.Conditions{})
			if out.Ret != want || len(out.Dispatch) != 1 || out.Dispatch[0].Continued {
				t.Errorf("pick %d: ret %d, slots %+v; want %d", pick, out.Ret, out.Dispatch, want)
			}
		}
	})
}

func TestSlotsShareTheFrameButNotTheirMaps(t *testing.T) {
	echoPort := ipv4Frame(1, 17, srcA, dstA, 1000, 7)
	t.Run("a slot chaining on XDP_TX hands the frame it turned around to the next", func(t *testing.T) {
		x, objs := mustSet(t, "ties", "v3")
		out := x.Run(echoPort, nil, sim.Conditions{})
		// xdp_dup of disp_dup_a swaps the MACs and chains on XDP_TX; disp_dup_b's swaps them
		// back and ends the chain with XDP_TX.
		if out.Ret != 3 || len(out.Dispatch) != 5 || !bytes.Equal(out.Data, echoPort) {
			t.Errorf("ret %d, slots %+v, data %x", out.Ret, out.Dispatch, out.Data)
		}
		for _, i := range []int{0, 2} { // disp_dup_a and disp_dup_b, in the order given
			if counter(t, objs[i], "dup_seen", 1) != 1 {
				t.Errorf("%s did not see the packet", objs[i].Path)
			}
		}
	})
	t.Run("in the other order the chain ends at the first turn", func(t *testing.T) {
		x, objs := mustSet(t, "ties-reversed", "v3")
		out := x.Run(echoPort, nil, sim.Conditions{})
		if out.Ret != 3 || len(out.Dispatch) != 4 || !bytes.Equal(out.Data[:6], echoPort[6:12]) {
			t.Errorf("ret %d, slots %+v, data %x", out.Ret, out.Dispatch, out.Data)
		}
		if counter(t, objs[4], "dup_seen", 1) != 0 || counter(t, objs[2], "dup_seen", 1) != 1 {
			t.Error("disp_dup_a ran after disp_dup_b ended the chain")
		}
	})
	t.Run("two programs of one name keep their own maps", func(t *testing.T) {
		x, objs := mustSet(t, "ties", "v3")
		x.Run(ipv4Frame(1, 4, srcA, dstA, 0, 0), nil, sim.Conditions{}) // IPIP: the small one drops and chains on
		if counter(t, objs[3], "count_small", 0) != 1 || counter(t, objs[1], "count_big", 3) != 1 {
			t.Error("each xdp_count did not count in its own map")
		}
	})
	t.Run("metadata written in one slot is there in the next, and moves with a popped tag", func(t *testing.T) {
		x, objs := mustSet(t, "meta", "v4")
		inner := ipv4Frame(1, 17, srcA, dstA, 1000, 2000)
		tagged := append(append(append([]byte{}, inner[:12]...), 0x81, 0, 0, 100), inner[12:]...)
		out := x.Run(tagged, nil, sim.Conditions{})
		meta := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x6d657461), uint32(len(tagged)))
		// The tag says the length the frame had before the pop: xdp_vlanpop passes it.
		if out.Ret != 2 || !bytes.Equal(out.Data, inner) || !bytes.Equal(out.Meta, meta) {
			t.Errorf("ret %d, data %x, meta %x", out.Ret, out.Data, out.Meta)
		}
		if counter(t, objs[0], "pop_stats", 0) != 1 || counter(t, objs[0], "pop_stats", 2) != 1 {
			t.Error("xdp_vlanpop did not pop the tag after seeing the metadata")
		}
	})
	t.Run("a frags-aware slot writes into a fragment the others see", func(t *testing.T) {
		x, objs := mustSet(t, "frags", "v4")
		jumbo := make([]byte, 6000)
		copy(jumbo, ipv4Frame(1, 17, srcA, dstA, 1000, 2000))
		jumbo[len(jumbo)-1] = 0x0f
		out := x.Run(jumbo, nil, sim.Conditions{})
		if out.Ret != 2 || len(out.Data) != 6000 || out.Data[5999] != 0xf0 {
			t.Errorf("ret %d, %d bytes, last %#x", out.Ret, len(out.Data), out.Data[len(out.Data)-1])
		}
		if counter(t, objs[1], "flen_classes", 4) != 1 || counter(t, objs[0], "fsum_last", 1) != 1 {
			t.Error("the slots did not see the fragmented frame")
		}
	})
}

func TestTheRedirectTargetOutlivesTheSlotThatChoseIt(t *testing.T) {
	obj1, obj2 := load(t, "dispatch", sim.LoadOptions{}), load(t, "dispatch", sim.LoadOptions{})
	set, _ := obj1.FindProgram("set_target")
	redir, _ := obj2.FindProgram("redirect_only")
	one := uint32(1)
	x, err := sim.NewDispatcher([]sim.Attachment{{Program: set, Override: device.Override{Priority: &one}}, {Program: redir}}, device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := x.Run(rawFrame(mac(1), mac(2), uint16(layers.EthernetTypeIPv4), 60), nil, sim.Conditions{})
	if out.Ret != 4 || out.Redirect == nil || out.Redirect.Ifindex != 5 || out.Exception != "" {
		t.Errorf("ret %d, redirect %+v, exception %q", out.Ret, out.Redirect, out.Exception)
	}
}

func TestAFaultingSlotEndsThePacketNamingIt(t *testing.T) {
	// read_far is what the verifier refuses: it loads only without it.
	objA, objB := load(t, "dispatch", sim.LoadOptions{}), load(t, "dispatch", sim.LoadOptions{NoVerify: true})
	count, err := objA.FindProgram("count_all")
	if err != nil {
		t.Fatal(err)
	}
	far, err := objB.FindProgram("read_far")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewDispatcher([]sim.Attachment{{Program: count}, {Program: far}}, device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := x.Run(rawFrame(mac(1), mac(2), 0x0800, 60), nil, sim.Conditions{})
	var sf *sim.SlotFault
	var vf *vm.Fault
	if !errors.As(out.Fault, &sf) || sf.Slot != 1 || sf.Program != "read_far" || !errors.As(out.Fault, &vf) {
		t.Fatalf("fault %v", out.Fault)
	}
	if !strings.HasPrefix(out.Err, "program fault: slot 1 (read_far): ") || len(out.Dispatch) != 1 {
		t.Errorf("err %q, slots %+v", out.Err, out.Dispatch)
	}
	// The slot before it ran: its map says so.
	if counter(t, objA, "seen", 0) != 1 {
		t.Error("count_all did not run before the fault")
	}
	t.Run("and a frame it can read runs to the end", func(t *testing.T) {
		out := x.Run(rawFrame(mac(1), mac(2), 0x0800, 300), nil, sim.Conditions{})
		if out.Err != "" || out.Ret != 2 || len(out.Dispatch) != 2 {
			t.Errorf("err %q, ret %d, slots %+v", out.Err, out.Ret, out.Dispatch)
		}
	})
}

func TestWhatLibxdpRefusesIsRefused(t *testing.T) {
	t.Run("programs that change packet data, with libxdp 1.3.1", func(t *testing.T) {
		set, _ := corpus.LookupDispatcher("meta")
		set.PacketChangingStubs = false
		_, _, err := loadSet(t, set, "v3")
		if !errors.Is(err, device.ErrRefused) || !strings.Contains(err.Error(), "disp_meta.v3.o: xdp_meta calls bpf_xdp_adjust_meta at instruction") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a program the verifier refused is not there to attach", func(t *testing.T) {
		if _, err := load(t, "dispatch", sim.LoadOptions{}).FindProgram("read_far"); err == nil {
			t.Fatal("the verifier let read_far load")
		}
		if _, err := sim.NewDispatcher([]sim.Attachment{{}}, device.Options{}); err == nil || err.Error() != "attachment 0 has no program" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an eleventh program", func(t *testing.T) {
		var atts []sim.Attachment
		for range 11 {
			p, err := load(t, "dispatch", sim.LoadOptions{}).FindProgram("count_all")
			if err != nil {
				t.Fatal(err)
			}
			atts = append(atts, sim.Attachment{Program: p})
		}
		if _, err := sim.NewDispatcher(atts, device.Options{}); !errors.Is(err, device.ErrTooMany) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a device-bound program", func(t *testing.T) {
		p, _ := corpus.Lookup("hints")
		obj, err := sim.Load(p.Object("v3"), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		prog, err := obj.FindProgram(p.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sim.NewDispatcher([]sim.Attachment{{Program: prog}}, device.Options{}); !errors.Is(err, device.ErrRefused) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestAddingAProgramRegeneratesTheDispatcher(t *testing.T) {
	x, objs := mustSet(t, "chain-rules", "v3")
	p, _ := corpus.Lookup("disp_fw")
	obj, err := sim.Load(p.Object("v3"), sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fw, _ := obj.FindProgram(p.Entry)
	// A packet before, through xdp_verdict and xdp_last.
	x.Run(ipv4Frame(2, 17, srcA, dstA, 1000, 2000), nil, sim.Conditions{})
	x2, err := x.Add(sim.Attachment{Program: fw})
	if err != nil {
		t.Fatal(err)
	}
	// xdp_fw has xdp_verdict's priority (10) and sorts before it by name: every slot moves.
	if got := slotsOf(x2); got != "xdp_fw(disp_fw) xdp_verdict(disp_verdict) xdp_last(disp_last)" {
		t.Errorf("slots %s", got)
	}
	if got := x2.Dispatcher().Slots[1].Why; got != "same priority; by name, xdp_fw before xdp_verdict" {
		t.Errorf("placed by %q", got)
	}
	out := x2.Run(ipv4Frame(2, 6, srcA, dstA, 1000, 25), nil, sim.Conditions{})
	if out.Ret != 1 || len(out.Dispatch) != 1 {
		t.Errorf("ret %d, slots %+v: xdp_fw should drop SMTP first", out.Ret, out.Dispatch)
	}
	out = x2.Run(ipv4Frame(2, 17, srcA, dstA, 1000, 2000), nil, sim.Conditions{})
	if out.Ret != 2 || len(out.Dispatch) != 3 {
		t.Errorf("ret %d, slots %+v", out.Ret, out.Dispatch)
	}
	// The maps are the objects': the count from before the regeneration is still there.
	if counter(t, objs[1], "verdict_tried", 2) != 2 {
		t.Error("xdp_verdict's map lost its count")
	}
}

// BenchmarkDispatcherPacketsPerSecond runs the pipeline set (three slots) over the mixed trace,
// and each of its programs alone for comparison: the dispatcher's own cost is the difference
// between the first and the sum of the others.
func BenchmarkDispatcherPacketsPerSecond(b *testing.B) {
	pkts := readPcap(b, corpus.TracePath("mixed.pcap"))
	set, _ := corpus.LookupDispatcher("pipeline")
	run := func(b *testing.B, x *sim.XDP) {
		var insns uint64
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			o := x.Run(pkts[n%len(pkts)], nil, sim.Conditions{})
			insns += o.Executed
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
		b.ReportMetric(float64(insns)/float64(n), "insns/packet")
	}
	b.Run("pipeline", func(b *testing.B) {
		x, _, err := loadSet(b, set, "v4")
		if err != nil {
			b.Fatal(err)
		}
		run(b, x)
	})
	for _, name := range set.Programs {
		b.Run(name+" alone", func(b *testing.B) {
			p, _ := corpus.Lookup(name)
			obj, err := sim.Load(p.Object("v4"), sim.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			prog, _ := obj.FindProgram(p.Entry)
			x, err := sim.NewXDP(prog)
			if err != nil {
				b.Fatal(err)
			}
			run(b, x)
		})
	}
}

func TestDispatcherPacketsDoNotAllocate(t *testing.T) {
	pkts := readPcap(t, corpus.TracePath("mixed.pcap"))
	for _, name := range []string{"pipeline", "ties", "chain-rules"} {
		t.Run(name, func(t *testing.T) {
			x, _ := mustSet(t, name, "v4")
			for _, pkt := range pkts {
				x.Run(pkt, nil, sim.Conditions{})
			}
			n := 0
			allocs := testing.AllocsPerRun(len(pkts), func() {
				x.Run(pkts[n%len(pkts)], nil, sim.Conditions{})
				n++
			})
			if allocs != 0 {
				t.Errorf("%v allocations per packet, want 0", allocs)
			}
		})
	}
}

func TestLongNamesAreWhatLibxdpFindsForLoadedPrograms(t *testing.T) {
	obj := load(t, "dispatch", sim.LoadOptions{})
	for _, tc := range []struct{ prog, want string }{
		{"unique_long_program", "unique_long_program"},
		{"count_everything_seen", "count_everythin"},
		{"count_all", ""},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			p, err := obj.FindProgram(tc.prog)
			if err != nil {
				t.Fatal(err)
			}
			dp, err := p.DispatchProgram(device.Override{})
			if err != nil {
				t.Fatal(err)
			}
			if dp.LoadedName != tc.want {
				t.Errorf("loaded name %q, want %q", dp.LoadedName, tc.want)
			}
		})
	}
}
