package kfuncs

import (
	"testing"
)

// benchKfunc calls kfunc name with the given arguments (after r1) on a frame, as the machine would.
func benchKfunc(b *testing.B, name string, f *testFrame, setup func(tm *testMachine, addr uint64), args func(addr uint64) []uint64) {
	tm := newTestMachine(f)
	addr, _ := tm.stack(0)
	if setup != nil {
		setup(tm, addr)
	}
	k, err := Lookup(name, Features{Traits: true, ExportToSkb: true})
	if err != nil {
		b.Fatal(err)
	}
	var r [5]uint64
	copy(r[1:], args(addr))
	impl := k.Impl
	if r0, err := impl(tm.m, r[0], r[1], r[2], r[3], r[4]); err != nil || int64(r0) < 0 {
		b.Fatalf("returned %d, %v", int64(r0), err)
	}
	b.ReportAllocs()
	for b.Loop() {
		impl(tm.m, r[0], r[1], r[2], r[3], r[4])
	}
}

// BenchmarkTraitKfunc runs bpf_xdp_trait_get and bpf_xdp_trait_set through the kfunc entry (finding
// the frame, checking the value's memory, the store operation) on a store of 8 keys, reading or
// overwriting a 4-byte value in the middle.
func BenchmarkTraitKfunc(b *testing.B) {
	fill := func(tm *testMachine, addr uint64) {
		for _, k := range []uint64{1, 7, 12, 20, 31, 40, 52, 63} {
			if r, err := tm.call(b, "bpf_xdp_trait_set", false, k, addr, 4, 0); r != 0 || err != nil {
				b.Fatalf("set %d: %d %v", k, r, err)
			}
		}
	}
	b.Run("get", func(b *testing.B) {
		benchKfunc(b, "bpf_xdp_trait_get", newTestFrame(b, 0, nil), fill,
			func(addr uint64) []uint64 { return []uint64{31, addr, 8} })
	})
	b.Run("set", func(b *testing.B) {
		benchKfunc(b, "bpf_xdp_trait_set", newTestFrame(b, 0, nil), fill,
			func(addr uint64) []uint64 { return []uint64{31, addr, 4, 0} })
	})
}

// BenchmarkHintKfunc runs bpf_xdp_metadata_rx_hash and _rx_timestamp through the kfunc entry.
func BenchmarkHintKfunc(b *testing.B) {
	h := &RxHints{Supported: allHints, Valid: allHints, Hash: 1, HashType: RSSTypeL4IPv4TCP, Timestamp: 2}
	b.Run("rx_hash", func(b *testing.B) {
		benchKfunc(b, "bpf_xdp_metadata_rx_hash", newTestFrame(b, 0, h), nil,
			func(addr uint64) []uint64 { return []uint64{addr, addr + 4} })
	})
	b.Run("rx_timestamp", func(b *testing.B) {
		benchKfunc(b, "bpf_xdp_metadata_rx_timestamp", newTestFrame(b, 0, h), nil,
			func(addr uint64) []uint64 { return []uint64{addr} })
	})
}
