package device

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// MicrosoftRSSKey is the 40-byte secret key of Microsoft's RSS specification ("Verifying the RSS Hash
// Calculation", Windows driver documentation), which many drivers also use as their default. Device
// profiles use it unless told otherwise. Real Linux drivers fill their key with random bytes at boot
// (netdev_rss_key_fill), so no two machines hash alike; a fixed key keeps the simulator deterministic
// and lets its hashes be checked against the published vectors.
var MicrosoftRSSKey = [40]byte{
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
}

// Toeplitz is the Toeplitz hash RSS uses: for every bit of input that is set, counting from the most
// significant bit of input[0], it XORs in the 32 bits of key that start at the same bit position.
// Key bits past the end of key count as zero, so a key of n bytes fully covers n-4 bytes of input
// (36 for the usual 40-byte key: IPv6 addresses and ports).
//
// The hash is computed a byte at a time through tables made once per key; the tables of the last few
// keys are kept, so repeated calls with the same key (the common case) neither allocate nor rebuild
// them. [ToeplitzKey] holds the tables explicitly.
func Toeplitz(key, input []byte) uint32 {
	if t := cachedKey(key); t != nil {
		return t.Hash(input)
	}
	return toeplitzBits(key, input)
}

// ToeplitzKey is a Toeplitz key prepared for hashing: one table of 256 partial hashes per input byte
// position the key covers. It is immutable and safe for concurrent use.
type ToeplitzKey struct {
	key []byte
	tab [][256]uint32
}

// NewToeplitzKey prepares key (which it copies) for [ToeplitzKey.Hash].
func NewToeplitzKey(key []byte) *ToeplitzKey {
	t := &ToeplitzKey{key: append([]byte(nil), key...), tab: make([][256]uint32, len(key))}
	for j := range t.tab {
		// single[k] is the key window for bit k (0 = most significant) of input byte j.
		var single [8]uint32
		for k := range single {
			single[k] = window(t.key, 8*j+k)
		}
		row := &t.tab[j]
		for b := 1; b < 256; b++ {
			// b is b without its lowest set bit, plus that bit, which is bit k counting from
			// the top.
			p := bits.TrailingZeros8(uint8(b))
			row[b] = row[b&^(1<<p)] ^ single[7-p]
		}
	}
	return t
}

// Key returns the key the tables were made for.
func (t *ToeplitzKey) Key() []byte { return t.key }

// Hash gives the Toeplitz hash of input; see [Toeplitz].
func (t *ToeplitzKey) Hash(input []byte) uint32 {
	if len(input) > len(t.tab) {
		input = input[:len(t.tab)] // bytes past the key meet only zero key bits
	}
	tab := t.tab[:len(input)]
	var h uint32
	for len(input) >= 4 { // four bytes a round: independent loads, one bounds check
		h ^= tab[0][input[0]] ^ tab[1][input[1]] ^ tab[2][input[2]] ^ tab[3][input[3]]
		tab, input = tab[4:], input[4:]
	}
	for j, b := range input {
		h ^= tab[j][b]
	}
	return h
}

// window gives the 32 key bits starting at bit position bit (0 = the most significant bit of key[0]),
// with bits past the end of key taken as zero.
func window(key []byte, bit int) uint32 {
	var w uint64 // 40 bits: key bytes bit/8 .. bit/8+4
	for i := range 5 {
		w <<= 8
		if n := bit/8 + i; n < len(key) {
			w |= uint64(key[n])
		}
	}
	return uint32(w >> (8 - bit%8))
}

// toeplitzBits is the hash by its definition, a bit at a time: for keys not worth making tables for.
func toeplitzBits(key, input []byte) uint32 {
	var h uint32
	for j, b := range input {
		if 8*j >= 8*len(key) {
			break
		}
		for k := range 8 {
			if b&(0x80>>k) != 0 {
				h ^= window(key, 8*j+k)
			}
		}
	}
	return h
}

// The key cache: an immutable list of prepared keys behind an atomic pointer, so that lookups take no
// lock and do not allocate; additions copy the list.
const maxCachedKeys = 8

var (
	keyCache   atomic.Pointer[[]*ToeplitzKey]
	keyCacheMu sync.Mutex
)

// cachedKey returns the prepared form of key, making and caching it when the cache has room; nil
// when it has none.
func cachedKey(key []byte) *ToeplitzKey {
	if p := keyCache.Load(); p != nil {
		for _, t := range *p {
			if string(t.key) == string(key) {
				return t
			}
		}
	}
	keyCacheMu.Lock()
	defer keyCacheMu.Unlock()
	var list []*ToeplitzKey
	if p := keyCache.Load(); p != nil {
		list = *p
		for _, t := range list {
			if string(t.key) == string(key) {
				return t
			}
		}
	}
	if len(list) >= maxCachedKeys {
		return nil
	}
	t := NewToeplitzKey(key)
	next := append(append(make([]*ToeplitzKey, 0, len(list)+1), list...), t)
	keyCache.Store(&next)
	return t
}
