package vm

// A pointer in the machine is a 64-bit value that names a region and an offset into it:
//
//	bits 63..32  region number
//	bits 31..0   offset into the region's bytes
//
// Pointer arithmetic and comparisons between pointers into the same region behave as on the kernel,
// since they only touch the offset. Region 0 is never backed, so a NULL pointer (and any small scalar
// used as a pointer) faults. An offset that runs below zero borrows from the region number and lands
// far outside the previous region's bytes, so it faults too.
const regionShift = 32

// Address returns the pointer value for offset off in region id.
func Address(id int, off uint32) uint64 { return uint64(id)<<regionShift | uint64(off) }

// SplitAddress returns the region number and offset a pointer value names.
func SplitAddress(addr uint64) (id int, off uint32) {
	return int(addr >> regionShift), uint32(addr)
}

// Region numbers the machine owns. The host's regions follow them.
const (
	RegionNull  = 0
	RegionStack = 1
	RegionCode  = 2 // function addresses (lddw with BPF_PSEUDO_FUNC) point here; never accessible
	firstHost   = 3
)

// FirstHostRegion is the number the first region a host adds gets; regions are numbered in the order
// they are added, so a host that adds the same regions in the same order to every machine can bake
// their addresses into programs.
const FirstHostRegion = firstHost

// Region is a span of bytes a program may reach through pointers. Only Data[Lo:Hi] is accessible; the
// window can move while a program runs (an XDP packet's data_meta..data_end, say) without moving the
// bytes, so pointers taken earlier keep their meaning.
type Region struct {
	Data     []byte
	Lo, Hi   uint32
	ReadOnly bool
	// WideMask marks the fields of a context that a program reads with 4-byte loads yielding
	// 64-bit values (an XDP program's xdp_md, whose data, data_end and data_meta are pointers):
	// a 4-byte load at offset 4·i that the window refuses, for bit i set, yields the 8 bytes of
	// Data at 8·i as one little-endian value, before Load is asked (a sign-extending load extends
	// its low 32 bits, as it extends a Load answer). Engines serve these loads
	// without calling into the host, so the host keeps those bytes up to date instead.
	WideMask uint32
	// Load, when set, serves loads the window does not allow (the window may then be empty): it
	// gets the offset and size and answers the value, or false to fault. It exists for contexts
	// whose fields are not plain memory, as an XDP program's xdp_md, where a 4-byte load of data
	// yields a 64-bit packet pointer.
	Load func(m *Machine, off, size uint32) (uint64, bool)
	// Store, when set, serves stores the window does not allow: it gets the offset, the size and
	// the value (truncated to the size) and reports false to fault. It exists for contexts with
	// writable fields that are not plain memory, as a tc program's __sk_buff.
	Store func(m *Machine, off, size uint32, v uint64) bool
	// Name says what the region holds, for faults and traces: "stack", "packet", "ctx",
	// "map value (counters)".
	Name string
}

// wide answers a 4-byte load at off from the fields WideMask marks.
func (r *Region) wide(off uint32) (uint64, bool) {
	i := off / 4
	if off%4 != 0 || i >= 32 || r.WideMask&(1<<i) == 0 || uint64(i)*8+8 > uint64(len(r.Data)) {
		return 0, false
	}
	return le.Uint64(r.Data[i*8:]), true
}

// NewRegion returns a region whose whole data is accessible.
func NewRegion(name string, data []byte, readOnly bool) Region {
	return Region{Data: data, Lo: 0, Hi: uint32(len(data)), ReadOnly: readOnly, Name: name}
}

// StackSize is the stack of one frame; MaxFrames frames make up the machine's stack.
const (
	StackSize = 512
	MaxFrames = 8
)

// AddRegion adds a region that lives as long as the machine (a packet buffer, a context, a global
// variable's map value) and returns its number.
func (m *Machine) AddRegion(r Region) int {
	if m.running {
		panic("vm: AddRegion while a program runs; use AddTempRegion")
	}
	m.regions = append(m.regions, r)
	m.persistent = len(m.regions)
	return len(m.regions) - 1
}

// AddTempRegion adds a region that lives until the current run ends (a map value returned by a
// lookup, say) and returns the pointer to its first byte. The machine reuses the slot storage across
// runs, so steady-state runs do not allocate.
func (m *Machine) AddTempRegion(r Region) uint64 {
	m.regions = append(m.regions, r)
	return Address(len(m.regions)-1, 0)
}

// AddTempData is AddTempRegion of a plain region over data, named name: what a map lookup hands
// a program, once or more a packet. It writes the region's fields in place: AddTempRegion's
// region, built on the stack and copied in 16-byte moves, stalled on the 8-byte stores that built
// it (a third of the time of a map lookup helper).
func (m *Machine) AddTempData(data []byte, name string, readOnly bool) uint64 {
	n := len(m.regions)
	if n == cap(m.regions) {
		m.regions = append(m.regions, Region{})
	}
	m.regions = m.regions[:n+1]
	r := &m.regions[n]
	r.Data, r.Lo, r.Hi, r.ReadOnly, r.WideMask = data, 0, uint32(len(data)), readOnly, 0
	r.Load, r.Store, r.Name = nil, nil, name
	return Address(n, 0)
}

// Region returns region id, or nil if there is none.
func (m *Machine) Region(id int) *Region {
	if id < 0 || id >= len(m.regions) {
		return nil
	}
	return &m.regions[id]
}

// SetWindow moves the accessible window of region id.
func (m *Machine) SetWindow(id int, lo, hi uint32) {
	r := &m.regions[id]
	r.Lo, r.Hi = lo, hi
}

// Bytes gives a helper the n bytes at addr, checked as a program access would be. The returned slice
// aliases the region. write asks for a writable region.
func (m *Machine) Bytes(addr uint64, n int, write bool) ([]byte, error) {
	if n < 0 {
		return nil, m.fault(addr, n, accessHelper, "negative size")
	}
	id, off := SplitAddress(addr)
	if id >= len(m.regions) || id == RegionNull {
		return nil, m.fault(addr, n, accessHelper, "")
	}
	r := &m.regions[id]
	if off < r.Lo || uint64(off)+uint64(n) > uint64(r.Hi) || uint64(off)+uint64(n) > uint64(len(r.Data)) {
		return nil, m.fault(addr, n, accessHelper, "")
	}
	if write && r.ReadOnly {
		return nil, m.fault(addr, n, accessHelper, "region is read-only")
	}
	return r.Data[off : int(off)+n : int(off)+n], nil
}
