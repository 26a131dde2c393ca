package maps

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

type kind uint8

const (
	kArray kind = iota
	kPerCPUArray
	kHash
	kPerCPUHash
	kLRUHash
	kLRUPerCPUHash
	kLPMTrie
	kProgArray
	kArrayOfMaps
	kHashOfMaps
	kQueue
	kStack
	kRingBuf
	kPerfEventArray
	kDevMap
	kDevMapHash
	kCPUMap
	kXSKMap
	kControl
)

var kinds = map[ebpf.MapType]kind{
	ebpf.Array:          kArray,
	ebpf.PerCPUArray:    kPerCPUArray,
	ebpf.Hash:           kHash,
	ebpf.PerCPUHash:     kPerCPUHash,
	ebpf.LRUHash:        kLRUHash,
	ebpf.LRUCPUHash:     kLRUPerCPUHash,
	ebpf.LPMTrie:        kLPMTrie,
	ebpf.ProgramArray:   kProgArray,
	ebpf.ArrayOfMaps:    kArrayOfMaps,
	ebpf.HashOfMaps:     kHashOfMaps,
	ebpf.Queue:          kQueue,
	ebpf.Stack:          kStack,
	ebpf.RingBuf:        kRingBuf,
	ebpf.PerfEventArray: kPerfEventArray,
	ebpf.DevMap:         kDevMap,
	ebpf.DevMapHash:     kDevMapHash,
	ebpf.CPUMap:         kCPUMap,
	ebpf.XSKMap:         kXSKMap,
	Control:             kControl,
}

// arrayStore holds the values of array and percpu_array maps: one preallocated backing array
// per CPU (one for array maps), elements 8-byte aligned as in the kernel. It is never
// reallocated, so value slices stay valid for the map's lifetime.
type arrayStore struct {
	n      uint32
	vsize  int
	stride int
	data   [][]byte
}

// cpuLine is the span of memory one CPU's per-CPU values keep to themselves: two cache lines, as
// x86 cores fetch lines in pairs.
const cpuLine = 128

// perCPUBlocks allocates n bytes for each of cpus CPUs, each CPU's starting on a cpuLine
// boundary and none sharing a cpuLine with another's, as the kernel's per-CPU areas do not: values
// of small per-CPU arrays allocated one by one would sit side by side, and CPUs running at once
// (a parallel replay) would contend for lines that hold another CPU's values.
func perCPUBlocks(cpus, n int) [][]byte {
	per := (n + cpuLine - 1) / cpuLine * cpuLine
	block := make([]byte, per*cpus+cpuLine)
	at := int(-uintptr(unsafe.Pointer(unsafe.SliceData(block))) & (cpuLine - 1))
	out := make([][]byte, cpus)
	for c := range out {
		out[c] = block[at : at+n : at+n]
		at += per
	}
	return out
}

func (a *arrayStore) value(idx uint32, cpu int) []byte {
	off := int(idx) * a.stride
	return a.data[cpu][off : off+a.vsize : off+a.vsize]
}

// slotStore holds the entries of the array-indexed maps whose slots may be empty: devmap,
// cpumap, xskmap, prog_array, array_of_maps and perf_event_array.
type slotStore struct {
	n       uint32
	vsize   int
	stride  int
	present []bool
	vals    []byte
	objs    []any
}

func (s *slotStore) value(idx uint32) []byte {
	off := int(idx) * s.stride
	return s.vals[off : off+s.vsize : off+s.vsize]
}

func (s *slotStore) clearSlot(idx uint32) {
	s.present[idx] = false
	clear(s.value(idx))
	if s.objs != nil {
		s.objs[idx] = nil
	}
}

// Map is one simulated BPF map. It is not safe for concurrent use: the simulator runs one
// program at a time per map, or serialises access itself.
type Map struct {
	spec    Spec
	kind    kind
	ncpu    int
	max     uint32
	id      uint32
	resolve func(id uint32) (any, error)

	arr   *arrayStore
	slots *slotStore
	htab  *hashStore
	trie  *lpmTrie
	qs    *queueStack
	rb    *RingBuf
	perf  *PerfEventArray
	ctrl  *control
	zeros []byte // a zero value, for new per-CPU elements

	// shared says programs on several goroutines use the map (SetShared); mu is then held by the
	// operations that change its structure (see shared.go).
	shared bool
	mu     sync.Mutex
}

// New creates a map with the kernel's checks of its attributes, for ncpu simulated CPUs (1 if
// ncpu <= 0). An unsupported type or an invalid spec gives a *SpecError naming the map and the
// reason, which unwraps to the errno BPF_MAP_CREATE would return.
func New(spec Spec, ncpu int) (*Map, error) {
	if ncpu <= 0 {
		ncpu = 1
	}
	k, ok := kinds[spec.Type]
	if !ok {
		return nil, specErr(&spec, errno.EINVAL, "map type %s is not supported by the simulator", spec.Type)
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if spec.SpinLock && spec.Type != ebpf.Array && spec.Type != ebpf.Hash {
		return nil, specErr(&spec, errno.EOPNOTSUPP, "bpf_spin_lock is only allowed in array and hash map values")
	}
	m := &Map{spec: spec, kind: k, ncpu: ncpu, max: spec.MaxEntries}
	if spec.Inner != nil {
		inner := *spec.Inner
		m.spec.Inner = &inner
	}
	ks, vs, n := spec.KeySize, spec.ValueSize, spec.MaxEntries
	switch k {
	case kArray, kPerCPUArray:
		a := &arrayStore{n: n, vsize: int(vs), stride: int(roundUp8(vs))}
		copies := 1
		if k == kPerCPUArray {
			copies = ncpu
		}
		a.data = make([][]byte, copies)
		if copies == 1 {
			a.data[0] = make([]byte, int(n)*a.stride)
		} else {
			a.data = perCPUBlocks(copies, int(n)*a.stride)
		}
		m.arr = a
	case kProgArray, kArrayOfMaps, kPerfEventArray, kDevMap, kCPUMap, kXSKMap:
		s := &slotStore{n: n, vsize: int(vs), stride: int(roundUp8(vs)), present: make([]bool, n)}
		s.vals = make([]byte, int(n)*s.stride)
		if k == kProgArray || k == kArrayOfMaps || k == kXSKMap {
			s.objs = make([]any, n)
		}
		m.slots = s
		if k == kPerfEventArray {
			m.perf = &PerfEventArray{m: m}
			for c := 0; c < ncpu && uint32(c) < n; c++ {
				s.present[c] = true
				binary.LittleEndian.PutUint32(s.value(uint32(c)), uint32(c))
			}
		}
	case kHash, kPerCPUHash, kHashOfMaps, kDevMapHash:
		nvals := 1
		if k == kPerCPUHash {
			nvals = ncpu
		}
		fn := htabHash
		if k == kDevMapHash {
			fn = devHash
		}
		m.htab = newHashStore(ks, vs, n, nvals, k == kHashOfMaps, fn)
	case kLRUHash, kLRUPerCPUHash:
		percpuLRU := spec.Flags&FlagNoCommonLRU != 0
		if percpuLRU {
			// Every CPU's list gets the same number of elements.
			r := (uint64(n) + uint64(ncpu) - 1) / uint64(ncpu) * uint64(ncpu)
			if r > 0xffffffff {
				r = uint64(n) / uint64(ncpu) * uint64(ncpu)
			}
			if r == 0 {
				return nil, specErr(&spec, errno.EINVAL, "max_entries %d is less than the %d CPUs of a BPF_F_NO_COMMON_LRU map", n, ncpu)
			}
			n = uint32(r)
			m.max = n
		}
		nvals := 1
		if k == kLRUPerCPUHash {
			nvals = ncpu
		}
		h := newHashStore(ks, vs, n, nvals, false, htabHash)
		h.lru = newLRU(int32(n), ncpu, percpuLRU, func(node int32) bool {
			if h.chunks[node>>chunkShift] == nil || !h.meta(node).live {
				return false
			}
			h.remove(node)
			return true
		})
		m.htab = h
	case kLPMTrie:
		m.trie = newLPMTrie(ks, vs, n)
	case kQueue, kStack:
		m.qs = newQueueStack(k == kStack, vs, n)
	case kRingBuf:
		m.rb = newRingBuf(n)
	case kControl:
		m.ctrl = &control{bufs: map[uint32][]byte{}}
	}
	if m.percpu() {
		m.zeros = make([]byte, vs)
	}
	return m, nil
}

// Spec returns the spec the map was created from.
func (m *Map) Spec() Spec { return m.spec }

// Name is the map's name.
func (m *Map) Name() string { return m.spec.Name }

// Type is the map's type.
func (m *Map) Type() ebpf.MapType { return m.spec.Type }

// KeySize is the key size in bytes.
func (m *Map) KeySize() int { return int(m.spec.KeySize) }

// ValueSize is the size of one value in bytes (of one CPU's value for per-CPU maps).
func (m *Map) ValueSize() int { return int(m.spec.ValueSize) }

// MaxEntries is the map's max_entries as the kernel reports it after creation (LRU maps with
// BPF_F_NO_COMMON_LRU round it up to a multiple of the CPU count).
func (m *Map) MaxEntries() uint32 { return m.max }

// NumCPU is the number of simulated CPUs the map was created for.
func (m *Map) NumCPU() int { return m.ncpu }

// PerCPU reports whether the map keeps one value per CPU.
func (m *Map) PerCPU() bool { return m.percpu() }

// ID is the map's ID (0 unless SetID set one). Dumps of maps of maps show inner maps by ID.
func (m *Map) ID() uint32 { return m.id }

// SetID sets the map's ID, as the loader assigns them.
func (m *Map) SetID(id uint32) { m.id = id }

// SetResolver installs the function that turns a 4-byte value written through Update, UpdatePerCPU
// or Load (a program or map ID, as user space writes an fd) into the object a prog_array,
// array_of_maps, hash_of_maps or xskmap entry holds.
func (m *Map) SetResolver(fn func(id uint32) (any, error)) { m.resolve = fn }

// RingBuf returns the ring of a ringbuf map, nil for other types.
func (m *Map) RingBuf() *RingBuf { return m.rb }

// PerfEventArray returns the output side of a perf_event_array map, nil for other types.
func (m *Map) PerfEventArray() *PerfEventArray { return m.perf }

func (m *Map) percpu() bool {
	return m.kind == kPerCPUArray || m.kind == kPerCPUHash || m.kind == kLRUPerCPUHash
}

func (m *Map) holdsObjects() bool {
	return m.kind == kProgArray || m.kind == kArrayOfMaps || m.kind == kHashOfMaps || m.kind == kXSKMap
}

func (m *Map) isLRU() bool { return m.kind == kLRUHash || m.kind == kLRUPerCPUHash }

// Len returns the number of elements present: max_entries for array maps, the stored elements
// for the others, the unconsumed bytes for ring buffers.
func (m *Map) Len() int {
	switch {
	case m.arr != nil:
		return int(m.arr.n)
	case m.slots != nil:
		n := 0
		for _, p := range m.slots.present {
			if p {
				n++
			}
		}
		return n
	case m.htab != nil:
		return m.htab.count
	case m.trie != nil:
		return int(m.trie.n)
	case m.qs != nil:
		return m.qs.len()
	case m.rb != nil:
		return int(m.rb.Query(RBAvailData))
	}
	return 0
}

// String describes the map like cilium/ebpf does.
func (m *Map) String() string {
	return fmt.Sprintf("%s %q(keySize=%d, valueSize=%d, maxEntries=%d, flags=%d)", typeName(m.spec.Type), m.spec.Name, m.spec.KeySize, m.spec.ValueSize, m.max, m.spec.Flags)
}

// write copies a value into storage, leaving an embedded bpf_spin_lock alone (copy_map_value).
func (m *Map) write(dst, src []byte) {
	if !m.spec.SpinLock {
		copy(dst, src)
		return
	}
	o := m.spec.SpinLockOffset
	copy(dst[:o], src[:o])
	copy(dst[o+4:], src[o+4:])
}

// writeLocked is the copy of a BPF_F_LOCK update (copy_map_value_locked): write, holding the
// value's own bpf_spin_lock.
func (m *Map) writeLocked(dst, src []byte) {
	o := m.spec.SpinLockOffset
	SpinLock(dst[o : o+4])
	m.write(dst, src)
	SpinUnlock(dst[o : o+4])
}

// readOut copies a value for user space, with the spin lock bytes zeroed as the kernel does.
func (m *Map) readOut(v []byte) []byte {
	out := append([]byte(nil), v...)
	if m.spec.SpinLock {
		clear(out[m.spec.SpinLockOffset : m.spec.SpinLockOffset+4])
	}
	return out
}

func index32(key []byte) (uint32, error) {
	if len(key) != 4 {
		return 0, errno.EINVAL
	}
	return binary.LittleEndian.Uint32(key), nil
}

func (m *Map) checkKey(key []byte) error {
	if len(key) != int(m.spec.KeySize) {
		return errno.EINVAL
	}
	return nil
}

func (m *Map) checkCPU(cpu int) error {
	if uint(cpu) >= uint(m.ncpu) {
		return errno.EINVAL
	}
	return nil
}

// Lookup is bpf_map_lookup_elem as a program on cpu calls it. The returned slice aliases the
// stored value, so writes through it change the map; it stays valid while the element exists (for
// array maps: always). Per-CPU maps return cpu's value; LRU maps mark the element as used. A
// missing key gives ENOENT (the helper returns NULL). Lookup does not allocate.
//
// On prog_array, array_of_maps, hash_of_maps and xskmap the value is the stored 4-byte ID (use
// LookupObject for the object); perf_event_array and ring buffers give ENOTSUPP, queues and
// stacks EINVAL (use Peek), as their kernel lookup operations do.
func (m *Map) Lookup(key []byte, cpu int) ([]byte, error) {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	// One return here, many in lookup: Go open-codes a defer only in a function with few
	// returns, and the other kind took 7% of a packet's time in a program making two lookups.
	return m.lookup(key, cpu)
}

// lookup is Lookup with the map's lock held, if it has one.
func (m *Map) lookup(key []byte, cpu int) ([]byte, error) {
	switch m.kind {
	case kArray:
		idx, err := index32(key)
		if err != nil {
			return nil, err
		}
		if idx >= m.arr.n {
			return nil, errno.ENOENT
		}
		return m.arr.value(idx, 0), nil
	case kPerCPUArray:
		idx, err := index32(key)
		if err != nil {
			return nil, err
		}
		if err := m.checkCPU(cpu); err != nil {
			return nil, err
		}
		if idx >= m.arr.n {
			return nil, errno.ENOENT
		}
		return m.arr.value(idx, cpu), nil
	case kHash, kPerCPUHash, kLRUHash, kLRUPerCPUHash, kHashOfMaps, kDevMapHash:
		if err := m.checkKey(key); err != nil {
			return nil, err
		}
		h := m.htab
		i, ok := h.index[string(key)]
		if !ok {
			return nil, errno.ENOENT
		}
		v := 0
		if h.nvals > 1 {
			if err := m.checkCPU(cpu); err != nil {
				return nil, err
			}
			v = cpu
		}
		if h.lru != nil {
			h.lru.setRef(i)
		}
		return h.val(i, v), nil
	case kLPMTrie:
		if err := m.checkKey(key); err != nil {
			return nil, err
		}
		nd := m.trie.lookup(key)
		if nd == nil {
			return nil, errno.ENOENT
		}
		return nd.value, nil
	case kDevMap, kCPUMap, kXSKMap, kProgArray, kArrayOfMaps:
		idx, err := index32(key)
		if err != nil {
			return nil, err
		}
		if idx >= m.slots.n || !m.slots.present[idx] {
			return nil, errno.ENOENT
		}
		return m.slots.value(idx), nil
	case kPerfEventArray, kRingBuf:
		return nil, errno.ENOTSUPP
	case kControl:
		return m.controlLookup(key)
	}
	return nil, errno.EINVAL
}

// LookupObject returns the object an entry holds: the program of a prog_array slot (what
// bpf_tail_call jumps to), the inner *Map of a map of maps, or the socket of an xskmap slot
// (nil if the slot was written as bytes without a resolver). A missing entry gives ENOENT. It
// does not allocate.
func (m *Map) LookupObject(key []byte) (any, error) {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	switch m.kind {
	case kProgArray, kArrayOfMaps, kXSKMap:
		idx, err := index32(key)
		if err != nil {
			return nil, err
		}
		if idx >= m.slots.n || !m.slots.present[idx] {
			return nil, errno.ENOENT
		}
		return m.slots.objs[idx], nil
	case kHashOfMaps:
		if err := m.checkKey(key); err != nil {
			return nil, err
		}
		i := m.htab.find(key)
		if i < 0 {
			return nil, errno.ENOENT
		}
		return *m.htab.obj(i), nil
	}
	return nil, errno.EINVAL
}

// Update is bpf_map_update_elem as a program on cpu calls it (and as user space does for maps
// without per-CPU values): value must be ValueSize bytes. Per-CPU maps write cpu's value only (a
// new per-CPU hash element gets zeros on the other CPUs). Errors follow the kernel: EINVAL for
// unknown flags, E2BIG for an array index out of range or a full hash map, EEXIST for
// UpdateNoExist on a present key (always on arrays), ENOENT for UpdateExist on a missing key.
// LRU maps evict instead of failing when full. Queues and stacks push (key must be empty).
// Ring buffers give ENOTSUPP. For prog_array, maps of maps and xskmap the value is a 4-byte ID
// that the resolver (SetResolver) turns into the object; see UpdateObject.
func (m *Map) Update(key, value []byte, flags uint64, cpu int) error {
	if m.kind == kQueue || m.kind == kStack {
		if len(key) != 0 {
			return errno.EINVAL
		}
		return m.Push(value, flags)
	}
	if m.kind == kRingBuf {
		return errno.ENOTSUPP
	}
	if m.kind == kControl {
		return m.controlUpdate(key, value, flags, true)
	}
	if len(value) != int(m.spec.ValueSize) {
		return errno.EINVAL
	}
	if m.percpu() || m.isLRU() {
		if err := m.checkCPU(cpu); err != nil {
			return err
		}
	}
	return m.update(key, value, nil, flags, cpu, false)
}

// UpdatePerCPU is bpf_map_update_elem from user space on a per-CPU map: values holds one value
// per CPU (NumCPU of them). On other maps it takes exactly one value and is Update on CPU 0.
func (m *Map) UpdatePerCPU(key []byte, values [][]byte, flags uint64) error {
	if !m.percpu() {
		if len(values) != 1 {
			return errno.EINVAL
		}
		return m.Update(key, values[0], flags, 0)
	}
	if len(values) != m.ncpu {
		return errno.EINVAL
	}
	for _, v := range values {
		if len(v) != int(m.spec.ValueSize) {
			return errno.EINVAL
		}
	}
	return m.update(key, nil, values, flags, 0, true)
}

// UpdateObject stores an object in a prog_array (a program), array_of_maps or hash_of_maps (a
// *Map compatible with the inner spec; EINVAL otherwise) or xskmap (a socket) entry, with the
// flag rules of the kernel's fd-map updates. The entry's 4-byte value becomes the object's ID if
// it has an `ID() uint32` method, else 0.
func (m *Map) UpdateObject(key []byte, obj any, flags uint64) error {
	if !m.holdsObjects() {
		return errno.EINVAL
	}
	if obj == nil {
		return errno.EINVAL
	}
	val := make([]byte, 4)
	if o, ok := obj.(interface{ ID() uint32 }); ok {
		binary.LittleEndian.PutUint32(val, o.ID())
	}
	return m.update(key, val, nil, flags, 0, false, obj)
}

// update does all updates. Exactly one of value (one value, for cpu) and values (all CPUs) is
// set. objs optionally carries the object of an fd-map entry.
func (m *Map) update(key, value []byte, values [][]byte, flags uint64, cpu int, all bool, objs ...any) error {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	// One return here, so that the defer is open-coded (see Lookup).
	return m.updateLocked(key, value, values, flags, cpu, all, objs...)
}

// updateLocked is update with the map's lock held, if it has one.
func (m *Map) updateLocked(key, value []byte, values [][]byte, flags uint64, cpu int, all bool, objs ...any) error {
	setVals := func(h *hashStore, i int32, fresh bool) {
		if all {
			for c := range h.nvals {
				m.write(h.val(i, c), values[c])
			}
			return
		}
		if h.nvals == 1 {
			if flags&UpdateLock != 0 && m.spec.SpinLock {
				m.writeLocked(h.val(i, 0), value)
			} else {
				m.write(h.val(i, 0), value)
			}
			return
		}
		for c := range h.nvals {
			if c == cpu {
				m.write(h.val(i, c), value)
			} else if fresh {
				copy(h.val(i, c), m.zeros)
			}
		}
	}
	var obj any
	if len(objs) > 0 {
		obj = objs[0]
	}
	switch m.kind {
	case kArray, kPerCPUArray:
		idx, err := index32(key)
		if err != nil {
			return err
		}
		if all {
			// bpf_percpu_array_update
			if flags > UpdateExist {
				return errno.EINVAL
			}
		} else if flags&^UpdateLock > UpdateExist {
			return errno.EINVAL
		}
		if idx >= m.arr.n {
			return errno.E2BIG
		}
		if flags&UpdateNoExist != 0 {
			return errno.EEXIST
		}
		if flags&UpdateLock != 0 && !m.spec.SpinLock {
			return errno.EINVAL
		}
		switch {
		case all:
			for c := range m.arr.data {
				copy(m.arr.value(idx, c), values[c])
			}
		case m.kind == kPerCPUArray:
			copy(m.arr.value(idx, cpu), value)
		case flags&UpdateLock != 0:
			m.writeLocked(m.arr.value(idx, 0), value)
		default:
			m.write(m.arr.value(idx, 0), value)
		}
		return nil

	case kHash, kHashOfMaps:
		if err := m.checkKey(key); err != nil {
			return err
		}
		if flags&^UpdateLock > UpdateExist {
			return errno.EINVAL
		}
		if flags&UpdateLock != 0 && !m.spec.SpinLock {
			return errno.EINVAL
		}
		if m.kind == kHashOfMaps {
			var err error
			if obj == nil {
				obj, err = m.resolveObject(value)
			} else {
				err = m.checkInner(obj)
			}
			if err != nil {
				return err
			}
		}
		h := m.htab
		old := h.find(key)
		if err := checkFlags(old >= 0, flags&^UpdateLock); err != nil {
			return err
		}
		if old >= 0 {
			setVals(h, old, false)
			if flags&UpdateLock == 0 {
				h.moveToHead(old)
			}
			if obj != nil {
				*h.obj(old) = obj
			}
			return nil
		}
		i := h.alloc()
		if i < 0 {
			return errno.E2BIG
		}
		h.insert(i, key)
		setVals(h, i, true)
		if obj != nil {
			*h.obj(i) = obj
		}
		return nil

	case kPerCPUHash:
		if err := m.checkKey(key); err != nil {
			return err
		}
		if flags > UpdateExist {
			return errno.EINVAL
		}
		h := m.htab
		old := h.find(key)
		if err := checkFlags(old >= 0, flags); err != nil {
			return err
		}
		if old >= 0 {
			setVals(h, old, false)
			return nil
		}
		i := h.alloc()
		if i < 0 {
			return errno.E2BIG
		}
		h.insert(i, key)
		setVals(h, i, true)
		return nil

	case kLRUHash:
		if err := m.checkKey(key); err != nil {
			return err
		}
		if flags > UpdateExist {
			return errno.EINVAL
		}
		h := m.htab
		// The kernel takes a free element first, which may evict, even if the key exists.
		n := h.lru.pop(cpu)
		if n < 0 {
			return errno.ENOMEM
		}
		h.chunk(n)
		old := h.find(key)
		if err := checkFlags(old >= 0, flags); err != nil {
			h.lru.push(n)
			return err
		}
		if old < 0 {
			h.insert(n, key)
			setVals(h, n, true)
			return nil
		}
		// The new element replaces the old one, referenced. Keep the key's storage by swapping
		// the two elements' LRU positions instead of moving the key.
		setVals(h, old, false)
		h.lru.swap(old, n)
		h.lru.setRef(old)
		h.moveToHead(old)
		h.lru.push(n)
		return nil

	case kLRUPerCPUHash:
		if err := m.checkKey(key); err != nil {
			return err
		}
		if flags > UpdateExist {
			return errno.EINVAL
		}
		h := m.htab
		n := int32(-1)
		if flags != UpdateExist {
			if n = h.lru.pop(cpu); n < 0 {
				return errno.ENOMEM
			}
			h.chunk(n)
		}
		old := h.find(key)
		if err := checkFlags(old >= 0, flags); err != nil {
			if n >= 0 {
				h.lru.push(n)
			}
			return err
		}
		if old >= 0 {
			h.lru.setRef(old)
			setVals(h, old, false)
			if n >= 0 {
				h.lru.push(n)
			}
			return nil
		}
		h.insert(n, key)
		setVals(h, n, true)
		return nil

	case kDevMapHash:
		if err := m.checkKey(key); err != nil {
			return err
		}
		if flags > UpdateExist || binary.LittleEndian.Uint32(value) == 0 {
			return errno.EINVAL
		}
		h := m.htab
		old := h.find(key)
		if old >= 0 && flags&UpdateNoExist != 0 {
			return errno.EEXIST
		}
		if old >= 0 {
			copy(h.val(old, 0), value)
			h.moveToHead(old)
			return nil
		}
		i := h.alloc()
		if i < 0 {
			return errno.E2BIG
		}
		h.insert(i, key)
		copy(h.val(i, 0), value)
		return nil

	case kLPMTrie:
		if err := m.checkKey(key); err != nil {
			return err
		}
		return m.trie.update(key, value, flags, m.write)

	case kDevMap, kCPUMap, kXSKMap, kProgArray, kArrayOfMaps, kPerfEventArray:
		idx, err := index32(key)
		if err != nil {
			return err
		}
		return m.updateSlot(idx, value, flags, obj)
	}
	return errno.EINVAL
}

func checkFlags(exists bool, flags uint64) error {
	if exists && flags == UpdateNoExist {
		return errno.EEXIST
	}
	if !exists && flags == UpdateExist {
		return errno.ENOENT
	}
	return nil
}

func (m *Map) resolveObject(value []byte) (any, error) {
	if m.resolve == nil {
		return nil, errno.EINVAL
	}
	obj, err := m.resolve(binary.LittleEndian.Uint32(value))
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errno.EINVAL
	}
	if err := m.checkInner(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func (m *Map) checkInner(obj any) error {
	if m.kind != kArrayOfMaps && m.kind != kHashOfMaps {
		return nil
	}
	inner, ok := obj.(*Map)
	if !ok || !m.spec.Inner.compatible(inner) {
		return errno.EINVAL
	}
	return nil
}

// updateSlot updates the array-indexed maps with optional entries.
func (m *Map) updateSlot(idx uint32, value []byte, flags uint64, obj any) error {
	s := m.slots
	switch m.kind {
	case kProgArray, kArrayOfMaps, kPerfEventArray:
		// bpf_fd_array_map_update_elem
		if flags != UpdateAny {
			return errno.EINVAL
		}
		if idx >= s.n {
			return errno.E2BIG
		}
		if m.kind != kPerfEventArray {
			if obj == nil {
				var err error
				if obj, err = m.resolveObject(value); err != nil {
					return err
				}
			} else if err := m.checkInner(obj); err != nil {
				return err
			}
		}
	case kDevMap:
		if flags > UpdateExist {
			return errno.EINVAL
		}
		if idx >= s.n {
			return errno.E2BIG
		}
		if flags == UpdateNoExist {
			return errno.EEXIST
		}
		if binary.LittleEndian.Uint32(value) == 0 {
			// ifindex 0 empties the slot; a program fd may not come with it.
			if len(value) == 8 && int32(binary.LittleEndian.Uint32(value[4:])) > 0 {
				return errno.EINVAL
			}
			s.clearSlot(idx)
			return nil
		}
	case kCPUMap:
		if flags > UpdateExist {
			return errno.EINVAL
		}
		if idx >= s.n {
			return errno.E2BIG
		}
		if flags == UpdateNoExist {
			return errno.EEXIST
		}
		qsize := binary.LittleEndian.Uint32(value)
		if qsize > 16384 {
			return errno.EOVERFLOW
		}
		if idx >= uint32(m.ncpu) {
			return errno.ENODEV
		}
		if qsize == 0 {
			s.clearSlot(idx)
			return nil
		}
	case kXSKMap:
		if flags > UpdateExist {
			return errno.EINVAL
		}
		if idx >= s.n {
			return errno.E2BIG
		}
		if obj == nil && m.resolve != nil {
			var err error
			if obj, err = m.resolveObject(value); err != nil {
				return err
			}
		}
		if err := checkFlags(s.present[idx], flags); err != nil {
			return err
		}
	}
	s.present[idx] = true
	copy(s.value(idx), value)
	if s.objs != nil {
		s.objs[idx] = obj
	}
	return nil
}

// Delete is bpf_map_delete_elem. Array maps give EINVAL (their elements cannot be deleted); a
// missing key gives ENOENT, except on devmap, cpumap and xskmap, whose delete of an empty slot
// succeeds (and of an index out of range gives EINVAL), while prog_array, array_of_maps and
// perf_event_array give E2BIG out of range and ENOENT for an empty slot.
func (m *Map) Delete(key []byte) error {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	switch m.kind {
	case kArray, kPerCPUArray, kQueue, kStack, kControl:
		return errno.EINVAL
	case kRingBuf:
		return errno.ENOTSUPP
	case kHash, kPerCPUHash, kLRUHash, kLRUPerCPUHash, kHashOfMaps, kDevMapHash:
		if err := m.checkKey(key); err != nil {
			return err
		}
		h := m.htab
		i := h.find(key)
		if i < 0 {
			return errno.ENOENT
		}
		h.remove(i)
		if h.lru != nil {
			h.lru.push(i)
		} else {
			h.release(i)
		}
		return nil
	case kLPMTrie:
		if err := m.checkKey(key); err != nil {
			return err
		}
		return m.trie.delete(key)
	case kDevMap, kCPUMap, kXSKMap:
		idx, err := index32(key)
		if err != nil {
			return err
		}
		if idx >= m.slots.n {
			return errno.EINVAL
		}
		m.slots.clearSlot(idx)
		return nil
	case kProgArray, kArrayOfMaps, kPerfEventArray:
		idx, err := index32(key)
		if err != nil {
			return err
		}
		if idx >= m.slots.n {
			return errno.E2BIG
		}
		if !m.slots.present[idx] {
			return errno.ENOENT
		}
		m.slots.clearSlot(idx)
		return nil
	}
	return errno.EINVAL
}

// NextKey is bpf_map_get_next_key: the key after key in the kernel's iteration order, or the
// first key if key is nil (or, for hash maps and LPM tries, not in the map). Array-indexed maps go
// by index (an index out of range restarts at 0); hash maps go by bucket, which with the
// simulator's zero hash seed is the kernel's order for BPF_F_ZERO_SEED maps; LPM tries go in
// post-order (more specific prefixes first). The last key gives ENOENT.
func (m *Map) NextKey(key []byte) ([]byte, error) {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	switch m.kind {
	case kArray, kPerCPUArray, kDevMap, kCPUMap, kXSKMap, kProgArray, kArrayOfMaps, kPerfEventArray:
		idx := uint32(0xffffffff)
		if key != nil {
			var err error
			if idx, err = index32(key); err != nil {
				return nil, err
			}
		}
		next := uint32(0)
		if idx < m.max {
			if idx == m.max-1 {
				return nil, errno.ENOENT
			}
			next = idx + 1
		}
		return binary.LittleEndian.AppendUint32(nil, next), nil
	case kHash, kPerCPUHash, kLRUHash, kLRUPerCPUHash, kHashOfMaps, kDevMapHash:
		if key != nil {
			if err := m.checkKey(key); err != nil {
				return nil, err
			}
		}
		i := m.htab.nextKey(key)
		if i < 0 {
			return nil, errno.ENOENT
		}
		return append([]byte(nil), m.htab.key(i)...), nil
	case kLPMTrie:
		if key != nil {
			if err := m.checkKey(key); err != nil {
				return nil, err
			}
		}
		nd, err := m.trie.nextKey(key)
		if err != nil {
			return nil, err
		}
		return m.trie.key(nd), nil
	case kRingBuf:
		return nil, errno.ENOTSUPP
	case kControl:
		return m.controlNextKey(key)
	}
	return nil, errno.EINVAL
}

// ForEach is bpf_for_each_map_elem run on cpu: it calls fn with each element's key and value
// (cpu's value for per-CPU maps) in the kernel's order, aliasing the map, until fn returns false,
// and returns how many times it called fn (the helper's return value, the stopping call
// included). Array maps visit every index. fn may update or delete elements. Only array and hash
// maps (plain, per-CPU, LRU) support it; others give EINVAL.
func (m *Map) ForEach(cpu int, fn func(key, value []byte) bool) (int, error) {
	n := 0
	switch m.kind {
	case kArray, kPerCPUArray:
		c := 0
		if m.kind == kPerCPUArray {
			if err := m.checkCPU(cpu); err != nil {
				return 0, err
			}
			c = cpu
		}
		var key [4]byte
		for i := uint32(0); i < m.arr.n; i++ {
			binary.LittleEndian.PutUint32(key[:], i)
			n++
			if !fn(key[:], m.arr.value(i, c)) {
				break
			}
		}
		return n, nil
	case kHash, kPerCPUHash, kLRUHash, kLRUPerCPUHash:
		h := m.htab
		c := 0
		if h.nvals > 1 {
			if err := m.checkCPU(cpu); err != nil {
				return 0, err
			}
			c = cpu
		}
		if m.shared {
			return m.forEachShared(c, fn)
		}
		h.each(func(i int32) bool {
			n++
			return fn(h.key(i), h.val(i, c))
		})
		return n, nil
	}
	return 0, errno.EINVAL
}

// forEachShared is ForEach on a shared hash map: fn may update or delete elements of the map,
// which takes its lock, so the lock is held only to list the elements and then to visit each one
// that is still there (as the kernel walks its buckets under RCU, an element deleted meanwhile is
// skipped; one reused meanwhile is visited as it now is).
func (m *Map) forEachShared(c int, fn func(key, value []byte) bool) (int, error) {
	h := m.htab
	m.mu.Lock()
	var elems []int32
	h.each(func(i int32) bool {
		elems = append(elems, i)
		return true
	})
	m.mu.Unlock()
	n := 0
	for _, i := range elems {
		m.mu.Lock()
		live := h.meta(i).live
		var key, val []byte
		if live {
			key, val = h.key(i), h.val(i, c)
		}
		m.mu.Unlock()
		if !live {
			continue
		}
		n++
		if !fn(key, val) {
			break
		}
	}
	return n, nil
}

// LookupPerCPU is bpf_map_lookup_elem from user space: copies of the value, one per CPU for
// per-CPU maps and a single one otherwise. It does not mark LRU elements as used, and shows
// spin lock bytes as zero. Queues and stacks (with an empty key) peek.
func (m *Map) LookupPerCPU(key []byte) ([][]byte, error) {
	switch m.kind {
	case kPerCPUArray:
		idx, err := index32(key)
		if err != nil {
			return nil, err
		}
		if idx >= m.arr.n {
			return nil, errno.ENOENT
		}
		out := make([][]byte, m.ncpu)
		for c := range out {
			out[c] = m.readOut(m.arr.value(idx, c))
		}
		return out, nil
	case kPerCPUHash, kLRUPerCPUHash, kLRUHash:
		if err := m.checkKey(key); err != nil {
			return nil, err
		}
		h := m.htab
		i := h.find(key)
		if i < 0 {
			return nil, errno.ENOENT
		}
		out := make([][]byte, h.nvals)
		for c := range out {
			out[c] = m.readOut(h.val(i, c))
		}
		return out, nil
	case kQueue, kStack:
		if len(key) != 0 {
			return nil, errno.EINVAL
		}
		v := make([]byte, m.spec.ValueSize)
		if err := m.Peek(v); err != nil {
			return nil, err
		}
		return [][]byte{v}, nil
	}
	v, err := m.Lookup(key, 0)
	if err != nil {
		return nil, err
	}
	return [][]byte{m.readOut(v)}, nil
}

// Iterate calls fn for every element in the kernel's iteration order, with its key and its
// value(s) (one per CPU for per-CPU maps), until fn returns false. Keys and values alias the map
// and are valid during fn only; fn must not add or delete elements. Array maps list every
// index; devmap, cpumap, xskmap, prog_array, array_of_maps and perf_event_array list present
// entries; queues and stacks list values in pop order with empty keys; ring buffers list
// nothing.
func (m *Map) Iterate(fn func(key []byte, values [][]byte) bool) {
	vals := make([][]byte, 1, max(m.ncpu, 1))
	switch {
	case m.arr != nil:
		var key [4]byte
		for i := uint32(0); i < m.arr.n; i++ {
			binary.LittleEndian.PutUint32(key[:], i)
			vals = vals[:0]
			for c := range m.arr.data {
				vals = append(vals, m.arr.value(i, c))
			}
			if !fn(key[:], vals) {
				return
			}
		}
	case m.slots != nil:
		var key [4]byte
		for i := uint32(0); i < m.slots.n; i++ {
			if !m.slots.present[i] {
				continue
			}
			binary.LittleEndian.PutUint32(key[:], i)
			vals[0] = m.slots.value(i)
			if !fn(key[:], vals) {
				return
			}
		}
	case m.htab != nil:
		h := m.htab
		h.each(func(i int32) bool {
			vals = vals[:0]
			for c := range h.nvals {
				vals = append(vals, h.val(i, c))
			}
			return fn(h.key(i), vals)
		})
	case m.trie != nil:
		m.trie.each(func(nd *lpmNode) bool {
			vals[0] = nd.value
			return fn(m.trie.key(nd), vals)
		})
	case m.qs != nil:
		m.qs.each(func(v []byte) bool {
			vals[0] = v
			return fn(nil, vals)
		})
	case m.ctrl != nil && m.ctrl.backend != nil:
		for _, key := range m.ctrl.backend.Keys() {
			v, err := m.controlLookup(key)
			if err != nil {
				continue
			}
			vals[0] = v
			if !fn(key, vals) {
				return
			}
		}
	}
}

// Push is bpf_map_push_elem on a queue or stack: E2BIG when full unless flags is UpdateExist,
// which drops the oldest element to make room; EINVAL for other flags or map types.
func (m *Map) Push(value []byte, flags uint64) error {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	if m.qs == nil || len(value) != int(m.spec.ValueSize) {
		return errno.EINVAL
	}
	return m.qs.push(value, flags)
}

// Pop is bpf_map_pop_elem: it copies the next element (the oldest of a queue, the newest of a
// stack) into dst and removes it; an empty map gives ENOENT and zeroes dst.
func (m *Map) Pop(dst []byte) error {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	if m.qs == nil || len(dst) != int(m.spec.ValueSize) {
		return errno.EINVAL
	}
	return m.qs.get(dst, true)
}

// Peek is bpf_map_peek_elem: Pop without removing.
func (m *Map) Peek(dst []byte) error {
	if m.locks() {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	if m.qs == nil || len(dst) != int(m.spec.ValueSize) {
		return errno.EINVAL
	}
	return m.qs.get(dst, false)
}

// LookupAndDelete is BPF_MAP_LOOKUP_AND_DELETE_ELEM from user space: for queues and stacks (key
// empty) a pop, for hash maps a copy of the value(s) followed by a delete.
func (m *Map) LookupAndDelete(key []byte) ([][]byte, error) {
	switch m.kind {
	case kQueue, kStack:
		if len(key) != 0 {
			return nil, errno.EINVAL
		}
		v := make([]byte, m.spec.ValueSize)
		if err := m.Pop(v); err != nil {
			return nil, err
		}
		return [][]byte{v}, nil
	case kHash, kPerCPUHash, kLRUHash, kLRUPerCPUHash:
		vals, err := m.LookupPerCPU(key)
		if err != nil {
			return nil, err
		}
		return vals, m.Delete(key)
	}
	return nil, errno.EINVAL
}
