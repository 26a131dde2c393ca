package maps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/xdpsim/xdpsim/errno"
)

// Update flags of bpf_map_update_elem, as the kernel numbers them.
const (
	// UpdateAny (BPF_ANY) creates a new element or replaces an existing one.
	UpdateAny uint64 = 0
	// UpdateNoExist (BPF_NOEXIST) creates a new element only; EEXIST if the key is present.
	UpdateNoExist uint64 = 1
	// UpdateExist (BPF_EXIST) replaces an existing element only; ENOENT if the key is missing.
	// On queue and stack maps it makes a push on a full map drop the oldest element.
	UpdateExist uint64 = 2
	// UpdateLock (BPF_F_LOCK) updates the value under its embedded bpf_spin_lock.
	UpdateLock uint64 = 4
)

// Map creation flags (map_flags of BPF_MAP_CREATE), as the kernel numbers them.
const (
	// FlagNoPrealloc (BPF_F_NO_PREALLOC) allocates hash elements on demand; required by LPM tries.
	FlagNoPrealloc uint32 = 1 << 0
	// FlagNoCommonLRU (BPF_F_NO_COMMON_LRU) gives every CPU its own LRU list.
	FlagNoCommonLRU uint32 = 1 << 1
	// FlagNumaNode (BPF_F_NUMA_NODE) places the map on a NUMA node (no effect in the simulator).
	FlagNumaNode uint32 = 1 << 2
	// FlagRdonly (BPF_F_RDONLY) makes the map read-only from user space.
	FlagRdonly uint32 = 1 << 3
	// FlagWronly (BPF_F_WRONLY) makes the map write-only from user space.
	FlagWronly uint32 = 1 << 4
	// FlagStackBuildID (BPF_F_STACK_BUILD_ID) belongs to stack trace maps.
	FlagStackBuildID uint32 = 1 << 5
	// FlagZeroSeed (BPF_F_ZERO_SEED) seeds the hash function with zero. The simulator always
	// hashes with seed zero, which makes its hash iteration order the kernel's order for maps
	// created with this flag.
	FlagZeroSeed uint32 = 1 << 6
	// FlagRdonlyProg (BPF_F_RDONLY_PROG) makes the map read-only for programs.
	FlagRdonlyProg uint32 = 1 << 7
	// FlagWronlyProg (BPF_F_WRONLY_PROG) makes the map write-only for programs.
	FlagWronlyProg uint32 = 1 << 8
	// FlagClone (BPF_F_CLONE) belongs to socket storage maps.
	FlagClone uint32 = 1 << 9
	// FlagMmapable (BPF_F_MMAPABLE) allows mmap of array maps.
	FlagMmapable uint32 = 1 << 10
	// FlagPreserveElems (BPF_F_PRESERVE_ELEMS) keeps perf event array entries when the map's
	// file is closed.
	FlagPreserveElems uint32 = 1 << 11
	// FlagInnerMap (BPF_F_INNER_MAP) lets inner maps of a map-in-map differ in max_entries.
	FlagInnerMap uint32 = 1 << 12
)

const flagAccessMask = FlagRdonly | FlagWronly | FlagRdonlyProg | FlagWronlyProg

// Limits the kernel applies when it creates maps (x86-64 values).
const (
	// pcpuMinUnitSize is PCPU_MIN_UNIT_SIZE: the largest rounded value of a per-CPU map.
	pcpuMinUnitSize = 32 << 10
	// kmallocMaxSize is KMALLOC_MAX_SIZE on x86-64 (order-10 pages).
	kmallocMaxSize = 4 << 20
	// htabElemSize approximates sizeof(struct htab_elem).
	htabElemSize = 48
	// nrCPUs is the NR_CPUS of distribution kernels, the cpumap size limit.
	nrCPUs = 8192
	// pageSize is the page size ring buffers are measured in.
	pageSize = 4096
	// simMaxBytes bounds what the simulator preallocates for one map; the kernel would fail such
	// a map with ENOMEM on most machines too.
	simMaxBytes = 1 << 34
)

// Spec describes a map as BPF_MAP_CREATE takes it.
type Spec struct {
	// Name names the map in errors and dumps.
	Name string
	// Type is the map type, one of cilium/ebpf's ebpf.MapType constants.
	Type ebpf.MapType
	// KeySize, ValueSize, MaxEntries and Flags are the kernel's map attributes.
	KeySize, ValueSize, MaxEntries, Flags uint32
	// Inner is the template of the maps an ArrayOfMaps or HashOfMaps holds.
	Inner *Spec
	// SpinLock says the value embeds a struct bpf_spin_lock at SpinLockOffset. Such maps accept
	// UpdateLock, and updates never overwrite the four lock bytes.
	SpinLock bool
	// SpinLockOffset is the byte offset of the bpf_spin_lock within the value.
	SpinLockOffset uint32
	// Extra is map_extra; for a Control map, the ctrl_type (ControlXDPAttr).
	Extra uint64
}

// SpecError is the error New returns for a spec the kernel would refuse. It unwraps to the Errno
// the kernel's BPF_MAP_CREATE returns.
type SpecError struct {
	// Map is the map's name.
	Map string
	// Reason says what is wrong, in words.
	Reason string
	// Errno is the kernel's error number for it.
	Errno errno.Errno
}

// Error names the map, the reason and the errno.
func (e *SpecError) Error() string {
	return fmt.Sprintf("map %q: %s (%s)", e.Map, e.Reason, e.Errno.Name())
}

// Unwrap returns the Errno, so errors.Is(err, errno.EINVAL) works.
func (e *SpecError) Unwrap() error { return e.Errno }

func specErr(s *Spec, errno errno.Errno, format string, args ...any) error {
	return &SpecError{Map: s.Name, Reason: fmt.Sprintf(format, args...), Errno: errno}
}

// typeName gives the kernel's name of a map type, for error messages.
func typeName(t ebpf.MapType) string {
	switch t {
	case ebpf.Array:
		return "array"
	case ebpf.PerCPUArray:
		return "percpu_array"
	case ebpf.Hash:
		return "hash"
	case ebpf.PerCPUHash:
		return "percpu_hash"
	case ebpf.LRUHash:
		return "lru_hash"
	case ebpf.LRUCPUHash:
		return "lru_percpu_hash"
	case ebpf.LPMTrie:
		return "lpm_trie"
	case ebpf.ProgramArray:
		return "prog_array"
	case ebpf.ArrayOfMaps:
		return "array_of_maps"
	case ebpf.HashOfMaps:
		return "hash_of_maps"
	case ebpf.Queue:
		return "queue"
	case ebpf.Stack:
		return "stack"
	case ebpf.RingBuf:
		return "ringbuf"
	case ebpf.PerfEventArray:
		return "perf_event_array"
	case ebpf.DevMap:
		return "devmap"
	case ebpf.DevMapHash:
		return "devmap_hash"
	case ebpf.CPUMap:
		return "cpumap"
	case ebpf.XSKMap:
		return "xskmap"
	case Control:
		return "control"
	}
	return t.String()
}

// validate applies the checks of each map type's map_alloc_check / map_alloc in the kernel.
func (s *Spec) validate() error {
	tn := typeName(s.Type)
	if s.Flags&FlagRdonly != 0 && s.Flags&FlagWronly != 0 {
		return specErr(s, errno.EINVAL, "flags BPF_F_RDONLY and BPF_F_WRONLY exclude each other")
	}
	if s.Flags&FlagRdonlyProg != 0 && s.Flags&FlagWronlyProg != 0 {
		return specErr(s, errno.EINVAL, "flags BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other")
	}
	if s.SpinLock && (uint64(s.SpinLockOffset)+4 > uint64(s.ValueSize) || s.SpinLockOffset%4 != 0) {
		return specErr(s, errno.EINVAL, "bpf_spin_lock at offset %d does not fit a %d-byte value", s.SpinLockOffset, s.ValueSize)
	}
	switch s.Type {
	case ebpf.Array, ebpf.PerCPUArray:
		return s.validateArray(tn)
	case ebpf.ProgramArray, ebpf.PerfEventArray, ebpf.ArrayOfMaps:
		if s.ValueSize != 4 {
			return specErr(s, errno.EINVAL, "%s value size must be 4, not %d", tn, s.ValueSize)
		}
		if s.Flags&(FlagRdonlyProg|FlagWronlyProg) != 0 {
			return specErr(s, errno.EINVAL, "%s does not take BPF_F_RDONLY_PROG or BPF_F_WRONLY_PROG", tn)
		}
		if err := s.validateArray(tn); err != nil {
			return err
		}
		if s.Type == ebpf.ArrayOfMaps {
			return s.validateInner()
		}
		return nil
	case ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash, ebpf.LRUCPUHash, ebpf.HashOfMaps:
		if s.Type == ebpf.HashOfMaps && s.ValueSize != 4 {
			return specErr(s, errno.EINVAL, "%s value size must be 4, not %d", tn, s.ValueSize)
		}
		if err := s.validateHash(tn); err != nil {
			return err
		}
		if s.Type == ebpf.HashOfMaps {
			return s.validateInner()
		}
		return nil
	case ebpf.LPMTrie:
		switch {
		case s.MaxEntries == 0:
			return specErr(s, errno.EINVAL, "max_entries must not be 0")
		case s.Flags&FlagNoPrealloc == 0:
			return specErr(s, errno.EINVAL, "lpm_trie needs BPF_F_NO_PREALLOC")
		case s.Flags&^(FlagNoPrealloc|FlagNumaNode|flagAccessMask) != 0:
			return specErr(s, errno.EINVAL, "flags %#x not valid for lpm_trie", s.Flags)
		case s.KeySize < 5 || s.KeySize > 4+256:
			return specErr(s, errno.EINVAL, "lpm_trie key size must be 5 to 260 bytes (4-byte prefixlen and 1 to 256 data bytes), not %d", s.KeySize)
		case s.ValueSize == 0 || s.ValueSize > kmallocMaxSize-256-32:
			return specErr(s, errno.EINVAL, "lpm_trie value size %d out of range", s.ValueSize)
		}
		return nil
	case ebpf.Queue, ebpf.Stack:
		switch {
		case s.MaxEntries == 0:
			return specErr(s, errno.EINVAL, "max_entries must not be 0")
		case s.KeySize != 0:
			return specErr(s, errno.EINVAL, "%s key size must be 0, not %d", tn, s.KeySize)
		case s.ValueSize == 0:
			return specErr(s, errno.EINVAL, "value size must not be 0")
		case s.Flags&^(FlagNumaNode|flagAccessMask) != 0:
			return specErr(s, errno.EINVAL, "flags %#x not valid for %s", s.Flags, tn)
		case s.ValueSize > kmallocMaxSize:
			return specErr(s, errno.E2BIG, "value size %d above KMALLOC_MAX_SIZE", s.ValueSize)
		case (uint64(s.MaxEntries)+1)*uint64(s.ValueSize) > simMaxBytes:
			return specErr(s, errno.ENOMEM, "%s of %d x %d bytes is too large", tn, s.MaxEntries, s.ValueSize)
		}
		return nil
	case ebpf.RingBuf:
		switch {
		case s.Flags&^FlagNumaNode != 0:
			return specErr(s, errno.EINVAL, "flags %#x not valid for ringbuf", s.Flags)
		case s.KeySize != 0 || s.ValueSize != 0:
			return specErr(s, errno.EINVAL, "ringbuf key and value size must be 0")
		case s.MaxEntries == 0 || s.MaxEntries&(s.MaxEntries-1) != 0 || s.MaxEntries%pageSize != 0:
			return specErr(s, errno.EINVAL, "ringbuf max_entries (its size in bytes) must be a power of 2 and a multiple of the page size (%d), not %d", pageSize, s.MaxEntries)
		case uint64(s.MaxEntries)*2 > simMaxBytes:
			return specErr(s, errno.ENOMEM, "ringbuf of %d bytes is too large", s.MaxEntries)
		}
		return nil
	case ebpf.DevMap, ebpf.DevMapHash, ebpf.XSKMap, ebpf.CPUMap:
		mask := FlagNumaNode | FlagRdonly | FlagWronly
		sizes := "4 or 8"
		validSize := s.ValueSize == 4 || s.ValueSize == 8
		if s.Type == ebpf.XSKMap {
			sizes, validSize = "4", s.ValueSize == 4
		}
		if s.Type == ebpf.CPUMap {
			mask = FlagNumaNode
		}
		switch {
		case s.MaxEntries == 0:
			return specErr(s, errno.EINVAL, "max_entries must not be 0")
		case s.KeySize != 4:
			return specErr(s, errno.EINVAL, "%s key size must be 4, not %d", tn, s.KeySize)
		case !validSize:
			return specErr(s, errno.EINVAL, "%s value size must be %s, not %d", tn, sizes, s.ValueSize)
		case s.Flags&^mask != 0:
			return specErr(s, errno.EINVAL, "flags %#x not valid for %s", s.Flags, tn)
		case s.Type == ebpf.CPUMap && s.MaxEntries > nrCPUs:
			return specErr(s, errno.E2BIG, "cpumap max_entries %d above NR_CPUS (%d)", s.MaxEntries, nrCPUs)
		case s.Type == ebpf.DevMapHash && s.MaxEntries > 1<<31:
			return specErr(s, errno.EINVAL, "devmap_hash max_entries %d overflows the bucket count", s.MaxEntries)
		case uint64(s.MaxEntries)*uint64(s.ValueSize)*2 > simMaxBytes:
			return specErr(s, errno.ENOMEM, "%s with %d entries is too large", tn, s.MaxEntries)
		}
		return nil
	}
	if s.Type == Control {
		switch {
		case s.MaxEntries == 0:
			return specErr(s, errno.EINVAL, "max_entries must not be 0")
		case s.KeySize != 4:
			return specErr(s, errno.EINVAL, "control map key size must be 4 (the ifindex), not %d", s.KeySize)
		case s.ValueSize == 0:
			return specErr(s, errno.EINVAL, "value size must not be 0")
		case s.Flags&^(FlagNumaNode|flagAccessMask) != 0:
			return specErr(s, errno.EINVAL, "flags %#x not valid for a control map", s.Flags)
		case s.Extra != ControlXDPAttr:
			return specErr(s, errno.EINVAL, "control map ctrl_type (map_extra) %d is not XDP_ATTR (%d), the only one xdpsim models", s.Extra, ControlXDPAttr)
		}
		return nil
	}
	return specErr(s, errno.EINVAL, "map type %s is not supported by the simulator", s.Type)
}

func (s *Spec) validateArray(tn string) error {
	percpu := s.Type == ebpf.PerCPUArray
	mask := FlagNumaNode | FlagMmapable | flagAccessMask | FlagPreserveElems | FlagInnerMap
	switch {
	case s.MaxEntries == 0:
		return specErr(s, errno.EINVAL, "max_entries must not be 0")
	case s.KeySize != 4:
		return specErr(s, errno.EINVAL, "%s key size must be 4, not %d", tn, s.KeySize)
	case s.ValueSize == 0:
		return specErr(s, errno.EINVAL, "value size must not be 0")
	case s.Flags&^mask != 0:
		return specErr(s, errno.EINVAL, "flags %#x not valid for %s", s.Flags, tn)
	case percpu && s.Flags&FlagNumaNode != 0:
		return specErr(s, errno.EINVAL, "percpu_array does not take BPF_F_NUMA_NODE")
	case s.Type != ebpf.Array && s.Flags&(FlagMmapable|FlagInnerMap) != 0:
		return specErr(s, errno.EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for array maps")
	case s.Type != ebpf.PerfEventArray && s.Flags&FlagPreserveElems != 0:
		return specErr(s, errno.EINVAL, "BPF_F_PRESERVE_ELEMS is only for perf_event_array")
	case s.ValueSize > math.MaxInt32:
		return specErr(s, errno.E2BIG, "value size %d above INT_MAX", s.ValueSize)
	case percpu && roundUp8(s.ValueSize) > pcpuMinUnitSize:
		return specErr(s, errno.E2BIG, "percpu value size %d above PCPU_MIN_UNIT_SIZE (%d)", s.ValueSize, pcpuMinUnitSize)
	case uint64(s.MaxEntries)*uint64(roundUp8(s.ValueSize)) > simMaxBytes:
		return specErr(s, errno.ENOMEM, "%s of %d x %d bytes is too large", tn, s.MaxEntries, s.ValueSize)
	}
	return nil
}

func (s *Spec) validateHash(tn string) error {
	percpu := s.Type == ebpf.PerCPUHash || s.Type == ebpf.LRUCPUHash
	lru := s.Type == ebpf.LRUHash || s.Type == ebpf.LRUCPUHash
	mask := FlagNoPrealloc | FlagNoCommonLRU | FlagNumaNode | flagAccessMask | FlagZeroSeed
	switch {
	case s.Flags&^mask != 0:
		return specErr(s, errno.EINVAL, "flags %#x not valid for %s", s.Flags, tn)
	case !lru && s.Flags&FlagNoCommonLRU != 0:
		return specErr(s, errno.EINVAL, "BPF_F_NO_COMMON_LRU is only for LRU maps")
	case lru && s.Flags&FlagNoPrealloc != 0:
		return specErr(s, errno.ENOTSUPP, "LRU maps cannot take BPF_F_NO_PREALLOC")
	case s.Flags&FlagNumaNode != 0 && (percpu || s.Flags&FlagNoCommonLRU != 0):
		return specErr(s, errno.EINVAL, "per-CPU maps do not take BPF_F_NUMA_NODE")
	case s.MaxEntries == 0:
		return specErr(s, errno.EINVAL, "max_entries must not be 0")
	case s.KeySize == 0:
		return specErr(s, errno.EINVAL, "key size must not be 0")
	case s.ValueSize == 0:
		return specErr(s, errno.EINVAL, "value size must not be 0")
	case uint64(s.KeySize)+uint64(s.ValueSize) >= kmallocMaxSize-htabElemSize:
		return specErr(s, errno.E2BIG, "key size %d plus value size %d too large", s.KeySize, s.ValueSize)
	case percpu && roundUp8(s.ValueSize) > pcpuMinUnitSize:
		return specErr(s, errno.E2BIG, "percpu value size %d above PCPU_MIN_UNIT_SIZE (%d)", s.ValueSize, pcpuMinUnitSize)
	case nextPow2(s.MaxEntries) > 1<<28:
		return specErr(s, errno.E2BIG, "max_entries %d needs too many buckets", s.MaxEntries)
	}
	return nil
}

func (s *Spec) validateInner() error {
	if s.Inner == nil {
		return specErr(s, errno.EINVAL, "%s needs an inner map spec", typeName(s.Type))
	}
	if s.Inner.Type == ebpf.ArrayOfMaps || s.Inner.Type == ebpf.HashOfMaps {
		return specErr(s, errno.EINVAL, "inner map of %s must not be a map of maps", typeName(s.Type))
	}
	inner := *s.Inner
	if inner.Name == "" {
		inner.Name = s.Name + ".inner"
	}
	if err := inner.validate(); err != nil {
		return fmt.Errorf("map %q: inner map: %w", s.Name, err)
	}
	return nil
}

// compatible reports whether m may be stored in a map of maps whose inner template is s
// (the kernel's bpf_map_meta_equal).
func (s *Spec) compatible(m *Map) bool {
	o := &m.spec
	if s.Type != o.Type || s.KeySize != o.KeySize || s.ValueSize != o.ValueSize {
		return false
	}
	if s.Flags&^FlagInnerMap != o.Flags&^FlagInnerMap {
		return false
	}
	return s.Flags&FlagInnerMap != 0 || s.MaxEntries == o.MaxEntries
}

func roundUp8(n uint32) uint64 { return (uint64(n) + 7) &^ 7 }

func nextPow2(n uint32) uint64 {
	p := uint64(1)
	for p < uint64(n) {
		p <<= 1
	}
	return p
}

// SpecFromMapSpec converts a cilium/ebpf MapSpec, with the fix-ups cilium/ebpf applies before it
// creates a map (value size 4 for maps of maps; key and value size 4 and at most ncpu entries for
// perf event arrays; at most ncpu entries for cpumaps), and finds a bpf_spin_lock in the value's
// BTF.
func SpecFromMapSpec(ms *ebpf.MapSpec, ncpu int) (Spec, error) {
	if ms == nil {
		return Spec{}, errors.New("maps: nil MapSpec")
	}
	if ncpu <= 0 {
		ncpu = 1
	}
	s := Spec{
		Name:       ms.Name,
		Type:       ms.Type,
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
		Extra:      ms.MapExtra,
	}
	switch ms.Type {
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		if s.ValueSize != 0 && s.ValueSize != 4 {
			return s, specErr(&s, errno.EINVAL, "value size of a map of maps must be 0 or 4, not %d", s.ValueSize)
		}
		s.ValueSize = 4
	case ebpf.PerfEventArray:
		if s.KeySize != 0 && s.KeySize != 4 || s.ValueSize != 0 && s.ValueSize != 4 {
			return s, specErr(&s, errno.EINVAL, "perf_event_array key and value size must be 0 or 4")
		}
		s.KeySize, s.ValueSize = 4, 4
		if s.MaxEntries == 0 || s.MaxEntries > uint32(ncpu) {
			s.MaxEntries = uint32(ncpu)
		}
	case ebpf.CPUMap:
		if s.MaxEntries == 0 || s.MaxEntries > uint32(ncpu) {
			s.MaxEntries = uint32(ncpu)
		}
	}
	if ms.InnerMap != nil {
		inner, err := SpecFromMapSpec(ms.InnerMap, ncpu)
		if err != nil {
			return s, fmt.Errorf("map %q: inner map: %w", ms.Name, err)
		}
		if inner.Name == "" {
			inner.Name = ms.Name + ".inner"
		}
		s.Inner = &inner
	}
	if off, ok := spinLockOffset(ms.Value); ok {
		s.SpinLock, s.SpinLockOffset = true, off
	}
	return s, nil
}

// spinLockOffset finds a top-level struct bpf_spin_lock member of a value type.
func spinLockOffset(t btf.Type) (uint32, bool) {
	st, ok := btf.UnderlyingType(t).(*btf.Struct)
	if !ok {
		return 0, false
	}
	for _, m := range st.Members {
		if ms, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok && ms.Name == "bpf_spin_lock" {
			return m.Offset.Bytes(), true
		}
	}
	return 0, false
}

// FromMapSpec creates a map from a cilium/ebpf MapSpec (see SpecFromMapSpec) and writes its
// initial Contents. Contents with byte-slice or integer keys and values are written with
// UpdateAny (integers little-endian, sized to the key or value); program and map references
// (string names in prog arrays and maps of maps) are left to the loader, which links them with
// UpdateObject.
func FromMapSpec(ms *ebpf.MapSpec, ncpu int) (*Map, error) {
	s, err := SpecFromMapSpec(ms, ncpu)
	if err != nil {
		return nil, err
	}
	m, err := New(s, ncpu)
	if err != nil {
		return nil, err
	}
	if m.holdsObjects() {
		return m, nil
	}
	for i, kv := range ms.Contents {
		key, err := toBytes(kv.Key, int(s.KeySize))
		if err != nil {
			return nil, fmt.Errorf("map %q: contents[%d] key: %w", s.Name, i, err)
		}
		val, err := toBytes(kv.Value, int(s.ValueSize))
		if err != nil {
			return nil, fmt.Errorf("map %q: contents[%d] value: %w", s.Name, i, err)
		}
		if m.kind == kQueue || m.kind == kStack {
			err = m.Push(val, UpdateAny)
		} else if m.percpu() {
			vals := make([][]byte, m.ncpu)
			for c := range vals {
				vals[c] = val
			}
			err = m.UpdatePerCPU(key, vals, UpdateAny)
		} else {
			err = m.Update(key, val, UpdateAny, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("map %q: contents[%d]: %w", s.Name, i, err)
		}
	}
	return m, nil
}

// toBytes encodes a Contents key or value: byte slices as they are, integers little-endian in
// size bytes, anything else with encoding/binary.
func toBytes(v any, size int) ([]byte, error) {
	var u uint64
	signed := false
	switch x := v.(type) {
	case nil:
		if size == 0 {
			return nil, nil
		}
		return nil, errors.New("missing")
	case []byte:
		if len(x) != size {
			return nil, fmt.Errorf("%d bytes, want %d", len(x), size)
		}
		return x, nil
	case uint8:
		u = uint64(x)
	case uint16:
		u = uint64(x)
	case uint32:
		u = uint64(x)
	case uint64:
		u = x
	case int8:
		u, signed = uint64(x), x < 0
	case int16:
		u, signed = uint64(x), x < 0
	case int32:
		u, signed = uint64(x), x < 0
	case int64:
		u, signed = uint64(x), x < 0
	case int:
		u, signed = uint64(x), x < 0
	case uint:
		u = uint64(x)
	default:
		b, err := binary.Append(nil, binary.LittleEndian, v)
		if err != nil {
			return nil, err
		}
		if len(b) != size {
			return nil, fmt.Errorf("%T encodes to %d bytes, want %d", v, len(b), size)
		}
		return b, nil
	}
	if size > 8 {
		return nil, fmt.Errorf("integer %d for a %d-byte field", u, size)
	}
	b := binary.LittleEndian.AppendUint64(nil, u)
	fill := byte(0)
	if signed {
		fill = 0xff
	}
	for _, x := range b[size:] {
		if x != fill {
			return nil, fmt.Errorf("integer %d does not fit %d bytes", u, size)
		}
	}
	return b[:size], nil
}
