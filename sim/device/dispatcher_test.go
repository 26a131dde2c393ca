package device

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func prog(name string, prio uint32, insns int) Program {
	return Program{Name: name, Object: name + ".o", Insns: insns, Config: RunConfig{Priority: prio, Actions: DefaultActions}}
}

func names(d *Dispatcher) string {
	var s []string
	for _, sl := range d.Slots {
		s = append(s, fmt.Sprintf("%s/%d", sl.Program.Name, sl.Program.Ref))
	}
	return strings.Join(s, " ")
}

func refs(ps ...Program) []Program {
	for i := range ps {
		ps[i].Ref = i
	}
	return ps
}

func TestBuildOrdersAsLibxdp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		progs []Program
		want  string
		why   []string
	}{
		{"lower priorities run first", refs(prog("c", 30, 5), prog("a", 50, 5), prog("b", 10, 5)),
			"b/2 c/0 a/1", []string{"priority 10, then 30", "priority 30, then 50"}},
		{"equal priorities go by function name", refs(prog("xdp_b", 20, 5), prog("xdp_a", 20, 9), prog("xdp_c", 20, 1)),
			"xdp_a/1 xdp_b/0 xdp_c/2", []string{"same priority; by name, xdp_a before xdp_b", "same priority; by name, xdp_b before xdp_c"}},
		{"names compare as bytes, upper case first", refs(prog("xdp_b", 20, 5), prog("XDP_Z", 20, 5)), "XDP_Z/1 xdp_b/0", nil},
		{"equal names go by size, smaller first", refs(prog("xdp_count", 20, 30), prog("xdp_count", 20, 12)),
			"xdp_count/1 xdp_count/0", []string{"same priority and name; by size, 12 instructions before 30"}},
		{"programs equal in everything keep the order given", refs(prog("xdp_count", 20, 12), prog("xdp_count", 20, 12), prog("xdp_count", 20, 12)),
			"xdp_count/0 xdp_count/1 xdp_count/2", []string{"same priority, name, size and tag; in the order given", "same priority, name, size and tag; in the order given"}},
		{"priority 0 runs before everything", refs(prog("z", 0, 5), prog("a", 1, 5)), "z/0 a/1", nil},
		{"the largest priority runs last", refs(prog("a", 4294967295, 5), prog("b", 50, 5)), "b/1 a/0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Build(tc.progs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(d); got != tc.want {
				t.Errorf("order %s, want %s", got, tc.want)
			}
			for i, w := range tc.why {
				if got := d.Slots[i+1].Why; got != w {
					t.Errorf("slot %d placed by %q, want %q", i+1, got, w)
				}
			}
		})
	}
}

func TestBuildLimitsAndTargets(t *testing.T) {
	many := func(n int) []Program {
		var ps []Program
		for i := range n {
			ps = append(ps, prog(fmt.Sprintf("p%02d", i), 50, 5))
		}
		return ps
	}
	t.Run("ten programs fill the ten stubs", func(t *testing.T) {
		d, err := Build(many(10), Options{})
		if err != nil || len(d.Slots) != 10 || d.Slots[9].Target != "prog9" || d.Config.NumProgsEnabled != 10 {
			t.Fatalf("got %v, %v", d, err)
		}
	})
	t.Run("an eleventh fails with E2BIG", func(t *testing.T) {
		_, err := Build(many(11), Options{})
		if !errors.Is(err, ErrTooMany) || err.Error() != "11 programs on one interface: libxdp's dispatcher has 10 slots: argument list too long (E2BIG)" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a single program replaces the dispatcher's main function", func(t *testing.T) {
		d, err := Build(many(1), Options{})
		if err != nil || d.Slots[0].Target != "xdp_dispatcher" {
			t.Fatalf("got %v, %v", d, err)
		}
		// No chain logic applies to it, whatever it returns.
		for _, ret := range []uint32{0, 2, 31} {
			if d.Continues(0, ret) {
				t.Errorf("a single program's return %d continues", ret)
			}
		}
	})
	t.Run("no programs is an error", func(t *testing.T) {
		if _, err := Build(nil, Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestContinuesAsTheDispatchersCode(t *testing.T) {
	a, b := prog("a", 1, 5), prog("b", 2, 5)
	a.Config.Actions = 1<<Pass | 1<<Drop
	d, err := Build([]Program{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ret  uint32
		want bool
		why  string
	}{
		{2, true, "XDP_PASS is a chain-call action"},
		{1, true, "so is XDP_DROP"},
		{0, false, "XDP_ABORTED is not"},
		{3, false, "nor XDP_TX"},
		{7, false, "an invalid action ends the chain and is the verdict"},
		{31, true, "31 is what a stub returns: always continue"},
		{32, false, "the shift is 64 bits wide: bit 32 of a 32-bit bitmap is 0"},
		{63, false, "nor bit 63"},
		{64 + 2, true, "the shift count is masked to 6 bits: 66 tests bit 2"},
		{64 + 31, true, "95 tests bit 31"},
		{0xffffffff, false, "-1 tests bit 63"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			if got := d.Continues(0, tc.ret); got != tc.want {
				t.Errorf("return %d: continues %v, want %v", tc.ret, got, tc.want)
			}
		})
	}
}

func TestBuildFragsAndConfig(t *testing.T) {
	a, b, c := prog("xdp_a", 10, 5), prog("xdp_b", 20, 5), prog("xdp_c", 30, 5)
	a.Frags, b.Frags = true, true
	b.Config.Actions = 1<<Pass | 1<<Drop
	t.Run("frags only when every program is frags-aware", func(t *testing.T) {
		d, err := Build([]Program{a, b}, Options{})
		if err != nil || !d.Frags || d.Config.IsXDPFrags != 1 {
			t.Fatalf("got %+v, %v", d, err)
		}
		d, err = Build([]Program{a, b, c}, Options{})
		if err != nil || d.Frags || d.Config.IsXDPFrags != 0 || strings.Join(d.NotFrags, ",") != "xdp_c" {
			t.Fatalf("got %+v, %v", d, err)
		}
	})
	t.Run("the configuration is struct xdp_dispatcher_config byte for byte", func(t *testing.T) {
		d, err := Build([]Program{c, b, a}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := d.Config.MarshalBinary()
		// magic 236, version 2, 3 programs, no frags; chain actions with bit 31 (0x80000004
		// for XDP_PASS, 0x80000006 with XDP_DROP); priorities 10, 20, 30; BPF_F_XDP_HAS_FRAGS
		// (0x20) for the frags-aware ones.
		want := "ec020300" + "04000080" + "06000080" + "04000080" + strings.Repeat("00000000", 7) +
			"0a000000" + "14000000" + "1e000000" + strings.Repeat("00000000", 7) +
			"20000000" + "20000000" + "00000000" + strings.Repeat("00000000", 7)
		if got := hex.EncodeToString(raw); got != want {
			t.Errorf("config\n%s, want\n%s", got, want)
		}
		var back Config
		if err := back.UnmarshalBinary(raw); err != nil || back != d.Config {
			t.Errorf("round trip: %+v, %v", back, err)
		}
		if err := back.UnmarshalBinary(raw[:10]); err == nil {
			t.Error("a short configuration decodes")
		}
	})
}

func TestBuildRefusesWhatTheKernelRefuses(t *testing.T) {
	pkt := prog("xdp_pop", 10, 5)
	pkt.ChangesPacketData = "bpf_xdp_adjust_head at instruction 4 (pop.c:12)"
	dev := prog("xdp_hints", 10, 5)
	dev.DevBound = "bpf_xdp_metadata_rx_hash"
	t.Run("a program that changes packet data, with libxdp 1.3.1's stubs", func(t *testing.T) {
		_, err := Build([]Program{prog("a", 1, 5), pkt}, Options{})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "xdp_pop.o: xdp_pop calls bpf_xdp_adjust_head at instruction 4 (pop.c:12)") ||
			!strings.Contains(err.Error(), "Extension program changes packet data, while original does not") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("is accepted with stubs that change packet data themselves", func(t *testing.T) {
		if _, err := Build([]Program{prog("a", 1, 5), pkt}, Options{PacketChangingStubs: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a device-bound program is refused", func(t *testing.T) {
		_, err := Build([]Program{dev}, Options{PacketChangingStubs: true})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "metadata kfuncs require device-bound program") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("more than ten programs fail before any is refused", func(t *testing.T) {
		var ps []Program
		for range 11 {
			ps = append(ps, pkt)
		}
		if _, err := Build(ps, Options{}); !errors.Is(err, ErrTooMany) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestAddAndRemoveRegenerate(t *testing.T) {
	a, b := prog("xdp_fw", 20, 40), prog("xdp_lb", 60, 10)
	a.Tag, b.Tag = [8]byte{0xff}, [8]byte{0x11}
	d, err := Build(refs(a, b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a new program goes where its priority puts it and moves the ones after it", func(t *testing.T) {
		c := prog("xdp_mon", 40, 5)
		c.Ref = 2
		d2, err := d.Add([]Program{c})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(d2); got != "xdp_fw/0 xdp_mon/2 xdp_lb/1" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("the programs already there keep the configuration the dispatcher recorded", func(t *testing.T) {
		// b's BTF would say priority 60; an override at attach time made it 5.
		five := uint32(5)
		bb := b
		bb.Config = Override{Priority: &five}.Apply(bb.Config)
		d1, err := Build([]Program{a, bb}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		d2, err := d1.Add([]Program{prog("xdp_mon", 40, 5)})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(d2); got != "xdp_lb/0 xdp_fw/0 xdp_mon/0" || d2.Slots[0].Program.Config.Priority != 5 {
			t.Errorf("got %s", got)
		}
	})
	t.Run("a program already there goes before a new one of the same priority and name", func(t *testing.T) {
		old := prog("xdp_fw", 20, 400)
		d1, _ := Build([]Program{old}, Options{})
		d2, err := d1.Add([]Program{prog("xdp_fw", 20, 4)})
		if err != nil {
			t.Fatal(err)
		}
		if d2.Slots[0].Program.Insns != 400 || d2.Slots[1].Why != "same priority and name; the program already attached first" {
			t.Errorf("slots %+v", d2.Slots)
		}
		t.Run("and once both are loaded, the tag decides, whatever was there first", func(t *testing.T) {
			// The older program has the larger tag: the next regeneration swaps them.
			d2.Slots[0].Program.Tag, d2.Slots[1].Program.Tag = [8]byte{0xaa}, [8]byte{0x0b}
			d3, err := d2.Add([]Program{prog("xdp_zz", 99, 4)})
			if err != nil {
				t.Fatal(err)
			}
			if d3.Slots[0].Program.Insns != 4 || d3.Slots[1].Why != "same priority and name; by tag, 0b00000000000000 before aa00000000000000" {
				t.Errorf("slots %+v", d3.Slots)
			}
		})
		t.Run("and with equal tags, the load time decides", func(t *testing.T) {
			d2.Slots[0].Program.Tag, d2.Slots[1].Program.Tag = [8]byte{1}, [8]byte{1}
			d3, err := d2.Add([]Program{prog("xdp_zz", 99, 4)})
			if err != nil {
				t.Fatal(err)
			}
			if d3.Slots[0].Program.Insns != 400 || d3.Slots[1].Why != "same priority, name and tag; by load time" {
				t.Errorf("slots %+v", d3.Slots)
			}
		})
	})
	t.Run("adding beyond ten fails", func(t *testing.T) {
		var ps []Program
		for i := range 9 {
			ps = append(ps, prog(fmt.Sprintf("n%d", i), 1, 1))
		}
		if _, err := d.Add(ps); !errors.Is(err, ErrTooMany) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("removing regenerates without it, and removing all leaves none", func(t *testing.T) {
		d2, err := d.Remove(func(p Program) bool { return p.Name == "xdp_fw" })
		if err != nil || names(d2) != "xdp_lb/1" || d2.Slots[0].Target != "xdp_dispatcher" {
			t.Fatalf("got %v, %v", d2, err)
		}
		d3, err := d.Remove(func(Program) bool { return true })
		if err != nil || d3 != nil {
			t.Fatalf("got %v, %v", d3, err)
		}
		if _, err := d.Remove(func(Program) bool { return false }); err == nil {
			t.Fatal("removing nothing is not an error")
		}
	})
}

func TestFixedSlots(t *testing.T) {
	ps := []Program{prog("xdp_lb", 60, 1), prog("xdp_fw", 20, 1), prog("xdp_fw2", 20, 1), prog("xdp_far", 100, 1)}
	got := FixedSlots(ps, 100)
	var b bytes.Buffer
	for _, s := range got {
		fmt.Fprintf(&b, "%d %s %s;", s.Slot, s.Program.Name, s.Refused)
	}
	want := "20 xdp_fw ;60 xdp_lb ;-1 xdp_fw2 slot 20 is taken by xdp_fw;-1 xdp_far priority 100 is beyond the 100 slots;"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
}
