package device

import (
	"fmt"
	"net/netip"
	"testing"
)

// rssVector is one row of Microsoft's RSS verification tables.
type rssVector struct {
	src, dst           string // addresses
	sport, dport       uint16
	addrOnly, withPort uint32 // the hash over the addresses, and over addresses and ports
}

// msVectors are every row of the two tables of "Verifying the RSS Hash Calculation" (Microsoft,
// Windows driver documentation, windows-driver-docs-pr/network/verifying-the-rss-hash-calculation.md
// in MicrosoftDocs/windows-driver-docs), for the key MicrosoftRSSKey. The tables give the destination
// first; the hash input is source address, destination address, source port, destination port.
var msVectors = []rssVector{
	// IPv4: "IPv4 only" and "IPv4 with TCP".
	{"66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178},
	{"199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea},
	{"24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
	{"38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f},
	{"153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2},
	// IPv6: "IPv6 only" and "IPv6 with TCP".
	{"3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d},
	{"3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c, 0xdde51bbf},
	{"3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024, 0x4b61e985, 0x02d1feef},
}

// input gives the hash input of the vector: the addresses, and the ports when ports is set.
func (v rssVector) input(ports bool) []byte {
	var b []byte
	b = append(b, netip.MustParseAddr(v.src).AsSlice()...)
	b = append(b, netip.MustParseAddr(v.dst).AsSlice()...)
	if ports {
		b = append(b, byte(v.sport>>8), byte(v.sport), byte(v.dport>>8), byte(v.dport))
	}
	return b
}

func TestToeplitzReproducesMicrosoftVectors(t *testing.T) {
	prepared := NewToeplitzKey(MicrosoftRSSKey[:])
	ways := []struct {
		name string
		hash func(input []byte) uint32
	}{
		{"Toeplitz", func(in []byte) uint32 { return Toeplitz(MicrosoftRSSKey[:], in) }},
		{"a prepared key", prepared.Hash},
		{"the bitwise definition", func(in []byte) uint32 { return toeplitzBits(MicrosoftRSSKey[:], in) }},
	}
	for _, v := range msVectors {
		for _, ports := range []bool{false, true} {
			want, what := v.addrOnly, "addresses only"
			if ports {
				want, what = v.withPort, "with ports"
			}
			for _, w := range ways {
				name := fmt.Sprintf("%s hashes %s:%d to %s:%d, %s, to %#08x", w.name, v.src, v.sport, v.dst, v.dport, what, want)
				t.Run(name, func(t *testing.T) {
					if got := w.hash(v.input(ports)); got != want {
						t.Errorf("got %#08x, want %#08x", got, want)
					}
				})
			}
		}
	}
}

func TestToeplitzFollowsItsDefinitionAtTheEdges(t *testing.T) {
	cases := []struct {
		name       string
		key, input []byte
		want       uint32
	}{
		// The first input bit picks the first 32 key bits.
		{"the top input bit selects the first 32 key bits", []byte{0xde, 0xad, 0xbe, 0xef, 0x01}, []byte{0x80}, 0xdeadbeef},
		// Input bit 7 picks key bits 7..38: key bit 7 (the low bit of key[0]) lands on the
		// top bit, key bit 32 (the top bit of key[4]) 25 places below it.
		{"the eighth input bit selects key bits 7 to 38", []byte{0x01, 0x00, 0x00, 0x00, 0x80}, []byte{0x01}, 0x80000040},
		{"key bits past the end of the key count as zero", []byte{0x00, 0x00, 0x00, 0x01}, []byte{0x01}, 0x00000080},
		{"input bytes beyond the key add nothing", []byte{0xff, 0xff, 0xff, 0xff}, []byte{0x00, 0x00, 0x00, 0x00, 0xff, 0xff}, 0},
		{"an empty input hashes to 0", MicrosoftRSSKey[:], nil, 0},
		{"a zero key hashes everything to 0", make([]byte, 40), []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Toeplitz(c.key, c.input); got != c.want {
				t.Errorf("Toeplitz = %#08x, want %#08x", got, c.want)
			}
			if got := toeplitzBits(c.key, c.input); got != c.want {
				t.Errorf("bitwise = %#08x, want %#08x", got, c.want)
			}
		})
	}
}

func TestToeplitzStaysRightWhenTheKeyCacheIsFull(t *testing.T) {
	// Fill the cache with other keys, then hash with a key it has no room for.
	for i := range maxCachedKeys + 2 {
		k := make([]byte, 40)
		k[0] = byte(i + 1)
		Toeplitz(k, []byte{1})
	}
	key := append([]byte(nil), MicrosoftRSSKey[:]...)
	key = append(key, 0) // a 41-byte key: the same windows for the first 36 input bytes
	v := msVectors[0]
	if got := Toeplitz(key, v.input(true)); got != v.withPort {
		t.Errorf("got %#08x, want %#08x", got, v.withPort)
	}
}
