package device

import (
	"testing"
)

// BenchmarkToeplitz hashes the inputs RSS hashes most: IPv4 and IPv6 addresses with ports (the first
// Microsoft vectors), through Toeplitz (with its key cache) and through a prepared key.
func BenchmarkToeplitz(b *testing.B) {
	inputs := []struct {
		name string
		in   []byte
		want uint32
	}{
		{"ipv4+ports", msVectors[0].input(true), msVectors[0].withPort},
		{"ipv6+ports", msVectors[5].input(true), msVectors[5].withPort},
	}
	key := MicrosoftRSSKey[:]
	prepared := NewToeplitzKey(key)
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			var h uint32
			for b.Loop() {
				h = Toeplitz(key, in.in)
			}
			if h != in.want {
				b.Fatalf("hash %#x", h)
			}
		})
		b.Run(in.name+"/prepared", func(b *testing.B) {
			b.ReportAllocs()
			var h uint32
			for b.Loop() {
				h = prepared.Hash(in.in)
			}
			if h != in.want {
				b.Fatalf("hash %#x", h)
			}
		})
	}
}

// BenchmarkComputeHints gives a TCP/IPv4 frame's hints as mlx5 would.
func BenchmarkComputeHints(b *testing.B) {
	for _, c := range []struct {
		name string
		pkt  []byte
	}{
		{"ipv4-tcp", eth(0x0800, ipv4(msVectors[0], protoTCP, 0, 0))},
		{"ipv6-udp", eth(0x86dd, ipv6v(msVectors[5], protoUDP))},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := mustProfile(b, "mlx5")
			b.ReportAllocs()
			for b.Loop() {
				ComputeHints(p, c.pkt, 1, nil)
			}
		})
	}
}
