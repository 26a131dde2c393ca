package maps

// This file models kernel/bpf/bpf_lru_list.c: the lists an LRU hash map keeps its preallocated
// elements on, and the order in which it reuses and evicts them. The observable behaviour (which
// keys are evicted, and when) follows the kernel's algorithm step by step: a common LRU with
// per-CPU local free and pending lists and a global active/inactive/free list, or per-CPU LRU
// lists with BPF_F_NO_COMMON_LRU. Lists are intrusive doubly linked lists over node indices, with
// sentinel nodes as list heads, so that list_add/list_move/list_del keep their kernel meaning.

// LRU list types, as enum bpf_lru_list_type numbers them.
const (
	lruActive     = 0
	lruInactive   = 1
	lruFree       = 2
	lruLocalFree  = 3
	lruLocalPend  = 4
	lruNone       = 5 // sentinels
	lruCountTypes = 2 // NR_BPF_LRU_LIST_COUNT: active and inactive are counted
)

const (
	localFreeTarget  = 128 // LOCAL_FREE_TARGET, also LOCAL_NR_SCANS
	percpuFreeTarget = 4   // PERCPU_FREE_TARGET, also PERCPU_NR_SCANS
)

// lruList is struct bpf_lru_list.
type lruList struct {
	heads  [3]int32 // sentinels of the active, inactive and free lists
	counts [lruCountTypes]int
	nir    int32 // next_inactive_rotation
}

// lruLocal is struct bpf_lru_locallist.
type lruLocal struct {
	free, pending int32 // sentinels
	nextSteal     int
}

// lru is struct bpf_lru. Nodes 0..n-1 are the map's elements; higher indices are sentinels.
type lru struct {
	percpu     bool
	ncpu       int
	n          int32
	next, prev []int32
	typ        []uint8
	ref        []bool
	cpu        []int32
	nrScans    int
	targetFree int
	global     lruList    // common LRU
	local      []lruLocal // common LRU, per CPU
	lists      []lruList  // per-CPU LRU
	tmp        int32      // scratch sentinel for swaps
	// del removes an element from the hash table when the LRU evicts it (del_from_htab).
	del func(node int32) bool
}

func newLRU(n int32, ncpu int, percpu bool, del func(int32) bool) *lru {
	l := &lru{percpu: percpu, ncpu: ncpu, n: n, del: del}
	sentinels := 1
	if percpu {
		sentinels += 3 * ncpu
	} else {
		sentinels += 3 + 2*ncpu
	}
	total := int(n) + sentinels
	l.next = make([]int32, total)
	l.prev = make([]int32, total)
	l.typ = make([]uint8, total)
	l.ref = make([]bool, total)
	l.cpu = make([]int32, total)
	next := n
	sentinel := func() int32 {
		s := next
		next++
		l.next[s], l.prev[s], l.typ[s] = s, s, lruNone
		return s
	}
	initList := func(ll *lruList) {
		for i := range ll.heads {
			ll.heads[i] = sentinel()
		}
		ll.nir = ll.heads[lruInactive]
	}
	l.tmp = sentinel()
	if percpu {
		l.nrScans = percpuFreeTarget
		l.lists = make([]lruList, ncpu)
		for c := range l.lists {
			initList(&l.lists[c])
		}
		// bpf_percpu_lru_populate: n/ncpu consecutive nodes per CPU.
		per := n / int32(ncpu)
		for i := int32(0); i < n; i++ {
			c := i / per
			if int(c) >= ncpu {
				c = int32(ncpu - 1)
			}
			l.cpu[i] = c
			l.typ[i] = lruFree
			l.listAdd(i, l.lists[c].heads[lruFree])
		}
		return l
	}
	l.nrScans = localFreeTarget
	initList(&l.global)
	l.local = make([]lruLocal, ncpu)
	for c := range l.local {
		l.local[c] = lruLocal{free: sentinel(), pending: sentinel(), nextSteal: c}
	}
	for i := int32(0); i < n; i++ {
		l.typ[i] = lruFree
		l.listAdd(i, l.global.heads[lruFree])
	}
	tf := int(n) / ncpu / 2
	l.targetFree = min(max(tf, 1), localFreeTarget)
	return l
}

// list.h primitives.

func (l *lru) listAdd(node, head int32) {
	nx := l.next[head]
	l.next[node], l.prev[node] = nx, head
	l.prev[nx] = node
	l.next[head] = node
}

func (l *lru) listDel(node int32) {
	p, nx := l.prev[node], l.next[node]
	l.next[p] = nx
	l.prev[nx] = p
}

func (l *lru) listMove(node, head int32) {
	l.listDel(node)
	l.listAdd(node, head)
}

func (l *lru) empty(head int32) bool { return l.next[head] == head }

// replace puts y (not on any list) where x is.
func (l *lru) replace(x, y int32) {
	l.next[y], l.prev[y] = l.next[x], l.prev[x]
	l.prev[l.next[x]] = y
	l.next[l.prev[x]] = y
}

// swap exchanges the list positions and LRU state of two elements. The hash map uses it to keep a
// key's storage when the kernel would move the key to a freshly popped element.
func (l *lru) swap(a, b int32) {
	l.replace(a, l.tmp)
	l.replace(b, a)
	l.replace(l.tmp, b)
	l.typ[a], l.typ[b] = l.typ[b], l.typ[a]
	l.ref[a], l.ref[b] = l.ref[b], l.ref[a]
	l.cpu[a], l.cpu[b] = l.cpu[b], l.cpu[a]
	fix := func(ll *lruList) {
		switch ll.nir {
		case a:
			ll.nir = b
		case b:
			ll.nir = a
		}
	}
	if l.percpu {
		for i := range l.lists {
			fix(&l.lists[i])
		}
	} else {
		fix(&l.global)
	}
}

// setRef is bpf_lru_node_set_ref: a program's lookup marks the element as recently used.
func (l *lru) setRef(node int32) { l.ref[node] = true }

func (l *lru) countInc(ll *lruList, t uint8) {
	if t < lruCountTypes {
		ll.counts[t]++
	}
}

func (l *lru) countDec(ll *lruList, t uint8) {
	if t < lruCountTypes {
		ll.counts[t]--
	}
}

// moveToFree is __bpf_lru_node_move_to_free.
func (l *lru) moveToFree(ll *lruList, node, freeList int32, tgt uint8) {
	if node == ll.nir {
		ll.nir = l.prev[ll.nir]
	}
	l.countDec(ll, l.typ[node])
	l.typ[node] = tgt
	l.listMove(node, freeList)
}

// moveIn is __bpf_lru_node_move_in: from a local list to the LRU list.
func (l *lru) moveIn(ll *lruList, node int32, tgt uint8) {
	l.countInc(ll, tgt)
	l.typ[node] = tgt
	l.ref[node] = false
	l.listMove(node, ll.heads[tgt])
}

// move is __bpf_lru_node_move: within or between the active, inactive and free lists.
func (l *lru) move(ll *lruList, node int32, tgt uint8) {
	if l.typ[node] != tgt {
		l.countDec(ll, l.typ[node])
		l.countInc(ll, tgt)
		l.typ[node] = tgt
	}
	l.ref[node] = false
	if node == ll.nir {
		ll.nir = l.prev[ll.nir]
	}
	l.listMove(node, ll.heads[tgt])
}

// rotateActive is __bpf_lru_list_rotate_active.
func (l *lru) rotateActive(ll *lruList) {
	head := ll.heads[lruActive]
	first := l.next[head]
	i := 0
	for node := l.prev[head]; node != head; {
		tmp := l.prev[node]
		if l.ref[node] {
			l.move(ll, node, lruActive)
		} else {
			l.move(ll, node, lruInactive)
		}
		i++
		if i == l.nrScans || node == first {
			break
		}
		node = tmp
	}
}

// rotateInactive is __bpf_lru_list_rotate_inactive.
func (l *lru) rotateInactive(ll *lruList) {
	inactive := ll.heads[lruInactive]
	if l.empty(inactive) {
		return
	}
	last := l.next[ll.nir]
	if last == inactive {
		last = l.next[last]
	}
	cur := ll.nir
	next := inactive
	for i := 0; i < l.nrScans; {
		if cur == inactive {
			cur = l.prev[cur]
			continue
		}
		next = l.prev[cur]
		if l.ref[cur] {
			l.move(ll, cur, lruActive)
		}
		if cur == last {
			break
		}
		cur = next
		i++
	}
	ll.nir = next
}

// shrinkInactive is __bpf_lru_list_shrink_inactive.
func (l *lru) shrinkInactive(ll *lruList, tgt int, freeList int32, freeType uint8) int {
	inactive := ll.heads[lruInactive]
	n, i := 0, 0
	for node := l.prev[inactive]; node != inactive; {
		tmp := l.prev[node]
		if l.ref[node] {
			l.move(ll, node, lruActive)
		} else if l.del(node) {
			l.moveToFree(ll, node, freeList, freeType)
			n++
			if n == tgt {
				break
			}
		}
		i++
		if i == l.nrScans {
			break
		}
		node = tmp
	}
	return n
}

// rotate is __bpf_lru_list_rotate.
func (l *lru) rotate(ll *lruList) {
	if ll.counts[lruInactive] < ll.counts[lruActive] {
		l.rotateActive(ll)
	}
	l.rotateInactive(ll)
}

// shrink is __bpf_lru_list_shrink: shrink the inactive list, or force out one element ignoring
// the reference bit, preferring the inactive list.
func (l *lru) shrink(ll *lruList, tgt int, freeList int32, freeType uint8) int {
	if n := l.shrinkInactive(ll, tgt, freeList, freeType); n > 0 {
		return n
	}
	force := ll.heads[lruInactive]
	if l.empty(force) {
		force = ll.heads[lruActive]
	}
	for node := l.prev[force]; node != force; node = l.prev[node] {
		if l.del(node) {
			l.moveToFree(ll, node, freeList, freeType)
			return 1
		}
	}
	return 0
}

// flushLocal is __local_list_flush: pending elements go to the active or inactive list.
func (l *lru) flushLocal(loc *lruLocal) {
	for node := l.prev[loc.pending]; node != loc.pending; {
		tmp := l.prev[node]
		if l.ref[node] {
			l.moveIn(&l.global, node, lruActive)
		} else {
			l.moveIn(&l.global, node, lruInactive)
		}
		node = tmp
	}
}

// popFreeToLocal is bpf_lru_list_pop_free_to_local.
func (l *lru) popFreeToLocal(loc *lruLocal) {
	ll := &l.global
	l.flushLocal(loc)
	l.rotate(ll)
	nfree := 0
	freeHead := ll.heads[lruFree]
	for node := l.next[freeHead]; node != freeHead; {
		tmp := l.next[node]
		l.moveToFree(ll, node, loc.free, lruLocalFree)
		nfree++
		if nfree == l.targetFree {
			break
		}
		node = tmp
	}
	if nfree < l.targetFree {
		l.shrink(ll, l.targetFree-nfree, loc.free, lruLocalFree)
	}
}

func (l *lru) popLocalFree(loc *lruLocal) int32 {
	if l.empty(loc.free) {
		return -1
	}
	node := l.next[loc.free]
	l.listDel(node)
	return node
}

// popPending is __local_list_pop_pending: steal the oldest unreferenced pending element, or any.
func (l *lru) popPending(loc *lruLocal) int32 {
	for _, force := range []bool{false, true} {
		for node := l.prev[loc.pending]; node != loc.pending; node = l.prev[node] {
			if (!l.ref[node] || force) && l.del(node) {
				l.listDel(node)
				return node
			}
		}
	}
	return -1
}

func (l *lru) addPending(loc *lruLocal, cpu int, node int32) {
	l.cpu[node] = int32(cpu)
	l.typ[node] = lruLocalPend
	l.ref[node] = false
	l.listAdd(node, loc.pending)
}

// pop is bpf_lru_pop_free: an element for a new key, evicting old keys if need be; -1 if none.
func (l *lru) pop(cpu int) int32 {
	if l.percpu {
		ll := &l.lists[cpu]
		l.rotate(ll)
		free := ll.heads[lruFree]
		if l.empty(free) {
			l.shrink(ll, percpuFreeTarget, free, lruFree)
		}
		if l.empty(free) {
			return -1
		}
		node := l.next[free]
		l.ref[node] = false
		l.move(ll, node, lruInactive)
		return node
	}
	loc := &l.local[cpu]
	node := l.popLocalFree(loc)
	if node < 0 {
		l.popFreeToLocal(loc)
		node = l.popLocalFree(loc)
	}
	if node >= 0 {
		l.addPending(loc, cpu, node)
		return node
	}
	first := loc.nextSteal
	steal := first
	for {
		sl := &l.local[steal]
		node = l.popLocalFree(sl)
		if node < 0 {
			node = l.popPending(sl)
		}
		steal = (steal + 1) % l.ncpu
		if node >= 0 || steal == first {
			break
		}
	}
	loc.nextSteal = steal
	if node < 0 {
		return -1
	}
	l.addPending(loc, cpu, node)
	return node
}

// push is bpf_lru_push_free: an element whose key was deleted becomes free.
func (l *lru) push(node int32) {
	if l.percpu {
		l.move(&l.lists[l.cpu[node]], node, lruFree)
		return
	}
	if l.typ[node] == lruLocalPend {
		loc := &l.local[l.cpu[node]]
		l.typ[node] = lruLocalFree
		l.ref[node] = false
		l.listMove(node, loc.free)
		return
	}
	l.move(&l.global, node, lruFree)
}
