package traits

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/errno"
)

// h turns spaced hex ("02 00 | 08 00") into bytes; '|' and spaces are only
// there to show the header, value and stale parts apart.
func h(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// step is one operation of a hand-worked sequence and the whole buffer it
// must leave behind.
type step struct {
	name  string
	op    func(l Layout, buf []byte) (int, error)
	n     int    // result of Get
	out   string // hex that Get must copy out
	err   error
	bytes string // hex of the whole buffer after the step
	len   int    // Len after the step
}

func set(key uint64, val string) func(Layout, []byte) (int, error) {
	return func(l Layout, buf []byte) (int, error) {
		v, _ := hex.DecodeString(strings.ReplaceAll(val, " ", ""))
		return 0, l.Set(buf, key, v, 0)
	}
}

func del(key uint64) func(Layout, []byte) (int, error) {
	return func(l Layout, buf []byte) (int, error) { return 0, l.Del(buf, key) }
}

var lastOut []byte

func get(key uint64, room int) func(Layout, []byte) (int, error) {
	return func(l Layout, buf []byte) (int, error) {
		lastOut = make([]byte, room)
		return l.Get(buf, key, lastOut)
	}
}

func initStore(l Layout, buf []byte) (int, error) { return 0, l.Init(buf) }

func runSteps(t *testing.T, l Layout, buf []byte, steps []step) {
	t.Helper()
	for _, s := range steps {
		before := bytes.Clone(buf)
		n, err := s.op(l, buf)
		if err != s.err || n != s.n {
			t.Fatalf("%s: got (%d, %v), want (%d, %v)", s.name, n, err, s.n, s.err)
		}
		if s.out != "" && !bytes.Equal(lastOut[:n], h(t, s.out)) {
			t.Fatalf("%s: copied out % x, want %s", s.name, lastOut[:n], s.out)
		}
		want := before
		if s.bytes != "" {
			want = h(t, s.bytes)
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("%s: buffer is\n% x\nwant\n% x", s.name, buf, want)
		}
		if got := l.Len(buf); got != s.len {
			t.Fatalf("%s: Len = %d, want %d", s.name, got, s.len)
		}
	}
}

// TestV1Sequence works through the March 2025 layout by hand. In V1, size
// code 01 (low bit only) is 2 bytes, 10 (high bit only) is 4, 11 is 8.
func TestV1Sequence(t *testing.T) {
	buf := bytes.Repeat([]byte{0xee}, 32) // stale headroom bytes
	runSteps(t, V1, buf, []step{
		{name: "init zeroes the header and nothing else", op: initStore, len: 16,
			bytes: "00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee"},
		// key 3, 2 bytes: code 01, so low = 1<<3 = 0x08; the value goes right after the header.
		{name: "set key 3 to 2 bytes", op: set(3, "aa bb"), len: 18,
			bytes: "00 00 00 00 00 00 00 00 | 08 00 00 00 00 00 00 00 | aa bb | ee ee ee ee ee ee ee ee ee ee ee ee ee ee"},
		// key 1, 4 bytes: code 10, so high = 1<<1 = 0x02; key 1 sorts before key 3,
		// so key 3's value moves up from 16 to 20.
		{name: "set key 1 to 4 bytes before key 3", op: set(1, "01 02 03 04"), len: 22,
			bytes: "02 00 00 00 00 00 00 00 | 08 00 00 00 00 00 00 00 | 01 02 03 04 aa bb | ee ee ee ee ee ee ee ee ee ee"},
		// key 63, 8 bytes: code 11, bit 63 is the top bit of the last byte of each bitmap.
		{name: "set key 63 to 8 bytes at the end", op: set(63, "11 12 13 14 15 16 17 18"), len: 30,
			bytes: "02 00 00 00 00 00 00 80 | 08 00 00 00 00 00 00 80 | 01 02 03 04 aa bb 11 12 13 14 15 16 17 18 | ee ee"},
		// 30 used + 4 > 32.
		{name: "set key 0 to 4 bytes has no room", op: set(0, "c1 c2 c3 c4"), err: errno.ENOSPC, len: 30},
		// 30 used + 2 = 32 fits exactly; low gains bit 0 (0x09); everything moves up by 2.
		{name: "set key 0 to 2 bytes fills the buffer exactly", op: set(0, "c1 c2"), len: 32,
			bytes: "02 00 00 00 00 00 00 80 | 09 00 00 00 00 00 00 80 | c1 c2 01 02 03 04 aa bb 11 12 13 14 15 16 17 18"},
		{name: "set key 40 in a full buffer has no room", op: set(40, "d1 d2"), err: errno.ENOSPC, len: 32},
		{name: "set key 3 to 4 bytes is busy", op: set(3, "00 00 00 00"), err: errno.EBUSY, len: 32},
		// key 3 is at 16 + 2 (key 0) + 4 (key 1) = 22.
		{name: "set key 3 again to 2 bytes overwrites in place", op: set(3, "cc dd"), len: 32,
			bytes: "02 00 00 00 00 00 00 80 | 09 00 00 00 00 00 00 80 | c1 c2 01 02 03 04 cc dd 11 12 13 14 15 16 17 18"},
		{name: "get key 0 copies 2 bytes", op: get(0, 8), n: 2, out: "c1 c2", len: 32},
		{name: "get key 63 copies 8 bytes", op: get(63, 8), n: 8, out: "11 12 13 14 15 16 17 18", len: 32},
		{name: "get key 3 into 1 byte has no room", op: get(3, 1), err: errno.ENOSPC, len: 32},
		{name: "get key 2 finds nothing", op: get(2, 8), err: errno.ENOENT, len: 32},
		// Deleting key 1 (4 bytes at 18) moves 22..32 down to 18..28; high loses bit 1;
		// 28..32 keep the last 4 bytes of key 63's old place.
		{name: "del key 1 moves the later values down", op: del(1), len: 28,
			bytes: "00 00 00 00 00 00 00 80 | 09 00 00 00 00 00 00 80 | c1 c2 cc dd 11 12 13 14 15 16 17 18 | 15 16 17 18"},
		{name: "del key 1 again finds nothing", op: del(1), err: errno.ENOENT, len: 28},
		{name: "get key 63 after the move", op: get(63, 8), n: 8, out: "11 12 13 14 15 16 17 18", len: 28},
		{name: "init empties the store", op: initStore, len: 16,
			bytes: "00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | c1 c2 cc dd 11 12 13 14 15 16 17 18 15 16 17 18"},
	})
}

// TestV2Sequence works through the April 2025 layout by hand. In V2, size
// code 01 is a flag of 0 bytes, 10 is 4 bytes, 11 is 8.
func TestV2Sequence(t *testing.T) {
	buf := bytes.Repeat([]byte{0xee}, 28)
	runSteps(t, V2, buf, []step{
		{name: "init zeroes the header", op: initStore, len: 16,
			bytes: "00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | ee ee ee ee ee ee ee ee ee ee ee ee"},
		// key 5 as a flag: code 01, low = 1<<5 = 0x20, no value bytes.
		{name: "set key 5 as a flag", op: set(5, ""), len: 16,
			bytes: "00 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | ee ee ee ee ee ee ee ee ee ee ee ee"},
		// key 7, 8 bytes: code 11, high = 0x80, low = 0x20|0x80 = 0xa0; key 5 takes
		// no room, so key 7 starts right after the header.
		{name: "set key 7 to 8 bytes after the flag", op: set(7, "71 72 73 74 75 76 77 78"), len: 24,
			bytes: "80 00 00 00 00 00 00 00 | a0 00 00 00 00 00 00 00 | 71 72 73 74 75 76 77 78 | ee ee ee ee"},
		// key 2, 4 bytes: code 10, high = 0x84; key 7 moves up by 4.
		{name: "set key 2 to 4 bytes fills the buffer", op: set(2, "21 22 23 24"), len: 28,
			bytes: "84 00 00 00 00 00 00 00 | a0 00 00 00 00 00 00 00 | 21 22 23 24 71 72 73 74 75 76 77 78"},
		// 28 + 0 <= 28: a flag needs no room; low = 0xa0 | 1<<9 = 0x02a0.
		{name: "set key 9 as a flag in a full buffer", op: set(9, ""), len: 28,
			bytes: "84 00 00 00 00 00 00 00 | a0 02 00 00 00 00 00 00 | 21 22 23 24 71 72 73 74 75 76 77 78"},
		{name: "set key 10 to 4 bytes has no room", op: set(10, "a1 a2 a3 a4"), err: errno.ENOSPC, len: 28},
		{name: "set flag key 5 to 4 bytes is busy", op: set(5, "51 52 53 54"), err: errno.EBUSY, len: 28},
		{name: "set flag key 5 again changes nothing", op: set(5, ""), len: 28},
		{name: "set key 11 to 2 bytes is invalid", op: set(11, "b1 b2"), err: errno.EINVAL, len: 28},
		{name: "get flag key 5 returns length 0", op: get(5, 0), n: 0, out: "", len: 28},
		{name: "get key 7 copies 8 bytes", op: get(7, 9), n: 8, out: "71 72 73 74 75 76 77 78", len: 28},
		{name: "get key 7 into 4 bytes has no room", op: get(7, 4), err: errno.ENOSPC, len: 28},
		// low loses bit 5 (0x02a0 -> 0x0280), no bytes move.
		{name: "del flag key 5 moves nothing", op: del(5), len: 28,
			bytes: "84 00 00 00 00 00 00 00 | 80 02 00 00 00 00 00 00 | 21 22 23 24 71 72 73 74 75 76 77 78"},
		// high loses bit 2; key 7 moves from 20 down to 16; 24..28 keep 75..78.
		{name: "del key 2 moves key 7 down", op: del(2), len: 24,
			bytes: "80 00 00 00 00 00 00 00 | 80 02 00 00 00 00 00 00 | 71 72 73 74 75 76 77 78 | 75 76 77 78"},
		{name: "get flag key 5 after del finds nothing", op: get(5, 8), err: errno.ENOENT, len: 24},
	})
}

// Hand-made stores for the error cases. The header bytes are high then low,
// little-endian: key 1 with code 10 is high = 0x02; key 2 with code 01 is
// low = 0x04 (2 bytes in V1, a flag in V2).
const (
	emptyStore = "00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00"
	v1Store    = "02 00 00 00 00 00 00 00 | 04 00 00 00 00 00 00 00 | a1 a2 a3 a4 | b1 b2" // key 1 (4 bytes), key 2 (2 bytes)
	v2Store    = "02 00 00 00 00 00 00 00 | 04 00 00 00 00 00 00 00 | a1 a2 a3 a4"         // key 1 (4 bytes), key 2 (flag)
	// A header claiming key 0 holds 8 bytes (code 11), with only 4 bytes after it.
	truncStore = "01 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 00 00 00 00"
)

type errCase struct {
	name  string
	store string // hex of the buffer before the operation
	room  int    // zero bytes appended after store, the free room
	op    func(l Layout, buf []byte) (int, error)
	n     int
	err   error
}

func isSet(key uint64) func(Layout, []byte) (int, error) {
	return func(l Layout, buf []byte) (int, error) {
		ok, err := l.IsSet(buf, key)
		if ok {
			return 1, err
		}
		return 0, err
	}
}

func setLen(key uint64, n int) func(Layout, []byte) (int, error) {
	return func(l Layout, buf []byte) (int, error) {
		return 0, l.Set(buf, key, make([]byte, n), 0)
	}
}

// commonErrors hold for both layouts.
func commonErrors(store string) []errCase {
	return []errCase{
		{name: "init of 0 bytes fails with ENOMEM", op: initStore, err: errno.ENOMEM},
		{name: "init of 15 bytes fails with ENOMEM", store: "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", op: initStore, err: errno.ENOMEM},
		{name: "init of exactly 16 bytes succeeds", store: "ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff", op: initStore},

		{name: "set of key 64 fails with EINVAL", store: emptyStore, room: 8, op: setLen(64, 4), err: errno.EINVAL},
		{name: "set of key 2^63 fails with EINVAL", store: emptyStore, room: 8, op: setLen(1<<63, 4), err: errno.EINVAL},
		{name: "set of 3 bytes fails with EINVAL", store: emptyStore, room: 8, op: setLen(0, 3), err: errno.EINVAL},
		{name: "set of 16 bytes fails with EINVAL", store: emptyStore, room: 32, op: setLen(0, 16), err: errno.EINVAL},
		{name: "set of key 1 to 8 bytes when it holds 4 fails with EBUSY", store: store, room: 8, op: setLen(1, 8), err: errno.EBUSY},
		{name: "set of key 1 to 4 bytes when it holds 4 succeeds without room", store: store, op: setLen(1, 4)},
		{name: "set of a new 4-byte key with 3 bytes of room fails with ENOSPC", store: store, room: 3, op: setLen(0, 4), err: errno.ENOSPC},
		{name: "set of a new 4-byte key with 4 bytes of room succeeds", store: store, room: 4, op: setLen(0, 4)},
		{name: "set of a new 8-byte key with 7 bytes of room fails with ENOSPC", store: store, room: 7, op: setLen(63, 8), err: errno.ENOSPC},
		{name: "set in a 15-byte buffer fails with EFAULT", store: "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", op: setLen(0, 4), err: errno.EFAULT},
		{name: "set in a buffer shorter than its store fails with EFAULT", store: truncStore, room: 3, op: setLen(1, 4), err: errno.EFAULT},

		{name: "is-set of key 64 fails with EINVAL", store: store, op: isSet(64), err: errno.EINVAL},
		{name: "is-set of key 1 says yes", store: store, op: isSet(1), n: 1},
		{name: "is-set of key 2 says yes", store: store, op: isSet(2), n: 1},
		{name: "is-set of key 0 says no", store: store, op: isSet(0), n: 0},
		{name: "is-set of key 63 says no", store: store, op: isSet(63), n: 0},
		{name: "is-set in a 15-byte buffer fails with EFAULT", store: "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", op: isSet(0), err: errno.EFAULT},
		{name: "is-set in a buffer shorter than its store fails with EFAULT", store: truncStore, op: isSet(0), err: errno.EFAULT},

		{name: "get of key 64 fails with EINVAL", store: store, op: get(64, 8), err: errno.EINVAL},
		{name: "get of unset key 0 fails with ENOENT", store: store, op: get(0, 8), err: errno.ENOENT},
		{name: "get of unset key 63 fails with ENOENT", store: store, op: get(63, 8), err: errno.ENOENT},
		{name: "get of 4-byte key 1 into 3 bytes fails with ENOSPC", store: store, op: get(1, 3), err: errno.ENOSPC},
		{name: "get of 4-byte key 1 into 4 bytes returns 4", store: store, op: get(1, 4), n: 4},
		{name: "get in a 15-byte buffer fails with EFAULT", store: "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", op: get(0, 8), err: errno.EFAULT},
		{name: "get in a buffer shorter than its store fails with EFAULT", store: truncStore, op: get(0, 8), err: errno.EFAULT},

		{name: "del of key 64 fails with EINVAL", store: store, op: del(64), err: errno.EINVAL},
		{name: "del of unset key 0 fails with ENOENT", store: store, op: del(0), err: errno.ENOENT},
		{name: "del of set key 1 succeeds", store: store, op: del(1)},
		{name: "del in a 15-byte buffer fails with EFAULT", store: "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", op: del(0), err: errno.EFAULT},
		{name: "del in a buffer shorter than its store fails with EFAULT", store: truncStore, op: del(0), err: errno.EFAULT},
	}
}

func TestErrors(t *testing.T) {
	layouts := []struct {
		l     Layout
		store string
		extra []errCase
	}{
		{V1, v1Store, []errCase{
			{name: "set of 0 bytes fails with EINVAL", store: emptyStore, room: 8, op: setLen(0, 0), err: errno.EINVAL},
			{name: "set of 2 bytes succeeds", store: emptyStore, room: 8, op: setLen(0, 2)},
			{name: "set of a new 2-byte key with 1 byte of room fails with ENOSPC", store: v1Store, room: 1, op: setLen(0, 2), err: errno.ENOSPC},
			{name: "set of 2-byte key 2 to 4 bytes fails with EBUSY", store: v1Store, room: 8, op: setLen(2, 4), err: errno.EBUSY},
			{name: "get of 2-byte key 2 into 1 byte fails with ENOSPC", store: v1Store, op: get(2, 1), err: errno.ENOSPC},
			{name: "get of 2-byte key 2 returns 2", store: v1Store, op: get(2, 2), n: 2},
		}},
		{V2, v2Store, []errCase{
			{name: "set of 2 bytes fails with EINVAL", store: emptyStore, room: 8, op: setLen(0, 2), err: errno.EINVAL},
			{name: "set of a new flag with no room succeeds", store: v2Store, op: setLen(0, 0)},
			{name: "set of flag key 2 to 4 bytes fails with EBUSY", store: v2Store, room: 8, op: setLen(2, 4), err: errno.EBUSY},
			{name: "set of 4-byte key 1 as a flag fails with EBUSY", store: v2Store, room: 8, op: setLen(1, 0), err: errno.EBUSY},
			{name: "get of flag key 2 into nothing returns 0", store: v2Store, op: get(2, 0), n: 0},
		}},
	}
	for _, lc := range layouts {
		t.Run(lc.l.String(), func(t *testing.T) {
			for _, c := range append(commonErrors(lc.store), lc.extra...) {
				t.Run(c.name, func(t *testing.T) {
					buf := append(h(t, c.store), make([]byte, c.room)...)
					before := bytes.Clone(buf)
					n, err := c.op(lc.l, buf)
					if n != c.n || err != c.err {
						t.Fatalf("got (%d, %v), want (%d, %v)", n, err, c.n, c.err)
					}
					if err != nil && !bytes.Equal(buf, before) {
						t.Fatalf("failed operation changed the buffer:\n% x\nwas\n% x", buf, before)
					}
				})
			}
		})
	}
}

func TestUnknownLayoutIsNotSupported(t *testing.T) {
	l := Layout(2)
	buf := make([]byte, 32)
	if err := l.Init(buf); err != errno.EOPNOTSUPP {
		t.Errorf("Init: %v", err)
	}
	if err := l.Set(buf, 0, make([]byte, 4), 0); err != errno.EOPNOTSUPP {
		t.Errorf("Set: %v", err)
	}
	if _, err := l.IsSet(buf, 0); err != errno.EOPNOTSUPP {
		t.Errorf("IsSet: %v", err)
	}
	if _, err := l.Get(buf, 0, make([]byte, 8)); err != errno.EOPNOTSUPP {
		t.Errorf("Get: %v", err)
	}
	if err := l.Del(buf, 0); err != errno.EOPNOTSUPP {
		t.Errorf("Del: %v", err)
	}
	if n := l.Len(buf); n != 0 {
		t.Errorf("Len: %d", n)
	}
	for k := range l.All(buf) {
		t.Errorf("All yielded key %d", k)
	}
	if s := l.String(); s != "Layout(2)" {
		t.Errorf("String: %q", s)
	}
}

func TestValidLen(t *testing.T) {
	for _, c := range []struct {
		name string
		l    Layout
		n    int
		want bool
	}{
		{"v1 takes 2 bytes", V1, 2, true},
		{"v1 takes 4 bytes", V1, 4, true},
		{"v1 takes 8 bytes", V1, 8, true},
		{"v1 refuses 0 bytes", V1, 0, false},
		{"v1 refuses 6 bytes", V1, 6, false},
		{"v2 takes 0 bytes", V2, 0, true},
		{"v2 takes 4 bytes", V2, 4, true},
		{"v2 takes 8 bytes", V2, 8, true},
		{"v2 refuses 2 bytes", V2, 2, false},
		{"v2 refuses 16 bytes", V2, 16, false},
		{"an unknown layout refuses 4 bytes", Layout(-1), 4, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.l.ValidLen(c.n); got != c.want {
				t.Fatalf("ValidLen(%d) = %v", c.n, got)
			}
		})
	}
}

func TestErrno(t *testing.T) {
	t.Run("errors.Is matches an error returned by the store", func(t *testing.T) {
		err := Set(make([]byte, 16), 64, []byte{1, 2}, 0)
		if !errors.Is(err, errno.EINVAL) || errors.Is(err, errno.ENOSPC) {
			t.Fatalf("errors.Is fails on %v", err)
		}
		var e errno.Errno
		if !errors.As(err, &e) || e.Neg() != -22 {
			t.Fatalf("errors.As gives %v", e)
		}
	})
}

func TestAll(t *testing.T) {
	t.Run("all lists keys in order with their values", func(t *testing.T) {
		buf := h(t, v1Store)
		var got []string
		for k, v := range V1.All(buf) {
			got = append(got, hex.EncodeToString([]byte{byte(k)})+"="+hex.EncodeToString(v))
		}
		if want := "01=a1a2a3a4 02=b1b2"; strings.Join(got, " ") != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	})
	t.Run("all lists a v2 flag with an empty value", func(t *testing.T) {
		buf := h(t, v2Store)
		var got []string
		for k, v := range V2.All(buf) {
			got = append(got, hex.EncodeToString([]byte{byte(k)})+"="+hex.EncodeToString(v))
		}
		if want := "01=a1a2a3a4 02="; strings.Join(got, " ") != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	})
	t.Run("all stops when the loop breaks", func(t *testing.T) {
		n := 0
		for range V1.All(h(t, v1Store)) {
			n++
			break
		}
		if n != 1 {
			t.Fatalf("yielded %d times", n)
		}
	})
	t.Run("all yields nothing for a truncated store", func(t *testing.T) {
		for k := range V1.All(h(t, truncStore)) {
			t.Fatalf("yielded key %d", k)
		}
	})
	t.Run("all yields nothing for a 15-byte buffer", func(t *testing.T) {
		for k := range V1.All(make([]byte, 15)) {
			t.Fatalf("yielded key %d", k)
		}
	})
	t.Run("a yielded value cannot grow into the next", func(t *testing.T) {
		for _, v := range V1.All(h(t, v1Store)) {
			if cap(v) != len(v) {
				t.Fatalf("value has cap %d, len %d", cap(v), len(v))
			}
		}
	})
}

func TestDefaultLayoutIsV1(t *testing.T) {
	buf := make([]byte, 32)
	if err := Init(buf); err != nil {
		t.Fatal(err)
	}
	// 2 bytes is valid only in V1.
	if err := Set(buf, 4, []byte{0x41, 0x42}, 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := IsSet(buf, 4); !ok || err != nil {
		t.Fatalf("IsSet = %v, %v", ok, err)
	}
	out := make([]byte, 8)
	if n, err := Get(buf, 4, out); n != 2 || err != nil || out[0] != 0x41 {
		t.Fatalf("Get = %d, %v, % x", n, err, out)
	}
	if n := Len(buf); n != 18 {
		t.Fatalf("Len = %d", n)
	}
	for k, v := range All(buf) {
		if k != 4 || len(v) != 2 {
			t.Fatalf("All yields %d=% x", k, v)
		}
	}
	if err := Del(buf, 4); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:16], make([]byte, 16)) {
		t.Fatalf("header after del: % x", buf[:16])
	}
}

func TestNoAllocations(t *testing.T) {
	for _, l := range []Layout{V1, V2} {
		t.Run(l.String()+" operations do not allocate", func(t *testing.T) {
			buf := make([]byte, 64)
			val := make([]byte, 4)
			out := make([]byte, 8)
			allocs := testing.AllocsPerRun(100, func() {
				_ = l.Init(buf)
				_ = l.Set(buf, 3, val, 0)
				_ = l.Set(buf, 1, val, 0)
				_ = l.Set(buf, 1, val, 0)
				_ = l.Set(buf, 64, val, 0)
				_, _ = l.IsSet(buf, 3)
				_, _ = l.Get(buf, 3, out)
				_, _ = l.Get(buf, 9, out)
				_ = l.Del(buf, 1)
				_ = l.Del(buf, 1)
				_ = l.Len(buf)
				for k, v := range l.All(buf) {
					_, _ = k, v
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per run", allocs)
			}
		})
	}
}
