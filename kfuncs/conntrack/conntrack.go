// Package conntrack is the simulated kernel's connection tracking table, as the conntrack kfuncs
// of net/netfilter/nf_conntrack_bpf.c and nf_nat_bpf.c see and change it: entries keyed by their
// original and reply tuples within a zone, each with a status (enum ip_conntrack_status), a
// timeout in jiffies, a mark and, after NAT setup, a rewritten reply tuple. Entries expire on
// the virtual clock (Table.BeginRun), as the kernel's expire when their timeout passes.
//
// Each entry lives as a byte image of the kernel's struct nf_conn, laid out as the kernel BTF
// says (Layout), so that a program reading ct->status, ct->mark, ct->timeout or a tuple through the
// pointer a kfunc returned finds them where CO-RE put its offsets. Status, timeout and mark live in
// the image only: a program's write of ct->mark (the one field the kernel's verifier lets it
// write) is the entry's mark.
//
// Users preload the table and dump it as JSON records (Record). Nothing here knows about
// programs: package kfuncs implements the kfuncs over a Table.
package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/xdpsim/xdpsim/errno"
)

// Protocols the BPF conntrack kfuncs accept.
const (
	TCP = 6
	UDP = 17
)

// Status bits (enum ip_conntrack_status, include/uapi/linux/netfilter/nf_conntrack_common.h).
const (
	Expected     = 1 << 0
	SeenReply    = 1 << 1
	Assured      = 1 << 2
	Confirmed    = 1 << 3
	SrcNAT       = 1 << 4
	DstNAT       = 1 << 5
	SeqAdjust    = 1 << 6
	SrcNATDone   = 1 << 7
	DstNATDone   = 1 << 8
	Dying        = 1 << 9
	FixedTimeout = 1 << 10
	Template     = 1 << 11
	Untracked    = 1 << 12 // also IPS_NAT_CLASH
	Helper       = 1 << 13
	Offload      = 1 << 14
	HWOffload    = 1 << 15
	// Unchangeable is IPS_UNCHANGEABLE_MASK: the bits nf_ct_change_status_common never sets.
	Unchangeable = 0xdbf9
	statusBits   = 16 // __IPS_MAX_BIT
)

// Zone is a conntrack zone (struct nf_conntrack_zone): an id that applies in the directions of Dir
// (bit 0 original, bit 1 reply). The zero Zone is the default zone, id 0.
type Zone struct {
	ID  uint16
	Dir uint8
}

// DefaultZoneDir is NF_CT_DEFAULT_ZONE_DIR: both directions.
const DefaultZoneDir = 3

// idIn is nf_ct_zone_id(zone, dir): the zone's id in that direction, 0 where it does not apply.
func (z Zone) idIn(dir int) uint16 {
	if z.Dir&(1<<dir) != 0 {
		return z.ID
	}
	return 0
}

// Tuple is one direction of a connection: addresses, ports (host byte order) and protocol.
type Tuple struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// Reverse is the tuple of the other direction.
func (t Tuple) Reverse() Tuple {
	return Tuple{Src: t.Dst, Dst: t.Src, SrcPort: t.DstPort, DstPort: t.SrcPort, Proto: t.Proto}
}

func (t Tuple) String() string {
	return fmt.Sprintf("%s %s -> %s", protoName(t.Proto), netip.AddrPortFrom(t.Src, t.SrcPort), netip.AddrPortFrom(t.Dst, t.DstPort))
}

// Entry is one connection: a struct nf_conn.
type Entry struct {
	t     *Table
	image []byte
	tuple [2]Tuple
	zone  Zone
	// inserted: the entry is in the table (confirmed); otherwise it is a fresh allocation
	// (nf_conn___init) whose timeout is relative.
	inserted bool
	// pending: a preloaded entry whose timeout (relative, in image) waits for the clock.
	pending bool
	// natDone records which manipulations bpf_ct_set_nat_info did (bit 0 source, 1 destination).
	natDone uint8
}

// Image is the entry's struct nf_conn as a program reads it.
func (e *Entry) Image() []byte { return e.image }

// Orig and Reply are the entry's tuples.
func (e *Entry) Orig() Tuple  { return e.tuple[0] }
func (e *Entry) Reply() Tuple { return e.tuple[1] }

// Zone is the entry's zone.
func (e *Entry) Zone() Zone { return e.zone }

// Inserted says the entry is in its table.
func (e *Entry) Inserted() bool { return e.inserted }

// Status is ct->status.
func (e *Entry) Status() uint64 { return binary.LittleEndian.Uint64(e.image[e.t.layout.Status:]) }

func (e *Entry) setStatus(s uint64) {
	binary.LittleEndian.PutUint64(e.image[e.t.layout.Status:], s)
}

// Mark is ct->mark.
func (e *Entry) Mark() uint32 { return binary.LittleEndian.Uint32(e.image[e.t.layout.Mark:]) }

// Timeout is ct->timeout: for an inserted entry the jiffies (32-bit) at which it expires, for a
// fresh allocation its timeout in jiffies.
func (e *Entry) Timeout() uint32 { return binary.LittleEndian.Uint32(e.image[e.t.layout.Timeout:]) }

func (e *Entry) setTimeout(v uint32) {
	binary.LittleEndian.PutUint32(e.image[e.t.layout.Timeout:], v)
}

// writeTuple puts tuple dir into the image.
func (e *Entry) writeTuple(dir int) {
	l := &e.t.layout
	b := e.image[l.Tuple[dir]:]
	t := e.tuple[dir]
	clear(b[l.SrcAddr : l.SrcAddr+16])
	clear(b[l.DstAddr : l.DstAddr+16])
	l3 := uint16(afInet)
	if t.Src.Is6() {
		l3 = afInet6
	}
	copy(b[l.SrcAddr:], t.Src.AsSlice())
	copy(b[l.DstAddr:], t.Dst.AsSlice())
	binary.BigEndian.PutUint16(b[l.SrcPort:], t.SrcPort)
	binary.BigEndian.PutUint16(b[l.DstPort:], t.DstPort)
	binary.LittleEndian.PutUint16(b[l.L3Num:], l3)
	b[l.Proto] = t.Proto
	b[l.Dir] = byte(dir)
}

// Address families as nf_conntrack_tuple's l3num holds them.
const (
	afInet  = 2
	afInet6 = 10
)

// Table is a network namespace's connection tracking table.
type Table struct {
	layout Layout
	hz     uint64
	// now is nfct_time_stamp: the 32-bit jiffies of the current run; clocked says it was set.
	now     uint32
	clocked bool
	byTuple map[zonedTuple][]*Entry
	entries []*Entry
	// Max is nf_conntrack_max: an allocation fails with ENOMEM when the table holds as many.
	Max int
	// refs are the entries handed to the program of the current run, by the pointer's region.
	refs []Ref
}

// zonedTuple keys the table: a tuple and the zone id that applies in its direction.
type zonedTuple struct {
	Tuple
	zone uint16
}

// DefaultMax is nf_conntrack_max on the machines measured (262144).
const DefaultMax = 262144

// NewTable makes an empty table whose entries are laid out as l, on a clock of hz jiffies a second.
func NewTable(l Layout, hz uint64) *Table {
	return &Table{layout: l, hz: hz, byTuple: map[zonedTuple][]*Entry{}, Max: DefaultMax}
}

// Layout is the nf_conn layout of the table's entries.
func (t *Table) Layout() Layout { return t.layout }

// HZ is the rate of the table's jiffies.
func (t *Table) HZ() uint64 { return t.hz }

// Now is the table's clock, in 32-bit jiffies.
func (t *Table) Now() uint32 { return t.now }

// BeginRun sets the clock to the run's jiffies and forgets the previous run's references. Entries
// preloaded before the first run start their timeouts then.
func (t *Table) BeginRun(jiffies uint64) {
	t.now = uint32(jiffies)
	t.refs = t.refs[:0]
	if !t.clocked {
		t.clocked = true
		for _, e := range t.entries {
			if e.pending {
				e.setTimeout(t.now + e.Timeout())
				e.pending = false
			}
		}
	}
}

// expired is nf_ct_is_expired.
func (t *Table) expired(e *Entry) bool {
	return !e.pending && int32(e.Timeout()-t.now) <= 0
}

// Lookup is nf_conntrack_find_get: the live entry one of whose tuples is t in zone z, and which
// of its directions matched (0 original, 1 reply). It removes entries whose timeout passed, as
// the kernel's lookup does.
func (t *Table) Lookup(tu Tuple, z Zone) (*Entry, int, bool) {
	for dir := range 2 {
		for _, e := range t.byTuple[zonedTuple{tu, z.idIn(dir)}] {
			d := 0
			if e.tuple[1] == tu && e.tuple[0] != tu {
				d = 1
			}
			if d != dir || e.zone.idIn(d) != z.idIn(d) {
				continue
			}
			if t.expired(e) {
				t.remove(e)
				return t.Lookup(tu, z)
			}
			return e, d, true
		}
	}
	return nil, 0, false
}

// ErrNoMem is nf_conntrack_alloc's failure on a full table.
var ErrNoMem = errors.New("conntrack table full")

// Alloc is nf_conntrack_alloc with the BPF kfuncs' settings: a fresh entry (not in the table) for
// orig and reply in zone z, status 0, timeout of timeout jiffies.
func (t *Table) Alloc(orig, reply Tuple, z Zone, timeout uint32) (*Entry, error) {
	if len(t.entries) >= t.Max {
		return nil, ErrNoMem
	}
	e := &Entry{t: t, image: make([]byte, t.layout.Size), tuple: [2]Tuple{orig, reply}, zone: z}
	e.writeTuple(0)
	e.writeTuple(1)
	z.write(e.image[t.layout.Zone:])
	e.setTimeout(timeout)
	return e, nil
}

func (z Zone) write(b []byte) {
	binary.LittleEndian.PutUint16(b, z.ID)
	b[2] = 0 // flags
	b[3] = z.Dir
}

// Insert is nf_conntrack_hash_check_insert: it adds a fresh entry, confirming it and starting its
// timeout, unless a live entry of the zone has either of its tuples (the kernel then frees the
// allocation, and so does the caller).
func (t *Table) Insert(e *Entry) bool {
	for dir := range 2 {
		if o, _, ok := t.Lookup(e.tuple[dir], e.zone); ok && o != e {
			return false
		}
	}
	e.setStatus(e.Status() | Confirmed)
	if t.clocked {
		e.setTimeout(t.now + e.Timeout())
	} else {
		e.pending = true
	}
	e.inserted = true
	t.add(e)
	return true
}

func (t *Table) add(e *Entry) {
	t.entries = append(t.entries, e)
	for dir := range 2 {
		k := zonedTuple{e.tuple[dir], e.zone.idIn(dir)}
		t.byTuple[k] = append(t.byTuple[k], e)
	}
}

func (t *Table) remove(e *Entry) {
	for dir := range 2 {
		k := zonedTuple{e.tuple[dir], e.zone.idIn(dir)}
		list := slices.DeleteFunc(t.byTuple[k], func(o *Entry) bool { return o == e })
		if len(list) == 0 {
			delete(t.byTuple, k)
		} else {
			t.byTuple[k] = list
		}
	}
	t.entries = slices.DeleteFunc(t.entries, func(o *Entry) bool { return o == e })
	e.inserted = false
}

// Len is the number of entries in the table, expired ones included until a lookup or a dump
// removes them.
func (t *Table) Len() int { return len(t.entries) }

// Live lists the entries that have not expired, in a stable order (by original tuple, then zone).
func (t *Table) Live() []*Entry {
	var out []*Entry
	for _, e := range t.entries {
		if !t.expired(e) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b *Entry) int { return compareEntries(a, b) })
	return out
}

func compareEntries(a, b *Entry) int {
	for dir := range 2 {
		x, y := a.tuple[dir], b.tuple[dir]
		if c := x.Src.Compare(y.Src); c != 0 {
			return c
		}
		if c := x.Dst.Compare(y.Dst); c != 0 {
			return c
		}
		if c := int(x.SrcPort) - int(y.SrcPort); c != 0 {
			return c
		}
		if c := int(x.DstPort) - int(y.DstPort); c != 0 {
			return c
		}
		if c := int(x.Proto) - int(y.Proto); c != 0 {
			return c
		}
	}
	return int(a.zone.ID) - int(b.zone.ID)
}

// MsecsToJiffies is msecs_to_jiffies: milliseconds rounded up to whole jiffies.
func (t *Table) MsecsToJiffies(ms uint32) uint64 {
	per := 1000 / t.hz
	return (uint64(ms) + per - 1) / per
}

// SetTimeout is __nf_ct_set_timeout: for an entry in the table its expiry becomes now + j, for a
// fresh allocation its timeout becomes j; j is capped at INT_MAX.
func (t *Table) SetTimeout(e *Entry, j uint64) {
	if j > 0x7fffffff {
		j = 0x7fffffff
	}
	if e.Status()&Confirmed != 0 && !e.pending {
		e.setTimeout(t.now + uint32(j))
	} else {
		e.setTimeout(uint32(j))
	}
}

// ChangeTimeout is __nf_ct_change_timeout: -EPERM for an entry with a fixed timeout, -ETIME for a
// dying one (whose timeout still changes), else 0.
func (t *Table) ChangeTimeout(e *Entry, j uint64) int {
	if e.Status()&FixedTimeout != 0 {
		return int(errno.EPERM.Neg())
	}
	t.SetTimeout(e, j)
	if e.Status()&Dying != 0 {
		return int(errno.ETIME.Neg())
	}
	return 0
}

// ChangeStatus is nf_ct_change_status_common: it sets the requested bits that may change and
// clears none; -EBUSY when the request would change EXPECTED, CONFIRMED or DYING, or clear
// SEEN_REPLY or ASSURED.
func (t *Table) ChangeStatus(e *Entry, status uint32) int {
	cur := e.Status()
	d := cur ^ uint64(status)
	switch {
	case d&(Expected|Confirmed|Dying) != 0:
		return int(errno.EBUSY.Neg())
	case d&SeenReply != 0 && status&SeenReply == 0:
		return int(errno.EBUSY.Neg())
	case d&Assured != 0 && status&Assured == 0:
		return int(errno.EBUSY.Neg())
	}
	on := uint64(status) &^ Unchangeable & (1<<statusBits - 1)
	e.setStatus(cur | on)
	return 0
}

// NAT manipulations (enum nf_nat_manip_type).
const (
	ManipSrc = 0
	ManipDst = 1
)

// SetNAT is bpf_ct_set_nat_info on a fresh entry: source NAT makes addr (and port, when positive)
// the reply tuple's destination, destination NAT its source, as nf_nat_setup_info does for a
// single-address range; the entry's status gains IPS_SRC_NAT (or DST) when the tuple changed and
// IPS_SRC_NAT_DONE (or DST) in any case. It returns -EINVAL for an entry of neither IPv4 nor IPv6.
func (t *Table) SetNAT(e *Entry, addr netip.Addr, port int32, manip uint32) int {
	if !e.tuple[0].Src.IsValid() {
		return int(errno.EINVAL.Neg())
	}
	bit := uint8(1) << (manip & 1)
	if e.natDone&bit != 0 {
		return 0 // nf_nat_setup_info on an initialised manip changes nothing
	}
	reply := e.tuple[1]
	if manip == ManipSrc {
		reply.Dst = addr
		if port > 0 {
			reply.DstPort = uint16(port)
		}
	} else {
		reply.Src = addr
		if port > 0 {
			reply.SrcPort = uint16(port)
		}
	}
	st := e.Status()
	natBit, doneBit := uint64(SrcNAT), uint64(SrcNATDone)
	if manip != ManipSrc {
		natBit, doneBit = DstNAT, DstNATDone
	}
	if reply != e.tuple[1] {
		e.tuple[1] = reply
		e.writeTuple(1)
		st |= natBit
	}
	e.setStatus(st | doneBit)
	e.natDone |= bit
	return 0
}

// Ref is an entry a kfunc handed to the running program: the region of the pointer and whether
// it is a fresh allocation (struct nf_conn___init).
type Ref struct {
	Region int
	Entry  *Entry
}

// Hold records that the program holds e through the pointer of region id.
func (t *Table) Hold(region int, e *Entry) { t.refs = append(t.refs, Ref{region, e}) }

// Held is the entry the program holds through region id, or nil.
func (t *Table) Held(region int) *Entry {
	for _, r := range t.refs {
		if r.Region == region {
			return r.Entry
		}
	}
	return nil
}

// Release forgets the program's hold through region id.
func (t *Table) Release(region int) {
	t.refs = slices.DeleteFunc(t.refs, func(r Ref) bool { return r.Region == region })
}

func protoName(p uint8) string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto %d", p)
}
