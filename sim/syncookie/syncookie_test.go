package syncookie

import (
	"bytes"
	"testing"
)

func conn4() Conn {
	return Conn{Src: []byte{192, 0, 2, 1}, Dst: []byte{198, 51, 100, 7}, SrcPort: [2]byte{0xc3, 0x50}, DstPort: [2]byte{0, 80}}
}

func conn6() Conn {
	src := bytes.Repeat([]byte{0x20}, 16)
	dst := bytes.Repeat([]byte{0xfe}, 16)
	return Conn{Src: src, Dst: dst, SrcPort: [2]byte{0xc3, 0x50}, DstPort: [2]byte{1, 0xbb}}
}

func TestCookiesRoundTrip(t *testing.T) {
	s := SecretFromSeed(1)
	for _, tc := range []struct {
		name    string
		c       Conn
		mss     uint16
		encoded uint16
	}{
		{"IPv4 MSS 1460 is encoded as itself", conn4(), 1460, 1460},
		{"IPv4 MSS 1459 rounds down to 1440", conn4(), 1459, 1440},
		{"IPv4 MSS 1300 is encoded as itself", conn4(), 1300, 1300},
		{"IPv4 MSS 1000 rounds down to 536", conn4(), 1000, 536},
		{"IPv4 MSS below the table takes its smallest", conn4(), 100, 536},
		{"IPv4 MSS above the table takes its largest", conn4(), 9000, 1460},
		{"IPv6 MSS 8960 rounds down to 8940", conn6(), 8960, 8940},
		{"IPv6 MSS 1440 is encoded as itself", conn6(), 1440, 1440},
		{"IPv6 MSS 1220 is encoded as itself", conn6(), 1220, 1220},
		{"IPv6 MSS below the table takes its smallest", conn6(), 536, 1220},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const seq, count = 0x01020304, 29000000
			cookie, enc := s.Generate(tc.c, seq, tc.mss, count)
			if enc != tc.encoded {
				t.Errorf("encoded MSS %d, want %d", enc, tc.encoded)
			}
			if got := s.Check(tc.c, seq+1, cookie+1, count); got != tc.encoded {
				t.Errorf("the ACK of the handshake checks as MSS %d, want %d", got, tc.encoded)
			}
			if got := s.Check(tc.c, seq+1, cookie+1, count+1); got != tc.encoded {
				t.Errorf("a minute later the cookie checks as MSS %d, want %d", got, tc.encoded)
			}
		})
	}
}

func TestCookiesAreRejected(t *testing.T) {
	s := SecretFromSeed(1)
	const seq, count = 7, 1000
	c := conn4()
	cookie, _ := s.Generate(c, seq, 1460, count)
	other := func(f func(*Conn)) Conn {
		o := Conn{Src: append([]byte(nil), c.Src...), Dst: append([]byte(nil), c.Dst...), SrcPort: c.SrcPort, DstPort: c.DstPort}
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name     string
		c        Conn
		seq, ack uint32
		count    uint32
	}{
		{"two minutes later", c, seq + 1, cookie + 1, count + 2},
		{"a minute before it was made", c, seq + 1, cookie + 1, count - 1},
		// (A sequence number off by one shifts the MSS index by one: that the kernel accepts too.)
		{"with another sequence number", c, seq + 1001, cookie + 1, count},
		{"with another acknowledgment number", c, seq + 1, cookie + 1001, count},
		{"from another source port", other(func(o *Conn) { o.SrcPort[1]++ }), seq + 1, cookie + 1, count},
		{"to another address", other(func(o *Conn) { o.Dst[3]++ }), seq + 1, cookie + 1, count},
		{"under another secret", c, seq + 1, cookie + 1, count},
	} {
		t.Run("a cookie is rejected "+tc.name, func(t *testing.T) {
			sec := s
			if tc.name == "under another secret" {
				sec = SecretFromSeed(2)
			}
			if got := sec.Check(tc.c, tc.seq, tc.ack, tc.count); got != 0 {
				t.Errorf("checks as MSS %d", got)
			}
		})
	}
}

// The kernel's cookie is H0 + seq + count<<24 + ((H1 + mss index) mod 2^24): what can be seen of
// that without the secret, which kernel/syncookie_test.go checks on the real kernel too.
func TestCookieStructure(t *testing.T) {
	s := SecretFromSeed(9)
	c := conn4()
	a, _ := s.Generate(c, 1000, 1460, 5)
	b, _ := s.Generate(c, 1500, 1460, 5)
	if b-a != 500 {
		t.Errorf("the sequence number adds to the cookie: %#x - %#x != 500", b, a)
	}
	lo, _ := s.Generate(c, 1000, 536, 5)
	if d := (a - lo) & cookieMask; d != 3 {
		t.Errorf("MSS 1460 (index 3) and 536 (index 0) differ by %d in the low 24 bits, want 3", d)
	}
}

func TestParseMSSOption(t *testing.T) {
	hdr := func(opts ...byte) []byte { return append(make([]byte, 20), opts...) }
	for _, tc := range []struct {
		name string
		hdr  []byte
		want uint16
	}{
		{"no options", hdr(), 0},
		{"an MSS option", hdr(2, 4, 0x05, 0xb4), 1460},
		{"an MSS after NOPs and a window scale", hdr(1, 1, 3, 3, 7, 2, 4, 0x02, 0x18, 0), 536},
		{"an MSS of 0 is ignored", hdr(2, 4, 0, 0), 0},
		{"the last of two MSS options", hdr(2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18), 536},
		{"EOL ends the list", hdr(0, 0, 2, 4, 0x05, 0xb4), 0},
		{"an option longer than the header ends the list", hdr(8, 10, 2, 4), 0},
		{"an option of size 1 ends the list", hdr(5, 1, 2, 4, 0x05, 0xb4), 0},
		{"an MSS option of the wrong size is skipped", hdr(2, 6, 0x05, 0xb4, 0, 0, 2, 4, 0x04, 0), 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseMSSOption(tc.hdr); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSecretHexRoundTrip(t *testing.T) {
	s := SecretFromSeed(42)
	got, err := ParseSecret(hexString(s.Bytes()))
	if err != nil || got != s {
		t.Fatalf("got %+v, %v; want %+v", got, err, s)
	}
	if _, err := ParseSecret("00"); err == nil {
		t.Error("a short secret is accepted")
	}
}
