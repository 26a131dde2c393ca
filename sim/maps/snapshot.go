package maps

import "unsafe"

// Snapshot is a copy of a map's whole state (elements, their order, LRU lists, free lists, ring
// positions) that the map can be put back to, as often as needed: a fuzzer restores the maps of a
// program before each input so that no input sees what an earlier one left behind.
//
// Restoring writes back into the map's own storage, so value slices handed out before (and the
// regions of global data sections that alias them) keep pointing at the map's values. After the
// first Restore, restoring allocates nothing for every type but the LPM trie (whose nodes come
// from its free list once it holds enough) and the perf event array (whose samples are kept as
// they were). It costs a copy of the map's storage: max_entries values for arrays, the elements
// allocated so far for hash maps (and max_entries list links for LRU maps), the ring for ring
// buffers.
type Snapshot struct {
	m *Map

	arr   [][]byte // array stores, one per CPU
	slots struct {
		present []bool
		vals    []byte
		objs    []any
	}
	htab  *hashSnapshot
	trie  *lpmNode
	trieN uint32
	qs    struct {
		head, tail uint32
		elems      []byte
	}
	rb struct {
		data                        []byte
		cons, prod, pending, wakeup uint64
	}
	perf []PerfRecord
}

type hashSnapshot struct {
	count  int
	heads  []int32
	chunks []*hchunk // nil where the map had no chunk
	free   []int32
	fresh  int32
	lru    *lru
}

// Snapshot copies the map's state.
func (m *Map) Snapshot() *Snapshot {
	s := &Snapshot{m: m}
	switch {
	case m.arr != nil:
		s.arr = make([][]byte, len(m.arr.data))
		for c, d := range m.arr.data {
			s.arr[c] = append([]byte(nil), d...)
		}
	case m.slots != nil:
		s.slots.present = append([]bool(nil), m.slots.present...)
		s.slots.vals = append([]byte(nil), m.slots.vals...)
		s.slots.objs = append([]any(nil), m.slots.objs...)
		if m.perf != nil {
			s.perf = append([]PerfRecord(nil), m.perf.records...)
		}
	case m.htab != nil:
		s.htab = snapshotHash(m.htab)
	case m.trie != nil:
		s.trie = copyTrie(m.trie.root, func() *lpmNode {
			return &lpmNode{data: make([]byte, m.trie.dataSize), value: make([]byte, m.trie.vsize)}
		})
		s.trieN = m.trie.n
	case m.qs != nil:
		s.qs.head, s.qs.tail = m.qs.head, m.qs.tail
		s.qs.elems = append([]byte(nil), m.qs.elems...)
	case m.rb != nil:
		r := m.rb
		s.rb.data = append([]byte(nil), r.data...)
		s.rb.cons, s.rb.prod, s.rb.pending, s.rb.wakeup = r.cons, r.prod, r.pending, r.Wakeups
	}
	return s
}

// Map is the map the snapshot is of.
func (s *Snapshot) Map() *Map { return s.m }

// Restore puts the map back into the state of the snapshot.
func (s *Snapshot) Restore() {
	m := s.m
	switch {
	case m.arr != nil:
		for c, d := range s.arr {
			copy(m.arr.data[c], d)
		}
	case m.slots != nil:
		copy(m.slots.present, s.slots.present)
		copy(m.slots.vals, s.slots.vals)
		copy(m.slots.objs, s.slots.objs)
		if m.perf != nil {
			m.perf.records = append(m.perf.records[:0], s.perf...)
		}
	case m.htab != nil:
		s.htab.restore(m.htab)
	case m.trie != nil:
		t := m.trie
		releaseTrie(t, t.root)
		t.root = copyTrie(s.trie, t.alloc)
		t.n = s.trieN
	case m.qs != nil:
		m.qs.head, m.qs.tail = s.qs.head, s.qs.tail
		copy(m.qs.elems, s.qs.elems)
	case m.rb != nil:
		r := m.rb
		copy(r.data, s.rb.data)
		r.cons, r.prod, r.pending, r.Wakeups = s.rb.cons, s.rb.prod, s.rb.pending, s.rb.wakeup
	}
}

func snapshotHash(h *hashStore) *hashSnapshot {
	s := &hashSnapshot{count: h.count, heads: append([]int32(nil), h.heads...), free: append([]int32(nil), h.free...),
		fresh: h.fresh, chunks: make([]*hchunk, len(h.chunks))}
	for i, c := range h.chunks {
		if c == nil {
			continue
		}
		cc := &hchunk{meta: c.meta, keys: append([]byte(nil), c.keys...), vals: make([][]byte, len(c.vals))}
		for v := range c.vals {
			cc.vals[v] = append([]byte(nil), c.vals[v]...)
		}
		if c.objs != nil {
			cc.objs = append([]any(nil), c.objs...)
		}
		s.chunks[i] = cc
	}
	if l := h.lru; l != nil {
		cl := *l
		cl.next = append([]int32(nil), l.next...)
		cl.prev = append([]int32(nil), l.prev...)
		cl.typ = append([]uint8(nil), l.typ...)
		cl.ref = append([]bool(nil), l.ref...)
		cl.cpu = append([]int32(nil), l.cpu...)
		cl.local = append([]lruLocal(nil), l.local...)
		cl.lists = append([]lruList(nil), l.lists...)
		cl.del = nil
		s.lru = &cl
	}
	return s
}

func (s *hashSnapshot) restore(h *hashStore) {
	h.count, h.fresh = s.count, s.fresh
	h.free = append(h.free[:0], s.free...)
	switch {
	case s.heads != nil:
		h.heads = append(h.heads[:0], s.heads...)
	case h.heads != nil:
		// The map was empty at the snapshot and has had elements since: keep the bucket heads
		// (all empty), so that the next insert need not allocate them again.
		for b := range h.heads {
			h.heads[b] = -1
		}
	}
	clear(h.index)
	for i, c := range h.chunks {
		sc := s.chunks[i]
		if c == nil {
			// Chunks are never freed, so one the snapshot has exists still.
			continue
		}
		if sc == nil {
			// Made after the snapshot: none of its elements existed then.
			c.meta = [chunkLen]hmeta{}
			clear(c.objs)
			continue
		}
		c.meta = sc.meta
		copy(c.keys, sc.keys)
		for v := range c.vals {
			copy(c.vals[v], sc.vals[v])
		}
		copy(c.objs, sc.objs)
		for j := range c.meta {
			if c.meta[j].live {
				k := c.keys[j*h.ksize : (j+1)*h.ksize]
				h.index[unsafe.String(&k[0], len(k))] = int32(i<<chunkShift | j)
			}
		}
	}
	if l := h.lru; l != nil {
		sl := s.lru
		copy(l.next, sl.next)
		copy(l.prev, sl.prev)
		copy(l.typ, sl.typ)
		copy(l.ref, sl.ref)
		copy(l.cpu, sl.cpu)
		copy(l.local, sl.local)
		copy(l.lists, sl.lists)
		l.global, l.nrScans, l.targetFree = sl.global, sl.nrScans, sl.targetFree
	}
}

// copyTrie copies the trie under nd, taking nodes from alloc.
func copyTrie(nd *lpmNode, alloc func() *lpmNode) *lpmNode {
	if nd == nil {
		return nil
	}
	c := alloc()
	c.prefixlen, c.im = nd.prefixlen, nd.im
	copy(c.data, nd.data)
	copy(c.value, nd.value)
	c.child[0] = copyTrie(nd.child[0], alloc)
	c.child[1] = copyTrie(nd.child[1], alloc)
	return c
}

// releaseTrie hands every node under nd to the trie's free list.
func releaseTrie(t *lpmTrie, nd *lpmNode) {
	if nd == nil {
		return
	}
	releaseTrie(t, nd.child[0])
	releaseTrie(t, nd.child[1])
	t.release(nd)
}
