package device

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
)

// The control interface of the BPF_MAP_TYPE_CONTROL proposal (seed 003, Saeed Mahameed, iovisor-dev,
// March 2019), which never merged into Linux: every device exposes its attributes as one value,
// struct if_xdp_attributes, whose layout the kernel defines and describes with BTF; a client finds a
// member by name through that BTF, and the layout only ever grows at its end, so that a client built
// against an older, shorter layout keeps working (lookup copies only the size it knows).
//
// The layout is described once, by the members table below; the C declaration ([Layout.CHeader]),
// the BTF ([Layout.BTF]), the encoding ([Netdev.Lookup]) and the decoding ([Netdev.Update]) all come
// from it, so they cannot drift apart.

// Access says who may change a member.
type Access uint8

const (
	// ReadOnly members describe the device; an update that changes one fails with EACCES.
	ReadOnly Access = iota
	// UserWritable members are configuration that needs the device reconfigured (channels, rings,
	// MTU, offloads: rtnl and a queue restart in a real kernel): user space may change them,
	// a BPF program in the data path may not (EPERM).
	UserWritable
	// ProgramWritable members may also be changed by a BPF program through bpf_map_update_elem:
	// the RSS key and the indirection table, which a driver can rewrite without stopping its
	// queues. The change applies from the next packet.
	ProgramWritable
)

func (a Access) String() string {
	switch a {
	case UserWritable:
		return "user"
	case ProgramWritable:
		return "program"
	}
	return "read-only"
}

// Origin says who asks for an update.
type Origin uint8

const (
	// FromUser is user space: the bpf syscall, xdpsim dev set.
	FromUser Origin = iota
	// FromProgram is a BPF program's bpf_map_update_elem.
	FromProgram
)

// Member is one member of struct if_xdp_attributes.
type Member struct {
	// Name is the member's C name (the command line also takes it with dashes).
	Name string
	// Elem is the size in bytes of the member's integer type (1, 2, 4 or 8); Count the number of
	// elements of an array member, 0 for a scalar.
	Elem, Count int
	// Offset is the member's byte offset in the struct.
	Offset int
	// Version is the layout version that added the member.
	Version int
	// Access says who may change it.
	Access Access
	// Doc says what it is, in a line.
	Doc string

	get func(d *Netdev, b []byte)
	set func(d *Netdev, b []byte) error
}

// Size is the member's size in bytes.
func (m *Member) Size() int { return m.Elem * max(m.Count, 1) }

// CType is the member's C type ("__u32", "__u8").
func (m *Member) CType() string { return fmt.Sprintf("__u%d", m.Elem*8) }

// Layout is struct if_xdp_attributes as one version of the simulated kernel defines it.
type Layout struct {
	// Version is the layout's version; Size its size in bytes (sizeof).
	Version, Size int
	// Members are the members, in order.
	Members []*Member
}

// LatestVersion is the newest layout version: the simulated kernel's.
const LatestVersion = 3

// StructName is the C name of the value's type, as the proposal names it.
const StructName = "if_xdp_attributes"

// Sizes of the array members.
const (
	// MaxRSSKeySize is the room for the RSS key: ice's 52 bytes, the largest of the profiles.
	MaxRSSKeySize = 52
	// MaxIndirSize is the room for the indirection table: ice's 512 entries.
	MaxIndirSize = 512
)

var le = binary.LittleEndian

// members is the layout, in order. Offsets are computed in init with C's natural alignment; the
// version boundaries fall on 8-byte multiples so that every version's sizeof has no padding.
var members = []*Member{
	// Version 1: what a device had to say about XDP when the proposal was written (2019).
	u32m("ifindex", 1, ReadOnly, "the interface index: the map's key",
		func(d *Netdev) uint32 { return d.Ifindex }, nil),
	u32m("peer_ifindex", 1, ReadOnly, "the veth peer's interface index (0: none)",
		func(d *Netdev) uint32 {
			if d.peer != nil {
				return d.peer.Ifindex
			}
			return 0
		}, nil),
	u32m("mtu", 1, UserWritable, "the MTU (min_mtu to max_mtu; an attached XDP program without frags support may lower the limit)",
		(*Netdev).MTU, setMTU),
	u32m("min_mtu", 1, ReadOnly, "the smallest MTU the device takes",
		func(d *Netdev) uint32 { return d.facts().MinMTU }, nil),
	u32m("max_mtu", 1, ReadOnly, "the largest MTU the device takes now (a veth's peer's XDP program lowers it)",
		(*Netdev).MaxMTU, nil),
	u32m("rx_queues", 1, UserWritable, "RX queues (channels); RSS spreads packets over them",
		(*Netdev).rxQueues, setRxQueues),
	u32m("tx_queues", 1, UserWritable, "TX queues",
		(*Netdev).tx, setTxQueues),
	u32m("max_queues", 1, ReadOnly, "the most RX or TX queues the device may have",
		func(d *Netdev) uint32 { return max(d.facts().MaxQueues, 1) }, nil),
	u32m("rx_ring_size", 1, UserWritable, "RX descriptor ring size",
		func(d *Netdev) uint32 { rx, _ := d.rings(); return rx },
		func(d *Netdev, v uint32) error { return d.setRing(&d.rxRing, "rx_ring_size", v) }),
	u32m("tx_ring_size", 1, UserWritable, "TX descriptor ring size",
		func(d *Netdev) uint32 { _, tx := d.rings(); return tx },
		func(d *Netdev, v uint32) error { return d.setRing(&d.txRing, "tx_ring_size", v) }),
	u32m("max_ring_size", 1, ReadOnly, "the largest ring size",
		func(d *Netdev) uint32 { return d.facts().MaxRing }, nil),
	u32m("offloads", 1, UserWritable, "offloads that change what XDP sees: 1 rx VLAN (802.1Q) stripping, 2 rx 802.1ad stripping, 4 GRO",
		func(d *Netdev) uint32 { return uint32(d.Offloads()) }, setOffloads),
	u32m("rss_hash_fields", 1, ReadOnly, "what the RSS hash covers (XDP_ATTR_RSS_* bits)",
		func(d *Netdev) uint32 { return uint32(d.Profile.RSS) }, nil),
	u32m("rss_key_size", 1, ReadOnly, "the RSS key's size in bytes (0: no RSS configuration)",
		func(d *Netdev) uint32 { return d.facts().RSSKeySize }, nil),
	u32m("rss_indir_size", 1, ReadOnly, "the indirection table's entries (0: no RSS configuration)",
		func(d *Netdev) uint32 { return d.facts().IndirSize }, nil),
	{Name: "rss_key", Elem: 1, Count: MaxRSSKeySize, Version: 1, Access: ProgramWritable,
		Doc: "the Toeplitz RSS key, rss_key_size bytes", get: getRSSKey, set: setRSSKey},
	{Name: "rss_indir", Elem: 2, Count: MaxIndirSize, Version: 1, Access: ProgramWritable,
		Doc: "the RSS indirection table: entry i is the RX queue of hashes whose low bits are i", get: getIndir, set: setIndir},

	// Version 2: what the netdev generic netlink family reports (Linux 6.3 to 6.8), and the
	// member the proposal's bpftool example sets.
	u64m("xdp_features", 2, "xdp-features: enum netdev_xdp_act bits",
		func(d *Netdev) uint64 { return uint64(d.XDPFeatures()) }),
	u64m("xdp_rx_metadata_features", 2, "xdp-rx-metadata-features: enum netdev_xdp_rx_metadata bits",
		func(d *Netdev) uint64 { return uint64(d.RxMetadataFeatures()) }),
	u64m("xsk_features", 2, "xsk-features: enum netdev_xsk_flags bits",
		func(d *Netdev) uint64 { return uint64(d.XSKFeatures()) }),
	u32m("xdp_zc_max_segs", 2, ReadOnly, "xdp-zc-max-segs: fragments of an AF_XDP zero-copy frame (0: no zero copy)",
		func(d *Netdev) uint32 {
			if d.XDPFeatures()&XDPActXSKZeroCopy == 0 {
				return 0
			}
			return d.ZCMaxSegs()
		}, nil),
	u32m("xsk_ring_size", 2, UserWritable, "the default size of AF_XDP socket rings on the device (a power of two)",
		func(d *Netdev) uint32 {
			if d.xskRing == 0 {
				return DefaultXSKRingSize
			}
			return d.xskRing
		}, setXSKRing),

	// Version 3: netkit (Linux 6.7), its IFLA_NETKIT_* link attributes. Zero for other devices.
	u32m("netkit", 3, ReadOnly, "0: not a netkit device, 1: a netkit primary, 2: a netkit peer", getNetkit, nil),
	u32m("netkit_mode", 3, ReadOnly, "NETKIT_L2 (0) or NETKIT_L3 (1), fixed when the pair is created",
		func(d *Netdev) uint32 { self, _, _ := d.netkitInfo(); return uint32(self.Mode) }, nil),
	u32m("netkit_policy", 3, UserWritable, "the default policy without programs: NETKIT_PASS (0) or NETKIT_DROP (2); changed through the primary",
		func(d *Netdev) uint32 { self, _, _ := d.netkitInfo(); return uint32(self.Policy) },
		func(d *Netdev, v uint32) error { return setNetkitPolicy(d, v, false) }),
	u32m("netkit_peer_policy", 3, UserWritable, "the peer's default policy (IFLA_NETKIT_PEER_POLICY); changed through the primary",
		func(d *Netdev) uint32 { _, peer, _ := d.netkitInfo(); return uint32(peer.Policy) },
		func(d *Netdev, v uint32) error { return setNetkitPolicy(d, v, true) }),
	u32m("netkit_scrub", 3, ReadOnly, "NETKIT_SCRUB_NONE (0) or NETKIT_SCRUB_DEFAULT (1), fixed when the pair is created",
		func(d *Netdev) uint32 { self, _, _ := d.netkitInfo(); return uint32(self.Scrub) }, nil),
	u32m("netkit_peer_scrub", 3, ReadOnly, "the peer's scrub setting",
		func(d *Netdev) uint32 { _, peer, _ := d.netkitInfo(); return uint32(peer.Scrub) }, nil),
}

// DefaultXSKRingSize is libxdp's default ring size (XSK_RING_PROD__DEFAULT_NUM_DESCS).
const DefaultXSKRingSize = 2048

func u32m(name string, version int, access Access, doc string, get func(*Netdev) uint32, set func(*Netdev, uint32) error) *Member {
	m := &Member{Name: name, Elem: 4, Version: version, Access: access, Doc: doc,
		get: func(d *Netdev, b []byte) { le.PutUint32(b, get(d)) }}
	if set != nil {
		m.set = func(d *Netdev, b []byte) error { return set(d, le.Uint32(b)) }
	}
	return m
}

func u64m(name string, version int, doc string, get func(*Netdev) uint64) *Member {
	return &Member{Name: name, Elem: 8, Version: version, Access: ReadOnly, Doc: doc,
		get: func(d *Netdev, b []byte) { le.PutUint64(b, get(d)) }}
}

var layouts []*Layout

func init() {
	off := 0
	for i, m := range members {
		off = (off + m.Elem - 1) &^ (m.Elem - 1)
		m.Offset = off
		off += m.Size()
		if i+1 == len(members) || members[i+1].Version != m.Version {
			if off%8 != 0 {
				panic(fmt.Sprintf("device: layout version %d ends at %d, not on an 8-byte boundary", m.Version, off))
			}
			layouts = append(layouts, &Layout{Version: m.Version, Size: off, Members: members[:i+1]})
		}
	}
	if len(layouts) != LatestVersion {
		panic("device: LatestVersion does not match the members table")
	}
}

// LayoutVersion gives the layout of a version (1 to LatestVersion): an older simulated kernel's.
func LayoutVersion(v int) (*Layout, error) {
	if v < 1 || v > len(layouts) {
		return nil, fmt.Errorf("no layout version %d of struct %s (versions 1 to %d)", v, StructName, LatestVersion)
	}
	return layouts[v-1], nil
}

// Latest is the newest layout.
func Latest() *Layout { return layouts[len(layouts)-1] }

// Member finds a member by name; dashes stand for underscores ("xsk-ring-size").
func (l *Layout) Member(name string) (*Member, error) {
	n := strings.ReplaceAll(name, "-", "_")
	for _, m := range l.Members {
		if m.Name == n {
			return m, nil
		}
	}
	return nil, &UnknownMemberError{Name: name, Layout: l}
}

// UnknownMemberError is a member name the layout does not have.
type UnknownMemberError struct {
	Name   string
	Layout *Layout
}

func (e *UnknownMemberError) Error() string {
	names := make([]string, len(e.Layout.Members))
	for i, m := range e.Layout.Members {
		names[i] = m.Name
	}
	return fmt.Sprintf("struct %s (layout version %d, %d bytes) has no member %q; it has: %s",
		StructName, e.Layout.Version, e.Layout.Size, e.Name, strings.Join(names, ", "))
}

// ValidSize reports whether a client's value size fits the layout: it must end on a member
// boundary (a client knows whole members), or be larger than the layout (a client built for a
// newer layout, whose extra bytes the kernel zeroes on lookup and wants zero on update).
func (l *Layout) ValidSize(n int) bool {
	if n > l.Size {
		return true
	}
	for _, m := range l.Members {
		if m.Offset+m.Size() == n {
			return true
		}
	}
	return false
}

// Lookup writes the device's attributes into dst as layout l encodes them, as much of them as dst
// holds (a client that knows an older, shorter layout gets its prefix); bytes of dst past the
// layout are zeroed. It does not allocate.
func (d *Netdev) Lookup(l *Layout, dst []byte) {
	for _, m := range l.Members {
		end := m.Offset + m.Size()
		if end > len(dst) {
			if m.Offset < len(dst) {
				var tmp [MaxIndirSize * 2]byte
				m.get(d, tmp[:m.Size()])
				copy(dst[m.Offset:], tmp[:m.Size()])
			}
			return
		}
		clear(dst[m.Offset:end])
		m.get(d, dst[m.Offset:end])
	}
	if len(dst) > l.Size {
		clear(dst[l.Size:])
	}
}

// Attributes is the device's value of the newest layout.
func (d *Netdev) Attributes() []byte {
	b := make([]byte, Latest().Size)
	d.Lookup(Latest(), b)
	return b
}

// UpdateError is a refused update: which member, why, and the errno the kernel's map update
// would return. It matches the errno with errors.Is.
type UpdateError struct {
	Dev    string
	Member string
	Reason string
	Errno  errno.Errno
}

func (e *UpdateError) Error() string {
	if e.Member == "" {
		return fmt.Sprintf("%s: %s (%s)", e.Dev, e.Reason, e.Errno.Name())
	}
	return fmt.Sprintf("%s: %s: %s (%s)", e.Dev, e.Member, e.Reason, e.Errno.Name())
}

// Unwrap gives the errno.
func (e *UpdateError) Unwrap() error { return e.Errno }

// Update applies a value of layout l to the device: every member val holds whole whose bytes differ
// from the device's current value is changed, all or none. val may be shorter than the layout
// (a client of an older layout changes only what it knows; it must end on a member boundary) or
// longer (a client of a newer layout: the bytes past the layout must be zero, E2BIG otherwise, as
// the kernel checks the tail of a bigger bpf_attr). A changed read-only member is EACCES; a
// changed member only user space may change, asked by a program, is EPERM; a bad value is EINVAL
// (EOPNOTSUPP when the device cannot do it at all).
func (d *Netdev) Update(l *Layout, val []byte, origin Origin) error {
	if len(val) > l.Size {
		if i := slices.IndexFunc(val[l.Size:], func(b byte) bool { return b != 0 }); i >= 0 {
			return &UpdateError{Dev: d.Name, Errno: errno.E2BIG,
				Reason: fmt.Sprintf("byte %d is past the %d bytes of struct %s this kernel knows, and not zero", l.Size+i, l.Size, StructName)}
		}
		val = val[:l.Size]
	}
	if !l.ValidSize(len(val)) {
		return &UpdateError{Dev: d.Name, Errno: errno.EINVAL,
			Reason: fmt.Sprintf("a value of %d bytes does not end on a member of struct %s", len(val), StructName)}
	}
	cur := make([]byte, l.Size)
	d.Lookup(l, cur)
	var changed []*Member
	for _, m := range l.Members {
		end := m.Offset + m.Size()
		if end > len(val) {
			break
		}
		if bytes.Equal(val[m.Offset:end], cur[m.Offset:end]) {
			continue
		}
		switch {
		case m.Access == ReadOnly:
			return &UpdateError{Dev: d.Name, Member: m.Name, Errno: errno.EACCES, Reason: "read-only"}
		case m.Access == UserWritable && origin == FromProgram:
			return &UpdateError{Dev: d.Name, Member: m.Name, Errno: errno.EPERM,
				Reason: "changing it reconfigures the device, which a BPF program in the data path may not do; only user space may"}
		}
		changed = append(changed, m)
	}
	if len(changed) == 0 {
		return nil
	}
	c := d.clone()
	for _, m := range changed {
		if err := m.set(c, val[m.Offset:m.Offset+m.Size()]); err != nil {
			var ue *UpdateError
			if e, ok := err.(*UpdateError); ok {
				ue = e
			} else {
				ue = &UpdateError{Errno: errno.EINVAL, Reason: err.Error()}
			}
			ue.Dev, ue.Member = d.Name, m.Name
			return ue
		}
	}
	if c.tableSet {
		q := c.rxQueues()
		for i, e := range c.table {
			if e >= q {
				return &UpdateError{Dev: d.Name, Member: "rss_indir", Errno: errno.EINVAL,
					Reason: fmt.Sprintf("entry %d names queue %d, and the device has %d RX queues", i, e, q)}
			}
		}
	}
	if err := c.commitTo(d); err != nil {
		return &UpdateError{Dev: d.Name, Member: "netkit_policy", Errno: errno.EINVAL, Reason: err.Error()}
	}
	return nil
}

// clone copies the device's configuration for an update to work on.
func (d *Netdev) clone() *Netdev {
	c := *d
	c.RSSKey = slices.Clone(d.RSSKey)
	c.table = slices.Clone(d.table)
	c.strip = nil
	return &c
}

// commitTo makes d's configuration c's, and the netkit policy changes c recorded.
func (c *Netdev) commitTo(d *Netdev) error {
	if !bytes.Equal(c.RSSKey, d.RSSKey) || (c.RSSKey == nil) != (d.RSSKey == nil) {
		c.key = nil
	}
	err := c.commitNetkit()
	*d = *c
	d.strip = nil
	return err
}

func setMTU(d *Netdev, v uint32) error {
	f := d.facts()
	lo, hi := f.MinMTU, d.MaxMTU()
	if hi == 0 { // no limit (lo)
		hi = 1<<31 - 1
	}
	if v < lo || v > hi {
		return fmt.Errorf("%d is outside the device's range %d to %d", v, lo, hi)
	}
	if d.xdp != nil && !f.XDPMaxMTUOnPeer {
		if lim := d.xdpMTULimit(d.xdp); lim > 0 && v > lim {
			return &UpdateError{Errno: f.XDPMaxMTUErr,
				Reason: fmt.Sprintf("%d is above %d, the most the attached XDP program without frags support can take", v, lim)}
		}
	}
	d.mtu = v
	return nil
}

func setRxQueues(d *Netdev, v uint32) error { return d.SetRxQueues(int(v)) }

// SetRxQueues sets the number of RX queues (channels), as ethtool -L does: from 1 to the
// driver's most (DriverFacts.MaxQueues). An indirection table not set by hand follows.
func (d *Netdev) SetRxQueues(n int) error {
	if n < 1 || n > int(max(d.facts().MaxQueues, 1)) {
		return fmt.Errorf("%d is outside 1 to %d (%s's most)", n, max(d.facts().MaxQueues, 1), d.Profile.Name)
	}
	d.Queues = n
	if !d.tableSet {
		d.table = nil
	}
	return nil
}

func setTxQueues(d *Netdev, v uint32) error {
	if v < 1 || v > max(d.facts().MaxQueues, 1) {
		return fmt.Errorf("%d is outside 1 to %d", v, max(d.facts().MaxQueues, 1))
	}
	d.txQueues = v
	return nil
}

func (d *Netdev) setRing(p *uint32, name string, v uint32) error {
	f := d.facts()
	if f.RingFixed {
		return &UpdateError{Errno: errno.EOPNOTSUPP, Reason: "the driver's ring size cannot be changed"}
	}
	if v < 1 || v > f.MaxRing {
		return fmt.Errorf("%d is outside 1 to %d", v, f.MaxRing)
	}
	*p = v
	return nil
}

func setOffloads(d *Netdev, v uint32) error {
	o := Offloads(v)
	if bad := (o ^ d.Offloads()) &^ d.supportedOffloads(); bad != 0 {
		return &UpdateError{Errno: errno.EOPNOTSUPP, Reason: fmt.Sprintf("the device cannot change offload bits %#x", uint32(bad))}
	}
	d.offloads = o | offloadsSet
	return nil
}

func setXSKRing(d *Netdev, v uint32) error {
	if v == 0 || v&(v-1) != 0 {
		return fmt.Errorf("%d is not a power of two", v)
	}
	d.xskRing = v
	return nil
}

func getRSSKey(d *Netdev, b []byte) {
	n := int(d.facts().RSSKeySize)
	copy(b[:n], d.Key())
}

func setRSSKey(d *Netdev, b []byte) error {
	n := int(d.facts().RSSKeySize)
	if n == 0 {
		return &UpdateError{Errno: errno.EOPNOTSUPP, Reason: "the device has no RSS key"}
	}
	if i := slices.IndexFunc(b[n:], func(c byte) bool { return c != 0 }); i >= 0 {
		return fmt.Errorf("byte %d is past the device's %d-byte key, and not zero", n+i, n)
	}
	d.SetRSSKey(b[:n])
	return nil
}

func getIndir(d *Netdev, b []byte) {
	n := int(d.facts().IndirSize)
	if n == 0 {
		return
	}
	for i, e := range d.Table()[:n] {
		le.PutUint16(b[2*i:], uint16(e))
	}
}

func setIndir(d *Netdev, b []byte) error {
	n := int(d.facts().IndirSize)
	if n == 0 {
		return &UpdateError{Errno: errno.EOPNOTSUPP, Reason: "the device has no indirection table"}
	}
	for i := n; i < MaxIndirSize; i++ {
		if le.Uint16(b[2*i:]) != 0 {
			return fmt.Errorf("entry %d is past the device's %d entries, and not zero", i, n)
		}
	}
	t := make([]uint32, n)
	for i := range t {
		t[i] = uint32(le.Uint16(b[2*i:]))
	}
	d.table, d.tableSet = t, true
	return nil
}

// hintNames lists the RX-metadata features by their netlink names.
func hintNames(h kfuncs.Hint) []string { return flagNames(uint64(h), rxMetadataNames[:]) }
