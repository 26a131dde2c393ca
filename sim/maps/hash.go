package maps

import (
	"encoding/binary"
	"unsafe"
)

// chunkShift sets how many elements one storage chunk holds (64). Chunks are allocated when an
// element in them is first used and are never moved or freed, so a value slice stays valid for as
// long as the map lives (and holds its element's value until the element is deleted).
const (
	chunkShift = 6
	chunkLen   = 1 << chunkShift
	chunkMask  = chunkLen - 1
)

// hmeta is the bookkeeping of one hash element.
type hmeta struct {
	next, prev int32 // bucket chain; prev -1 at the head of a bucket
	bucket     uint32
	live       bool
}

type hchunk struct {
	meta [chunkLen]hmeta
	keys []byte
	vals [][]byte // one backing array per CPU for per-CPU maps, else one
	objs []any    // maps of maps
}

// hashStore is the element storage and index of the hash-like maps: hash, percpu_hash,
// lru_hash, lru_percpu_hash, hash_of_maps and devmap_hash. Keys are found through a Go map
// (string(key) lookups, which do not allocate), and ordered the kernel's way through bucket
// chains: bucket = hash & (n_buckets-1) with n_buckets the next power of two of max_entries, a
// new or replaced element at the head of its bucket.
type hashStore struct {
	ksize, vsize, stride int
	nvals                int // values per element: ncpu for per-CPU maps, else 1
	objects              bool
	max                  int32
	count                int
	index                map[string]int32
	nbuckets             uint32
	heads                []int32 // allocated with the first element
	hashFn               func(key []byte) uint32
	chunks               []*hchunk
	free                 []int32
	fresh                int32
	lru                  *lru
}

func newHashStore(ksize, vsize uint32, max uint32, nvals int, objects bool, hashFn func([]byte) uint32) *hashStore {
	return &hashStore{
		ksize:    int(ksize),
		vsize:    int(vsize),
		stride:   int(roundUp8(vsize)),
		nvals:    nvals,
		objects:  objects,
		max:      int32(max),
		index:    make(map[string]int32),
		nbuckets: uint32(nextPow2(max)),
		hashFn:   hashFn,
		chunks:   make([]*hchunk, (int(max)+chunkMask)>>chunkShift),
	}
}

// htabHash is htab_map_hash with the seed the simulator always uses: zero.
func htabHash(key []byte) uint32 { return jhash(key, 0) }

// devHash is the devmap_hash bucket function: the u32 key itself.
func devHash(key []byte) uint32 { return binary.LittleEndian.Uint32(key) }

func (h *hashStore) chunk(i int32) *hchunk {
	c := h.chunks[i>>chunkShift]
	if c == nil {
		c = &hchunk{keys: make([]byte, chunkLen*h.ksize), vals: make([][]byte, h.nvals)}
		for v := range c.vals {
			c.vals[v] = make([]byte, chunkLen*h.stride)
		}
		if h.objects {
			c.objs = make([]any, chunkLen)
		}
		h.chunks[i>>chunkShift] = c
	}
	return c
}

func (h *hashStore) meta(i int32) *hmeta { return &h.chunks[i>>chunkShift].meta[i&chunkMask] }

func (h *hashStore) key(i int32) []byte {
	off := int(i&chunkMask) * h.ksize
	return h.chunks[i>>chunkShift].keys[off : off+h.ksize : off+h.ksize]
}

// val returns value copy v (the CPU for per-CPU maps) of element i, aliasing the storage.
func (h *hashStore) val(i int32, v int) []byte {
	off := int(i&chunkMask) * h.stride
	return h.chunks[i>>chunkShift].vals[v][off : off+h.vsize : off+h.vsize]
}

func (h *hashStore) obj(i int32) *any { return &h.chunks[i>>chunkShift].objs[i&chunkMask] }

// find returns the element holding key, or -1.
func (h *hashStore) find(key []byte) int32 {
	if i, ok := h.index[string(key)]; ok {
		return i
	}
	return -1
}

// alloc takes a free element for a new key (not LRU maps); -1 when the map is full.
func (h *hashStore) alloc() int32 {
	if h.count >= int(h.max) {
		return -1
	}
	var i int32
	if n := len(h.free); n > 0 {
		i = h.free[n-1]
		h.free = h.free[:n-1]
	} else {
		i = h.fresh
		h.fresh++
	}
	return i
}

// insert makes element i (already allocated) hold key, at the head of its bucket.
func (h *hashStore) insert(i int32, key []byte) {
	c := h.chunk(i)
	k := h.key(i)
	copy(k, key)
	// The Go map's key aliases the element's key bytes, which stay unchanged while the
	// element is live, so that inserts do not allocate.
	h.index[unsafe.String(&k[0], len(k))] = i
	m := &c.meta[i&chunkMask]
	m.live = true
	m.bucket = h.hashFn(key) & (h.nbuckets - 1)
	h.link(i)
	h.count++
}

func (h *hashStore) link(i int32) {
	if h.heads == nil {
		h.heads = make([]int32, h.nbuckets)
		for b := range h.heads {
			h.heads[b] = -1
		}
	}
	m := h.meta(i)
	head := h.heads[m.bucket]
	m.next, m.prev = head, -1
	if head >= 0 {
		h.meta(head).prev = i
	}
	h.heads[m.bucket] = i
}

// unlink takes i off its bucket chain; i keeps its next pointer, as an RCU list deletion does,
// so that an iteration standing on i can go on.
func (h *hashStore) unlink(i int32) {
	m := h.meta(i)
	if m.prev >= 0 {
		h.meta(m.prev).next = m.next
	} else {
		h.heads[m.bucket] = m.next
	}
	if m.next >= 0 {
		h.meta(m.next).prev = m.prev
	}
}

// moveToHead puts i at the head of its bucket, where the kernel puts the element that replaces
// an old one.
func (h *hashStore) moveToHead(i int32) {
	h.unlink(i)
	h.link(i)
}

// remove deletes element i from the index and its bucket; the caller frees the element.
func (h *hashStore) remove(i int32) {
	delete(h.index, string(h.key(i)))
	h.unlink(i)
	h.meta(i).live = false
	h.count--
	if h.objects {
		*h.obj(i) = nil
	}
}

// release returns element i to the free list (not LRU maps).
func (h *hashStore) release(i int32) { h.free = append(h.free, i) }

// first returns the first element at or after bucket b, in iteration order, or -1.
func (h *hashStore) first(b uint32) int32 {
	if h.heads == nil {
		return -1
	}
	for ; b < h.nbuckets; b++ {
		if i := h.heads[b]; i >= 0 {
			return i
		}
	}
	return -1
}

// nextKey is htab_map_get_next_key: the element after key in bucket order; the first element if
// key is nil or missing.
func (h *hashStore) nextKey(key []byte) int32 {
	if key == nil {
		return h.first(0)
	}
	i := h.find(key)
	if i < 0 {
		return h.first(0)
	}
	m := h.meta(i)
	if m.next >= 0 {
		return m.next
	}
	return h.first(m.bucket + 1)
}

// each calls fn for every element in the kernel's iteration order until fn returns false. fn may
// delete or insert elements.
func (h *hashStore) each(fn func(i int32) bool) {
	if h.heads == nil {
		return
	}
	for b := uint32(0); b < h.nbuckets; b++ {
		for i := h.heads[b]; i >= 0; {
			saved := h.meta(i).next
			if !fn(i) {
				return
			}
			m := h.meta(i)
			if m.live && m.bucket == b {
				i = m.next
				continue
			}
			// i was deleted: go on from its old successor if that is still in this bucket.
			i = saved
			if i >= 0 && (!h.meta(i).live || h.meta(i).bucket != b) {
				break
			}
		}
	}
}
