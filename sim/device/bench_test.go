package device

import (
	"strconv"
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

// BenchmarkNetdevReceive is a device's work per frame: hints with the prepared key, and the RX
// queue through a 256-entry indirection table (mlx5, 4 queues), for a TCP/IPv4 frame.
func BenchmarkNetdevReceive(b *testing.B) {
	d := NewNetdev(mustProfile(b, "mlx5"))
	d.Queues = 4
	pkt := eth(0x0800, ipv4(msVectors[0], protoTCP, 0, 0))
	b.ReportAllocs()
	for b.Loop() {
		d.Receive(pkt, 1)
	}
}

// BenchmarkNetdevLookup is a control map lookup's encoding of a device's value for a client of the
// newest layout (1192 bytes, the 256-entry table included) and of the first (its 1136-byte prefix).
func BenchmarkNetdevLookup(b *testing.B) {
	d := NewNetdev(mustProfile(b, "mlx5"))
	d.Queues = 4
	for _, v := range []int{1, LatestVersion} {
		l, err := LayoutVersion(v)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, l.Size)
		b.Run("client-of-layout"+strconv.Itoa(v), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Lookup(Latest(), buf)
			}
		})
	}
}
