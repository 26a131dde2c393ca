package xdptest

import (
	"bytes"
	"encoding/hex"
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
		{"at most four neighbours", "0101010101010101", eq(1, 2), []string{"0201010101010101", "0102010101010101", "0101020101010101", "0101010201010101"}},
		{"a test that held has none", "0101", eq(1, 1), nil},
		{"an ordering test has none", "0101", vm.Comparison{A: 1, B: 2}, nil},
		{"a value that is not in the packet has none", "0101", eq(7, 2), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := neighbours(h(tt.pkt), tt.cmp, nil)
			if len(got) != len(tt.want) {
				t.Fatalf("%d neighbours %x, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], h(tt.want[i])) {
					t.Errorf("neighbour %d is %x, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
	t.Run("neighbours reuse the buffers they were given", func(t *testing.T) {
		buf := neighbours(h("00aa11aa22"), eq(0xaa, 0x78), nil)
		pkt := h("00aa11aa22")
		if allocs := testing.AllocsPerRun(100, func() { buf = neighbours(pkt, eq(0xaa, 0x78), buf[:0]) }); allocs != 0 {
			t.Errorf("%v allocations, want 0", allocs)
		}
	})
}
