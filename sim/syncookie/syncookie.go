// Package syncookie computes TCP SYN cookies as Linux does (net/ipv4/syncookies.c and
// net/ipv6/syncookies.c, 6.x): the cookie a SYN-ACK carries in its sequence number, which encodes
// one of four MSS values and a minute counter under two SipHash-2-4 keys per address family, and
// its check on the ACK that completes the handshake.
//
// The kernel draws its keys at random once per boot, so its cookies cannot be predicted; the
// simulator's come from a [Secret] that the user may set or seed ([SecretFromSeed]), which makes
// runs reproducible. Everything else is the kernel's: the hash inputs, the MSS tables, the
// counter (jiffies / (60 * HZ)), and the two-minute validity.
package syncookie

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Secret holds the four SipHash keys of the kernel's syncookie_secret[2] (IPv4) and
// syncookie6_secret[2] (IPv6): the first of each pair hashes the connection alone, the second
// the connection and the minute counter.
type Secret struct {
	V4 [2]Key
	V6 [2]Key
}

// SecretSize is the length of a secret in bytes ([ParseSecret], [Secret.Bytes]).
const SecretSize = 64

// SecretFromSeed expands a seed into a secret with SplitMix64: the eight words it yields in turn
// are V4[0][0], V4[0][1], V4[1][0], V4[1][1], V6[0][0], V6[0][1], V6[1][0], V6[1][1].
func SecretFromSeed(seed uint64) Secret {
	var w [8]uint64
	x := seed
	for i := range w {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		w[i] = z ^ z>>31
	}
	return Secret{V4: [2]Key{{w[0], w[1]}, {w[2], w[3]}}, V6: [2]Key{{w[4], w[5]}, {w[6], w[7]}}}
}

// ParseSecret reads a secret from 64 bytes of hex: the keys in the order of SecretFromSeed, each
// word little-endian (as the kernel's siphash_key_t lies in memory).
func ParseSecret(s string) (Secret, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != SecretSize {
		return Secret{}, fmt.Errorf("want %d bytes of hex, got %q", SecretSize, s)
	}
	var w [8]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return Secret{V4: [2]Key{{w[0], w[1]}, {w[2], w[3]}}, V6: [2]Key{{w[4], w[5]}, {w[6], w[7]}}}, nil
}

// Bytes is the secret as ParseSecret reads it.
func (s Secret) Bytes() []byte {
	out := make([]byte, 0, SecretSize)
	for _, k := range [4]Key{s.V4[0], s.V4[1], s.V6[0], s.V6[1]} {
		out = binary.LittleEndian.AppendUint64(out, k[0])
		out = binary.LittleEndian.AppendUint64(out, k[1])
	}
	return out
}

// The kernel's constants.
const (
	cookieBits = 24 // COOKIEBITS: the counter sits in the top 8 bits
	cookieMask = 1<<cookieBits - 1
	// MaxAge is MAX_SYNCOOKIE_AGE: a cookie made in minute c is good in minutes c and c+1.
	MaxAge = 2
	// PeriodSeconds is TCP_SYNCOOKIE_PERIOD (60 * HZ jiffies): the counter ticks every minute.
	PeriodSeconds = 60
	// DefaultMSS4 is TCP_MSS_DEFAULT, which bpf_tcp_raw_gen_syncookie_ipv4 takes when the SYN
	// carries no MSS option; DefaultMSS6 is IPV6_MIN_MTU - 20 - 40 for IPv6.
	DefaultMSS4 = 536
	DefaultMSS6 = 1220
)

// MSS4 and MSS6 are the MSS values a cookie can encode (msstab of each file), sorted.
var (
	MSS4 = [4]uint16{536, 1300, 1440, 1460}
	MSS6 = [4]uint16{1280 - 60, 1480 - 60, 1500 - 60, 9000 - 60}
)

// Counter is tcp_cookie_time(): the jiffies count divided by 60 * HZ, i.e. whole minutes of the
// clock that bpf_jiffies64 reads.
func Counter(jiffies, hz uint64) uint32 { return uint32(jiffies / (PeriodSeconds * hz)) }

// Conn is what a cookie is bound to: the addresses and ports as the SYN carries them (network
// byte order), and the SYN's sequence number.
type Conn struct {
	// Src and Dst are 4 bytes for IPv4, 16 for IPv6.
	Src, Dst []byte
	// SrcPort and DstPort are the TCP header's two bytes each, as they lie in the packet.
	SrcPort, DstPort [2]byte
}

func (c Conn) v6() bool { return len(c.Src) == 16 }

// hash is cookie_hash(saddr, daddr, sport, dport, count, which) of the connection's family.
func (s *Secret) hash(c Conn, count uint32, which int) uint32 {
	if c.v6() {
		// struct { in6_addr saddr, daddr; u32 count; __be16 sport, dport; }, 40 bytes.
		var b [40]byte
		copy(b[0:16], c.Src)
		copy(b[16:32], c.Dst)
		binary.LittleEndian.PutUint32(b[32:], count)
		copy(b[36:38], c.SrcPort[:])
		copy(b[38:40], c.DstPort[:])
		return uint32(sipHash24(s.V6[which], b[:]))
	}
	// siphash_4u32(saddr, daddr, sport << 16 | dport, count): the raw big-endian fields read as
	// host (little-endian) words, laid out as four little-endian words again.
	var b [16]byte
	copy(b[0:4], c.Src)
	copy(b[4:8], c.Dst)
	ports := uint32(binary.LittleEndian.Uint16(c.SrcPort[:]))<<16 | uint32(binary.LittleEndian.Uint16(c.DstPort[:]))
	binary.LittleEndian.PutUint32(b[8:], ports)
	binary.LittleEndian.PutUint32(b[12:], count)
	return uint32(sipHash24(s.V4[which], b[:]))
}

// mssTable is the family's MSS table.
func (c Conn) mssTable() *[4]uint16 {
	if c.v6() {
		return &MSS6
	}
	return &MSS4
}

// Generate is __cookie_v4_init_sequence / __cookie_v6_init_sequence: the cookie for a SYN with
// sequence number seq asking for mss, in minute count; and the MSS the cookie encodes (the
// largest of the table not above mss, or the smallest).
func (s *Secret) Generate(c Conn, seq uint32, mss uint16, count uint32) (cookie uint32, encoded uint16) {
	tab := c.mssTable()
	idx := len(tab) - 1
	for ; idx > 0; idx-- {
		if mss >= tab[idx] {
			break
		}
	}
	cookie = s.hash(c, 0, 0) + seq + count<<cookieBits + ((s.hash(c, count, 1) + uint32(idx)) & cookieMask)
	return cookie, tab[idx]
}

// Check is __cookie_v4_check / __cookie_v6_check for the ACK of a handshake: ack is its
// acknowledgment number (the cookie plus one) and seq its sequence number (the SYN's plus one).
// It returns the MSS the cookie encodes, or 0 when the cookie is not one this secret made in
// minute count or the one before.
func (s *Secret) Check(c Conn, seq, ack uint32, count uint32) uint16 {
	cookie := ack - 1
	cookie -= s.hash(c, 0, 0) + (seq - 1)
	diff := (count - cookie>>cookieBits) & (0xffffffff >> cookieBits)
	if diff >= MaxAge {
		return 0
	}
	idx := (cookie - s.hash(c, count-diff, 1)) & cookieMask
	if tab := c.mssTable(); idx < uint32(len(tab)) {
		return tab[idx]
	}
	return 0
}

// ParseMSSOption is tcp_parse_mss_option(th, 0): the MSS option's value among the options of a
// TCP header (hdr holds the whole header, doff * 4 bytes), or 0 when there is none (or it says 0).
// A malformed option list ends the search, keeping what was found before.
func ParseMSSOption(hdr []byte) uint16 {
	if len(hdr) < 20 {
		return 0
	}
	opts := hdr[20:]
	var mss uint16
	for len(opts) > 0 {
		switch opts[0] {
		case 0: // TCPOPT_EOL
			return mss
		case 1: // TCPOPT_NOP
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 {
			return mss
		}
		size := int(opts[1])
		if size < 2 || size > len(opts) {
			return mss
		}
		if opts[0] == 2 && size == 4 { // TCPOPT_MSS, TCPOLEN_MSS
			if v := binary.BigEndian.Uint16(opts[2:]); v != 0 {
				mss = v
			}
		}
		opts = opts[size:]
	}
	return mss
}
