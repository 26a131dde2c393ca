package maps

import (
	"encoding/binary"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// Control is BPF_MAP_TYPE_CONTROL, the map type of the BPF control map proposal (Saeed Mahameed,
// iovisor-dev, March 2019), which never merged into Linux: a map that stores nothing and reaches
// the kernel objects of a subsystem instead (for ctrl_type XDP_ATTR: network devices, keyed by
// ifindex). The number is xdpsim's, outside the kernel's enum bpf_map_type, so that a real kernel
// refuses such a map (EINVAL).
const Control ebpf.MapType = 0x58430001

// ControlXDPAttr is the proposal's ctrl_type XDP_ATTR: network devices keyed by ifindex, with the
// value struct if_xdp_attributes. A control map takes its ctrl_type as map_extra.
const ControlXDPAttr = 1

// ControlBackend is what a control map's operations reach: the subsystem behind it. The map
// checks key sizes, flags and the CPU; the backend answers for the objects.
type ControlBackend interface {
	// Lookup writes the object's value for key into dst (the map's value size), as much as dst
	// holds; false when there is no such object.
	Lookup(key, dst []byte) bool
	// Update changes the object from val; program says a BPF program asks (otherwise user
	// space). The error should wrap an Errno.
	Update(key, val []byte, program bool) error
	// Keys lists the objects' keys in iteration order.
	Keys() [][]byte
}

// control holds a control map's backend and one value buffer per key, which program lookups
// return (refreshed at each lookup) so that a pointer a program holds stays valid.
type control struct {
	backend ControlBackend
	bufs    map[uint32][]byte
}

// SetControlBackend connects a control map to its backend (nil disconnects: every lookup misses
// and every update fails with ENODEV).
func (m *Map) SetControlBackend(b ControlBackend) {
	if m.ctrl != nil {
		m.ctrl.backend = b
	}
}

// ReadOnlyForPrograms reports whether programs may not write through the pointers the map's
// lookups return: control maps' values are snapshots that only bpf_map_update_elem changes.
func (m *Map) ReadOnlyForPrograms() bool { return m.kind == kControl }

// UpdateUser is bpf_map_update_elem from user space with one value (Update on CPU 0 for other
// maps; for a control map, the user-space side of the backend).
func (m *Map) UpdateUser(key, value []byte, flags uint64) error {
	if m.kind != kControl {
		return m.Update(key, value, flags, 0)
	}
	return m.controlUpdate(key, value, flags, false)
}

func (m *Map) controlLookup(key []byte) ([]byte, error) {
	if len(key) != 4 {
		return nil, errno.EINVAL
	}
	c := m.ctrl
	if c.backend == nil {
		return nil, errno.ENOENT
	}
	k := binary.LittleEndian.Uint32(key)
	buf := c.bufs[k]
	if buf == nil {
		buf = make([]byte, m.spec.ValueSize)
	}
	if !c.backend.Lookup(key, buf) {
		return nil, errno.ENOENT
	}
	if c.bufs[k] == nil {
		c.bufs[k] = buf
	}
	return buf, nil
}

func (m *Map) controlUpdate(key, value []byte, flags uint64, program bool) error {
	if len(key) != 4 || len(value) != int(m.spec.ValueSize) || flags > UpdateExist {
		return errno.EINVAL
	}
	c := m.ctrl
	if c.backend == nil {
		return errno.ENODEV
	}
	var probe [8]byte
	if !c.backend.Lookup(key, probe[:min(len(probe), int(m.spec.ValueSize))]) {
		return errno.ENOENT // no such object: there is no creating one through the map
	}
	if flags == UpdateNoExist {
		return errno.EEXIST
	}
	return c.backend.Update(key, value, program)
}

func (m *Map) controlNextKey(key []byte) ([]byte, error) {
	if key != nil && len(key) != 4 {
		return nil, errno.EINVAL
	}
	if m.ctrl.backend == nil {
		return nil, errno.ENOENT
	}
	keys := m.ctrl.backend.Keys()
	if key == nil {
		if len(keys) == 0 {
			return nil, errno.ENOENT
		}
		return keys[0], nil
	}
	for i, k := range keys {
		if string(k) == string(key) {
			if i+1 < len(keys) {
				return keys[i+1], nil
			}
			return nil, errno.ENOENT
		}
	}
	if len(keys) == 0 {
		return nil, errno.ENOENT
	}
	return keys[0], nil // a key that is gone restarts the walk, as for hash maps
}
