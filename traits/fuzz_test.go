package traits

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/xdpsim/xdpsim/errno"
)

// The model is the store as a plain Go map, with the layout spelt out as
// tables instead of bit tricks: key -> value, and the size code of each
// length per layout.
type model struct {
	l    Layout
	vals map[uint64][]byte
}

// sizeOfCode gives the value length of each 2-bit code (high bit first);
// -1 is "not set".
var sizeOfCode = [2][4]int{
	V1: {-1, 2, 4, 8},
	V2: {-1, 0, 4, 8},
}

func (m *model) validLen(n int) bool {
	for _, s := range sizeOfCode[m.l][1:] {
		if s == n {
			return true
		}
	}
	return false
}

func (m *model) codeOf(n int) uint64 {
	for c, s := range sizeOfCode[m.l] {
		if c > 0 && s == n {
			return uint64(c)
		}
	}
	panic("no code")
}

// size is the number of bytes the store takes: header and values.
func (m *model) size() int {
	n := HeaderLen
	for _, v := range m.vals {
		n += len(v)
	}
	return n
}

// image gives the bytes the store must consist of: the header built key by
// key, then the values in key order.
func (m *model) image() []byte {
	var high, low uint64
	var vals []byte
	for k := uint64(0); k < NumKeys; k++ {
		v, ok := m.vals[k]
		if !ok {
			continue
		}
		c := m.codeOf(len(v))
		high |= (c >> 1) << k
		low |= (c & 1) << k
		vals = append(vals, v...)
	}
	img := binary.LittleEndian.AppendUint64(nil, high)
	img = binary.LittleEndian.AppendUint64(img, low)
	return append(img, vals...)
}

// decode reads a store from its bytes key by key; ok is false if the header
// describes more bytes than mem holds.
func decode(l Layout, mem []byte) (vals map[uint64][]byte, ok bool) {
	high := binary.LittleEndian.Uint64(mem[0:])
	low := binary.LittleEndian.Uint64(mem[8:])
	vals = map[uint64][]byte{}
	off := HeaderLen
	for k := uint64(0); k < NumKeys; k++ {
		n := sizeOfCode[l][(high>>k&1)<<1|low>>k&1]
		if n < 0 {
			continue
		}
		if off+n > len(mem) {
			return nil, false
		}
		vals[k] = bytes.Clone(mem[off : off+n])
		off += n
	}
	return vals, true
}

// The program a fuzz input encodes: byte 0 is the first buffer length;
// bytes 1..4 shape a starting header, so that runs also begin from stores
// nobody initialised, some too large to read; then every 3 bytes are one
// operation: kind, key, argument.
const backingLen = 256 + 64 // buffer lengths are 0..255; the rest is guard

func decodeKey(b byte) uint64 {
	switch {
	case b == 0xff:
		return 1 << 63
	case b == 0xfe:
		return 1<<32 + 5 // a large key whose low bits look valid
	}
	return uint64(b % 72) // 64..71 are invalid
}

// maxSteps bounds the operations of one input, to keep executions fast.
const maxSteps = 128

var fuzzLens = [8]int{0, 2, 4, 8, 4, 8, 3, 16}

func runAgainstModel(t *testing.T, l Layout, prog []byte) {
	if len(prog) < 5 {
		return
	}
	backing := make([]byte, backingLen)
	for i := range backing {
		backing[i] = byte(i*7) ^ prog[0]
	}
	high := uint64(prog[1]) << (prog[2] % 57)
	low := uint64(prog[3]) << (prog[4] % 57)
	if prog[2] >= 0xf0 {
		high = ^uint64(0) // all 64 keys: more than the backing holds
	}
	if prog[4] >= 0xf0 {
		low = ^uint64(0)
	}
	binary.LittleEndian.PutUint64(backing[0:], high)
	binary.LittleEndian.PutUint64(backing[8:], low)
	size := int(prog[0])

	m := &model{l: l}
	// known says whether the model knows the store: it always does, except
	// when the starting header claims more bytes than the backing holds.
	var known bool
	m.vals, known = decode(l, backing)

	out := make([]byte, 16)
	prog = prog[5:]
	if len(prog) > 3*maxSteps {
		prog = prog[:3*maxSteps]
	}
	for step := 0; len(prog) >= 3; step, prog = step+1, prog[3:] {
		kind, key, arg := prog[0]%8, decodeKey(prog[1]), prog[2]
		buf := backing[:size]
		before := bytes.Clone(backing)
		var err, want error
		var n, wantN int
		var what string

		// fits says whether buf holds the whole store.
		fits := known && size >= HeaderLen && m.size() <= size
		switch kind {
		case 0:
			what = "Init"
			err = l.Init(buf)
			if size < HeaderLen {
				want = errno.ENOMEM
			} else {
				m.vals, known = map[uint64][]byte{}, true
			}
		case 1, 2:
			val := make([]byte, fuzzLens[arg%8])
			for i := range val {
				val[i] = byte(step*16+i) ^ arg
			}
			what = "Set"
			err = l.Set(buf, key, val, uint64(arg))
			old, isSet := m.vals[key]
			switch {
			case key >= NumKeys || !m.validLen(len(val)):
				want = errno.EINVAL
			case !fits:
				want = errno.EFAULT
			case isSet && len(old) != len(val):
				want = errno.EBUSY
			case !isSet && m.size()+len(val) > size:
				want = errno.ENOSPC
			default:
				m.vals[key] = val
			}
		case 3:
			what = "Get"
			o := out[:arg%10]
			for i := range out {
				out[i] = 0x5a
			}
			n, err = l.Get(buf, key, o)
			v, isSet := m.vals[key]
			switch {
			case key >= NumKeys:
				want = errno.EINVAL
			case !fits:
				want = errno.EFAULT
			case !isSet:
				want = errno.ENOENT
			case len(o) < len(v):
				want = errno.ENOSPC
			default:
				wantN = len(v)
			}
			if err == nil && want == nil && !bytes.Equal(out[:n], v) {
				t.Fatalf("%v step %d: Get(%d) copied % x, want % x", l, step, key, out[:n], v)
			}
			for i := n; i < len(out); i++ {
				if out[i] != 0x5a {
					t.Fatalf("%v step %d: Get(%d) wrote out[%d] past the value", l, step, key, i)
				}
			}
		case 4:
			what = "IsSet"
			var ok bool
			ok, err = l.IsSet(buf, key)
			if ok {
				n = 1
			}
			_, isSet := m.vals[key]
			switch {
			case key >= NumKeys:
				want = errno.EINVAL
			case !fits:
				want = errno.EFAULT
			case isSet:
				wantN = 1
			}
		case 5:
			what = "Del"
			err = l.Del(buf, key)
			_, isSet := m.vals[key]
			switch {
			case key >= NumKeys:
				want = errno.EINVAL
			case !fits:
				want = errno.EFAULT
			case !isSet:
				want = errno.ENOENT
			default:
				delete(m.vals, key)
			}
		case 6:
			// The hard end moves anywhere, even into the store.
			size = int(arg)
			continue
		case 7:
			// The hard end moves as the kernel lets it: never into the store.
			if known {
				size = min(m.size()+int(arg%32), 255)
			}
			continue
		}

		if !known {
			// The store came from a header the model could not read; only
			// safety is checked: an Errno and no write past buf.
			if _, isErrno := err.(errno.Errno); err != nil && !isErrno {
				t.Fatalf("%v step %d: %s returned %T", l, step, what, err)
			}
			if !bytes.Equal(backing[size:], before[size:]) {
				t.Fatalf("%v step %d: %s wrote past len(buf) = %d", l, step, what, size)
			}
			continue
		}
		if err != want || n != wantN {
			t.Fatalf("%v step %d: %s(key %d, arg %d) with len(buf) %d = (%d, %v), model says (%d, %v)",
				l, step, what, key, arg, size, n, err, wantN, want)
		}
		if err != nil && !bytes.Equal(backing, before) {
			t.Fatalf("%v step %d: failed %s changed the buffer", l, step, what)
		}
		if !bytes.Equal(backing[size:], before[size:]) {
			t.Fatalf("%v step %d: %s wrote past len(buf) = %d", l, step, what, size)
		}
		checkContents(t, l, step, backing, size, m)
	}
	if known {
		checkEveryKey(t, l, backing, size, m)
	}
}

// checkContents compares the whole store with the model: its bytes, Len and
// the listing of All.
func checkContents(t *testing.T, l Layout, step int, backing []byte, size int, m *model) {
	t.Helper()
	img := m.image()
	if !bytes.Equal(backing[:len(img)], img) {
		t.Fatalf("%v step %d: store is\n% x\nmodel says\n% x", l, step, backing[:len(img)], img)
	}
	buf := backing[:size]
	wantLen := len(img)
	if size < HeaderLen {
		wantLen = 0
	}
	if got := l.Len(buf); got != wantLen {
		t.Fatalf("%v step %d: Len = %d, model says %d", l, step, got, wantLen)
	}
	if size < len(img) {
		for k := range l.All(buf) {
			t.Fatalf("%v step %d: All yielded key %d from a store that does not fit", l, step, k)
		}
		return
	}
	prev := -1
	count := 0
	for k, v := range l.All(buf) {
		if int(k) <= prev {
			t.Fatalf("%v step %d: All yielded key %d after %d", l, step, k, prev)
		}
		prev = int(k)
		if mv, ok := m.vals[k]; !ok || !bytes.Equal(v, mv) {
			t.Fatalf("%v step %d: All yielded %d=% x, model has % x (%v)", l, step, k, v, mv, ok)
		}
		count++
	}
	if count != len(m.vals) {
		t.Fatalf("%v step %d: All yielded %d keys, model has %d", l, step, count, len(m.vals))
	}
}

// checkEveryKey asks IsSet and Get about all 64 keys.
func checkEveryKey(t *testing.T, l Layout, backing []byte, size int, m *model) {
	t.Helper()
	buf := backing[:size]
	if size < HeaderLen || size < m.size() {
		return
	}
	var out [8]byte
	for k := uint64(0); k < NumKeys; k++ {
		mv, isSet := m.vals[k]
		ok, err := l.IsSet(buf, k)
		if err != nil || ok != isSet {
			t.Fatalf("%v: IsSet(%d) = %v, %v; model says %v", l, k, ok, err, isSet)
		}
		n, err := l.Get(buf, k, out[:])
		if !isSet {
			if err != errno.ENOENT {
				t.Fatalf("%v: Get(%d) of an unset key = %d, %v", l, k, n, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(out[:n], mv) {
			t.Fatalf("%v: Get(%d) = % x, %v; model has % x", l, k, out[:n], err, mv)
		}
	}
}

// FuzzStoreAgainstModel runs random sequences of Init, Set, Get, IsSet and
// Del, with the hard end moving between them, on both layouts, and compares
// every result and the whole store after every step with the map model.
func FuzzStoreAgainstModel(f *testing.F) {
	// Each seed: length, 4 header-shaping bytes, then (kind, key, arg) triples.
	// kind%8: 0 Init, 1-2 Set, 3 Get, 4 IsSet, 5 Del, 6 set length, 7 grow length.
	f.Add([]byte{32, 0, 0, 0, 0,
		0, 0, 0, // Init
		1, 3, 1, // Set key 3, 2 bytes (EINVAL in V2)
		1, 1, 2, // Set key 1, 4 bytes
		1, 63, 3, // Set key 63, 8 bytes
		1, 0, 2, // Set key 0, 4 bytes: ENOSPC in V1
		3, 63, 9, // Get key 63
		3, 1, 3, // Get key 1 into 3 bytes: ENOSPC
		5, 1, 0, // Del key 1
		5, 1, 0, // Del key 1: ENOENT
		4, 64, 0, // IsSet key 64: EINVAL
	})
	f.Add([]byte{40, 0x21, 3, 0x21, 3, // start from a store with keys 3 and 8 set
		1, 5, 0, // Set key 5 as a flag (EINVAL in V1)
		1, 5, 2, // Set key 5, 4 bytes
		6, 0, 20, // hard end into the store
		3, 5, 8, // Get: EFAULT
		7, 0, 0, // hard end back to the end of the store
		1, 9, 3, // Set: ENOSPC
		5, 3, 0, // Del key 3
		1, 9, 3, // Set key 9, 8 bytes
	})
	f.Add([]byte{15, 0xff, 56, 0xff, 56, // a header the model cannot read
		0, 0, 0, // Init: ENOMEM
		6, 0, 200, // long buffer
		1, 0, 3, // Set: EFAULT on the garbage store
		0, 0, 0, // Init
		1, 0xff, 2, // Set key 2^63: EINVAL
		1, 0xfe, 2, // Set key 2^32+5: EINVAL
		1, 7, 6, // Set 3 bytes: EINVAL
		1, 7, 7, // Set 16 bytes: EINVAL
	})
	f.Fuzz(func(t *testing.T, prog []byte) {
		runAgainstModel(t, V1, prog)
		runAgainstModel(t, V2, prog)
	})
}
