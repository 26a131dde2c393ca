package kfuncs

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

// Return values from the traits RFC (include/net/trait.h of v1 and v2, and patch 03 "trait: XDP
// support" of v2), negated errnos: EINVAL 22, ENOENT 2, EBUSY 16, ENOSPC 28, EOPNOTSUPP 95.
func TestTraitKfuncsFollowTheRFC(t *testing.T) {
	type step struct {
		fn   string
		key  uint64
		val  []byte // set: the value; get: the destination's size (its bytes ignored)
		want int64
		got  []byte // get: the bytes expected at the destination
	}
	val4 := []byte{0xde, 0xad, 0xbe, 0xef}
	val8 := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	cases := []struct {
		name  string
		v1    bool
		steps []step
	}{
		{"a value set can be read back, and is gone once deleted", false, []step{
			{fn: "set", key: 5, val: val4, want: 0},
			{fn: "is_set", key: 5, want: 1},
			{fn: "get", key: 5, val: make([]byte, 8), want: 4, got: val4},
			{fn: "del", key: 5, want: 0},
			{fn: "is_set", key: 5, want: 0},
			{fn: "get", key: 5, val: make([]byte, 8), want: -2},
			{fn: "del", key: 5, want: -2},
		}},
		{"keys from 64 up are invalid", false, []step{
			{fn: "set", key: 64, val: val4, want: -22},
			{fn: "is_set", key: 64, want: -22},
			{fn: "get", key: 64, val: make([]byte, 8), want: -22},
			{fn: "del", key: 1 << 40, want: -22},
			{fn: "set", key: 63, val: val8, want: 0},
		}},
		{"v2 stores 0, 4 and 8 bytes and refuses 2", false, []step{
			{fn: "set", key: 1, val: nil, want: 0},
			{fn: "get", key: 1, val: nil, want: 0},
			{fn: "set", key: 2, val: val4, want: 0},
			{fn: "set", key: 3, val: val8, want: 0},
			{fn: "set", key: 4, val: val4[:2], want: -22},
		}},
		{"v1 stores 2, 4 and 8 bytes and refuses 0", true, []step{
			{fn: "set", key: 1, val: val4[:2], want: 0},
			{fn: "get", key: 1, val: make([]byte, 2), want: 2, got: val4[:2]},
			{fn: "set", key: 2, val: nil, want: -22},
			{fn: "set", key: 3, val: val8, want: 0},
		}},
		{"a key set with another length is busy", false, []step{
			{fn: "set", key: 9, val: val4, want: 0},
			{fn: "set", key: 9, val: val8, want: -16},
			{fn: "set", key: 9, val: []byte{9, 9, 9, 9}, want: 0},
			{fn: "get", key: 9, val: make([]byte, 4), want: 4, got: []byte{9, 9, 9, 9}},
		}},
		{"a destination shorter than the value is no space", false, []step{
			{fn: "set", key: 7, val: val8, want: 0},
			{fn: "get", key: 7, val: make([]byte, 4), want: -28},
		}},
		{"the store refuses to grow past data_meta", false, []step{ // 216-16 = 200 bytes: 25 values of 8
			{fn: "fill", want: 0},
			{fn: "set", key: 60, val: val8, want: -28},
			{fn: "set", key: 61, val: val4, want: -28},
			{fn: "set", key: 62, val: nil, want: 0}, // a flag takes no room
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFrame(t, 0, nil)
			f.v1 = c.v1
			tm := newTestMachine(f)
			addr, mem := tm.stack(0)
			for i, s := range c.steps {
				var r int64
				var err error
				switch s.fn {
				case "set":
					copy(mem, s.val)
					r, err = tm.call(t, "bpf_xdp_trait_set", c.v1, s.key, addr, uint64(len(s.val)), 0)
				case "is_set":
					r, err = tm.call(t, "bpf_xdp_trait_is_set", c.v1, s.key)
				case "get":
					clear(mem)
					r, err = tm.call(t, "bpf_xdp_trait_get", c.v1, s.key, addr, uint64(len(s.val)))
				case "del":
					r, err = tm.call(t, "bpf_xdp_trait_del", c.v1, s.key)
				case "fill":
					for k := range uint64(25) {
						if r, err = tm.call(t, "bpf_xdp_trait_set", c.v1, k, addr, 8, 0); r != 0 || err != nil {
							break
						}
					}
				}
				if err != nil {
					t.Fatalf("step %d (%s %d): %v", i, s.fn, s.key, err)
				}
				if r != s.want {
					t.Errorf("step %d (%s %d) returned %d, want %d", i, s.fn, s.key, r, s.want)
				}
				if s.got != nil && string(mem[:len(s.got)]) != string(s.got) {
					t.Errorf("step %d (get %d) stored % x, want % x", i, s.key, mem[:len(s.got)], s.got)
				}
			}
		})
	}
}

func TestTraitSetWritesTheRFCLayout(t *testing.T) {
	// v2: 4 bytes is size code 10, high bit set and low bit clear at the key's position; the
	// value follows the 16-byte header.
	f := newTestFrame(t, 0, nil)
	tm := newTestMachine(f)
	addr, mem := tm.stack(0)
	copy(mem, []byte{0xde, 0xad, 0xbe, 0xef})
	if r, err := tm.call(t, "bpf_xdp_trait_set", false, 5, addr, 4, 0); r != 0 || err != nil {
		t.Fatalf("set: %d %v", r, err)
	}
	store := f.buf[40:]
	if high, low := binary.LittleEndian.Uint64(store[0:]), binary.LittleEndian.Uint64(store[8:]); high != 1<<5 || low != 0 {
		t.Errorf("header high %#x low %#x, want %#x 0", high, low, 1<<5)
	}
	if got := store[16:20]; string(got) != "\xde\xad\xbe\xef" {
		t.Errorf("value % x", got)
	}
}

func TestTraitsAndMetadataExcludeEachOtherInV2(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, tm *testMachine, f *testFrame, addr uint64)
	}{
		{"a trait kfunc stops the frame supporting metadata", func(t *testing.T, tm *testMachine, f *testFrame, addr uint64) {
			if r, _ := tm.call(t, "bpf_xdp_trait_is_set", false, 3); r != 0 {
				t.Fatalf("is_set returned %d", r)
			}
			if f.used != 1 || f.metaOK {
				t.Errorf("UseTraits calls %d, meta supported %v; want 1, false", f.used, f.metaOK)
			}
			if r, _ := tm.call(t, "bpf_xdp_metadata_export_to_skb", false); r != retEOPNOTSUPP {
				t.Errorf("export after a trait returned %d, want -95", r)
			}
		}},
		{"a failing trait kfunc counts as a use too", func(t *testing.T, tm *testMachine, f *testFrame, addr uint64) {
			if r, _ := tm.call(t, "bpf_xdp_trait_del", false, 99); r != -22 {
				t.Fatalf("del returned %d", r)
			}
			if f.used != 1 || f.metaOK {
				t.Errorf("UseTraits calls %d, meta supported %v; want 1, false", f.used, f.metaOK)
			}
		}},
		{"after the metadata grew, every trait kfunc returns EOPNOTSUPP", func(t *testing.T, tm *testMachine, f *testFrame, addr uint64) {
			if r, _ := tm.call(t, "bpf_xdp_metadata_export_to_skb", false); r != 0 {
				t.Fatalf("export returned %d", r)
			}
			for _, c := range []struct {
				name string
				args []uint64
			}{
				{"bpf_xdp_trait_set", []uint64{1, addr, 4, 0}},
				{"bpf_xdp_trait_is_set", []uint64{1}},
				{"bpf_xdp_trait_get", []uint64{1, addr, 4}},
				{"bpf_xdp_trait_del", []uint64{1}},
			} {
				if r, _ := tm.call(t, c.name, false, c.args...); r != retEOPNOTSUPP {
					t.Errorf("%s returned %d, want -95", c.name, r)
				}
			}
			if f.used != 0 {
				t.Errorf("UseTraits counted %d uses of unsupported traits", f.used)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFrame(t, 0, &RxHints{})
			tm := newTestMachine(f)
			addr, _ := tm.stack(0)
			c.run(t, tm, f, addr)
		})
	}
	t.Run("in v1 traits leave metadata alone", func(t *testing.T) {
		f := newTestFrame(t, 8, &RxHints{})
		f.v1 = true
		tm := newTestMachine(f)
		addr, _ := tm.stack(0)
		if r, _ := tm.call(t, "bpf_xdp_trait_set", true, 1, addr, 4, 0); r != 0 {
			t.Fatalf("set returned %d", r)
		}
		if !f.metaOK {
			t.Error("metadata support cleared")
		}
	})
	t.Run("in v1 a frame without metadata support has no traits", func(t *testing.T) {
		f := newTestFrame(t, 0, nil)
		f.v1, f.metaOK = true, false
		tm := newTestMachine(f)
		if r, _ := tm.call(t, "bpf_xdp_trait_is_set", true, 1); r != retEOPNOTSUPP {
			t.Errorf("is_set returned %d, want -95", r)
		}
	})
}

func TestTraitKfuncsFaultOnBadMemory(t *testing.T) {
	tm := newTestMachine(newTestFrame(t, 0, nil))
	cases := []struct {
		name string
		fn   string
		args []uint64
	}{
		{"set from NULL faults", "bpf_xdp_trait_set", []uint64{1, 0, 4, 0}},
		{"get into read-only memory faults", "bpf_xdp_trait_get", []uint64{1, tm.ro, 4}},
		{"get of more bytes than the region has faults", "bpf_xdp_trait_get", []uint64{1, tm.ro, 17}},
		{"set of a size beyond any region faults", "bpf_xdp_trait_set", []uint64{1, tm.ro, 1 << 40, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tm.call(t, c.fn, false, c.args...)
			if err == nil {
				t.Fatal("no error")
			}
			var f *vm.Fault
			if c.args[2] < 1<<31 && !errors.As(err, &f) {
				t.Errorf("error %v, want a *vm.Fault", err)
			}
		})
	}
	t.Run("a zero-sized value needs no memory", func(t *testing.T) {
		if r, err := tm.call(t, "bpf_xdp_trait_set", false, 1, 0, 0, 0); r != 0 || err != nil {
			t.Errorf("returned %d, %v; want 0", r, err)
		}
	})
}
