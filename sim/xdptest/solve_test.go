package xdptest

import (
	"bytes"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

func TestNeighbours(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	eq := func(a, b uint64) vm.Comparison { return vm.Comparison{Equality: true, A: a, B: b, Bits: 32} }
	tests := []struct {
		name string
		pkt  string
		cmp  vm.Comparison
		want []string
	}{
		{"a byte tested for another value is set to it, where it occurs", "00aa11aa22", eq(0xaa, 0x78), []string{"007811aa22", "00aa117822"}},
		{"a 16-bit value is found in either byte order", "1e61ffff611e", eq(0x611e, 0x0800), []string{"0008ffff611e", "1e61ffff0800"}},
		// 0x0005 as two bytes: little-endian 0500 (at 1 and 3), then big-endian 0005 (at 0 and 2).
		{"the wider operand sets the width", "0005000500", eq(0x05, 0x1234), []string{"0034120500", "0005003412", "1234000500", "0005123400"}},
		{"a test that held has none", "0101", eq(1, 1), nil},
		{"below the bound of an ordering test, the bound and the value past it", "0c00", vm.Comparison{A: 0x0c, B: 0x20, Bits: 32}, []string{"2000", "2100"}},
		{"above the bound of an ordering test, the bound and the value below it", "00ff", vm.Comparison{A: 0xff, B: 4, Bits: 32}, []string{"0004", "0003"}},
		{"a signed ordering test takes -1 as below 4", "ffffffff", vm.Comparison{A: 0xffffffff, B: 4, Bits: 32, Signed: true}, []string{"04000000", "00000004", "05000000", "00000005"}},
		{"a value that is not in the packet has none", "0101", eq(7, 2), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := neighbours(h(tt.pkt), tt.cmp, nil)
			// The order follows from where the packet's hash starts the search: compare sets.
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, hex.EncodeToString(g))
			}
			slices.Sort(gotS)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(gotS, want) {
				t.Fatalf("neighbours %v, want %v", gotS, want)
			}
		})
	}
	t.Run("at most four neighbours, each one place changed", func(t *testing.T) {
		pkt := h("0101010101010101")
		got := neighbours(pkt, eq(1, 2), nil)
		seen := map[string]bool{}
		for _, n := range got {
			changed := 0
			for i := range n {
				if n[i] != pkt[i] {
					changed++
					if n[i] != 2 {
						t.Errorf("%x: byte %d set to %d, want 2", n, i, n[i])
					}
				}
			}
			if changed != 1 || seen[string(n)] {
				t.Errorf("%x: %d bytes changed (want 1), or seen before", n, changed)
			}
			seen[string(n)] = true
		}
		if len(got) != 4 {
			t.Errorf("%d neighbours of 8 places, want 4", len(got))
		}
	})
	t.Run("neighbours reuse the buffers they were given", func(t *testing.T) {
		buf := neighbours(h("00aa11aa22"), eq(0xaa, 0x78), nil)
		pkt := h("00aa11aa22")
		if allocs := testing.AllocsPerRun(100, func() { buf = neighbours(pkt, eq(0xaa, 0x78), buf[:0]) }); allocs != 0 {
			t.Errorf("%v allocations, want 0", allocs)
		}
	})
}

func TestNeighboursOfACommonValueDependOnThePacket(t *testing.T) {
	// 64 bytes of '0': the tested byte occurs everywhere. Packets that differ elsewhere try
	// different places, and each the same places every time.
	places := map[int]bool{}
	for v := range 32 {
		pkt := bytes.Repeat([]byte("0"), 64)
		pkt[63] = byte(v)
		got := neighbours(pkt, vm.Comparison{Equality: true, A: '0', B: 'x', Bits: 32}, nil)
		again := neighbours(pkt, vm.Comparison{Equality: true, A: '0', B: 'x', Bits: 32}, nil)
		if len(got) != 4 || !slices.EqualFunc(got, again, bytes.Equal) {
			t.Fatalf("packet %d: %d neighbours, or different ones the second time", v, len(got))
		}
		for _, n := range got {
			places[bytes.IndexByte(n, 'x')] = true
		}
	}
	if len(places) < 32 {
		t.Errorf("32 packets tried %d places of 63, want more", len(places))
	}
}
