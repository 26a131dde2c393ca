package device

import (
	"fmt"
	"slices"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
)

// Netdev is one simulated network device, as a driver presents it to XDP: its profile (which
// RX-metadata hints the driver gives, what its RSS hashes, which VLAN tags it strips, what it
// declares to the kernel) and its configuration (MTU, queues, rings, offloads, RSS key and the
// indirection table that spreads packets over the RX queues, the CPUs the queues run on), which
// [Netdev.Attributes] exposes as a struct if_xdp_attributes.
//
// Make one with [NewNetdev]. A Netdev is used by one goroutine at a time.
type Netdev struct {
	// Name is the interface name ("eth0").
	Name string
	// Ifindex is the interface index.
	Ifindex uint32
	// Profile says which RX-metadata hints the device supplies, what it hashes for RSS, whether
	// it strips VLAN tags, and what its driver declares.
	Profile *Profile
	// RSSKey overrides the profile's Toeplitz key. Change it through the rss_key attribute
	// (or call [Netdev.SetRSSKey]) once packets flow: the device keeps the key prepared.
	RSSKey []byte
	// Queues is the number of RX queues (the rx_queues attribute); RSS spreads packets over
	// them through the indirection table when there are more than one. 0 means the profile's
	// default, one queue.
	Queues int
	// CPUs is the number of CPUs queues map to (queue i runs on CPU i mod CPUs); 0 leaves it to
	// the caller.
	CPUs int

	mtu            uint32
	txQueues       uint32
	rxRing, txRing uint32
	xskRing        uint32
	offloads       Offloads
	// table is the indirection table; tableSet says the user configured it (otherwise it
	// follows the queue count, as ethtool_rxfh_indir_default does).
	table    []uint32
	tableSet bool
	key      *ToeplitzKey
	peer     *Netdev
	xdp      *XDPProgram
	strip    []uint16
	// netkit holds a netkit device's netkit state (nil for other devices); nkPolicy and
	// nkPeerPolicy are changes an update has checked and commits.
	netkit                 *Registry
	nkPolicy, nkPeerPolicy *NetkitAction
}

// Offloads is the offloads attribute: the offload features of the device that change what XDP
// sees, as bits.
type Offloads uint32

// The offload bits.
const (
	// OffloadRxVLAN: the device strips 802.1Q tags (NETIF_F_HW_VLAN_CTAG_RX, ethtool's rxvlan).
	OffloadRxVLAN Offloads = 1 << 0
	// OffloadRxVLANStag: the device strips 802.1ad tags (NETIF_F_HW_VLAN_STAG_RX).
	OffloadRxVLANStag Offloads = 1 << 1
	// OffloadGRO: GRO is on (NETIF_F_GRO); on a veth it makes the peer a redirect target.
	OffloadGRO Offloads = 1 << 2
)

// XDPProgram is the XDP program attached to a device, as the driver sees it.
type XDPProgram struct {
	// Frags: the program is frags-aware (BPF_F_XDP_HAS_FRAGS, SEC("xdp.frags")).
	Frags bool
}

// NewNetdev makes a device of profile p with the driver's defaults: MTU, one RX and one TX queue,
// ring sizes, the profile's RSS key and fields, the default indirection table, and the offloads
// the profile has on.
func NewNetdev(p *Profile) *Netdev { return &Netdev{Profile: p} }

// NewVethPair makes two veth devices that are each other's peer.
func NewVethPair(p *Profile, name, peerName string) (*Netdev, *Netdev) {
	a, b := NewNetdev(p), NewNetdev(p)
	a.Name, b.Name = name, peerName
	a.peer, b.peer = b, a
	return a, b
}

// Peer is the device's veth peer (nil for other devices).
func (d *Netdev) Peer() *Netdev { return d.peer }

func (d *Netdev) facts() *DriverFacts { return &d.Profile.Facts }

// MTU is the device's MTU.
func (d *Netdev) MTU() uint32 {
	if d.mtu == 0 {
		return d.facts().MTU
	}
	return d.mtu
}

func (d *Netdev) rxQueues() uint32 {
	if d.Queues > 0 {
		return uint32(d.Queues)
	}
	return max(d.facts().Queues, 1)
}

func (d *Netdev) tx() uint32 {
	if d.txQueues > 0 {
		return d.txQueues
	}
	return max(d.facts().Queues, 1)
}

func (d *Netdev) rings() (rx, tx uint32) {
	rx, tx = d.rxRing, d.txRing
	if rx == 0 {
		rx = d.facts().RingSize
	}
	if tx == 0 {
		tx = d.facts().RingSize
	}
	return rx, tx
}

// Offloads are the device's offload bits: the profile's defaults (VLAN stripping where it strips)
// until changed.
func (d *Netdev) Offloads() Offloads {
	if d.offloads&offloadsSet != 0 {
		return d.offloads &^ offloadsSet
	}
	if d.facts().Strip {
		return d.stripOffloads()
	}
	return 0
}

// stripOffloads are the VLAN stripping bits of the tags the profile can strip.
func (d *Netdev) stripOffloads() Offloads {
	var o Offloads
	for _, tpid := range d.Profile.StripVLAN {
		switch tpid {
		case 0x8100:
			o |= OffloadRxVLAN
		case 0x88a8:
			o |= OffloadRxVLANStag
		}
	}
	return o
}

// offloadsSet marks an explicitly set offloads value.
const offloadsSet Offloads = 1 << 31

// supportedOffloads are the offload bits the device can change.
func (d *Netdev) supportedOffloads() Offloads {
	o := d.stripOffloads()
	if d.peer != nil && d.facts().NdoXmit == NdoXmitPeerProgramOrGRO {
		o |= OffloadGRO // veth
	}
	return o
}

// stripping is the TPIDs the device strips now (computed once per offload change).
func (d *Netdev) stripping() []uint16 {
	if d.strip == nil {
		o := d.Offloads()
		d.strip = make([]uint16, 0, 2)
		for _, tpid := range d.Profile.StripVLAN {
			if (tpid == 0x8100 && o&OffloadRxVLAN != 0) || (tpid == 0x88a8 && o&OffloadRxVLANStag != 0) {
				d.strip = append(d.strip, tpid)
			}
		}
	}
	return d.strip
}

// Key is the RSS key in use.
func (d *Netdev) Key() []byte {
	if d.RSSKey != nil {
		return d.RSSKey
	}
	return d.Profile.key()
}

// SetRSSKey changes the RSS key (nil: the profile's).
func (d *Netdev) SetRSSKey(key []byte) {
	d.RSSKey = slices.Clone(key)
	d.key = nil
}

func (d *Netdev) preparedKey() hasher {
	if d.key == nil || string(d.key.Key()) != string(d.Key()) {
		d.key = NewToeplitzKey(d.Key())
	}
	return hasher{t: d.key}
}

// indirSize is the indirection table's size: the driver's, or the simulator's default for a
// device without an RSS configuration of its own (veth, whose queue the model picks by the
// skb hash the same way).
func (d *Netdev) indirSize() int {
	if n := d.facts().IndirSize; n > 0 {
		return int(n)
	}
	return DefaultIndirectionSize
}

// Table is the indirection table: entry i is the RX queue of hashes whose low bits are i.
func (d *Netdev) Table() []uint32 {
	if d.table == nil || (!d.tableSet && len(d.table) != d.indirSize()) {
		d.table = DefaultIndirection(int(d.rxQueues()), d.indirSize())
	}
	return d.table
}

// XDP is the program attached to the device (nil: none).
func (d *Netdev) XDP() *XDPProgram { return d.xdp }

// AttachXDP attaches an XDP program in native mode, with the driver's checks: the MTU must allow
// a program without frags support (the error is the driver's errno: veth ERANGE for its peer's
// MTU, mlx5 and virtio_net EINVAL, ice and igc EOPNOTSUPP), and a veth needs at least as many
// RX queues as its peer has TX queues (ENOSPC). A veth then lowers its peer's max_mtu. nil
// detaches.
func (d *Netdev) AttachXDP(p *XDPProgram) error {
	if p != nil {
		f := d.facts()
		if lim := d.xdpMTULimit(p); lim > 0 {
			mtu, who := d.MTU(), d.Name
			if f.XDPMaxMTUOnPeer && d.peer != nil {
				mtu, who = d.peer.MTU(), d.peer.Name
			}
			if mtu > lim {
				return &AttachError{Dev: d.Name, Errno: f.XDPMaxMTUErr,
					Reason: fmt.Sprintf("the MTU %d of %s is above %d, the most an XDP program without frags support can take (use SEC(\"xdp.frags\"))", mtu, who, lim)}
			}
		}
		if d.peer != nil && d.rxQueues() < d.peer.tx() {
			return &AttachError{Dev: d.Name, Errno: errno.ENOSPC,
				Reason: fmt.Sprintf("XDP expects number of rx queues (%d) not less than peer tx queues (%d)", d.rxQueues(), d.peer.tx())}
		}
		p = &XDPProgram{Frags: p.Frags}
	}
	d.xdp = p
	return nil
}

// SetXDP records p as the attached program (nil: none) without the driver's checks.
func (d *Netdev) SetXDP(p *XDPProgram) {
	if p != nil {
		p = &XDPProgram{Frags: p.Frags}
	}
	d.xdp = p
}

// xdpMTULimit is the largest MTU program p can run with on this device (its peer's, for veth);
// 0 for no limit.
func (d *Netdev) xdpMTULimit(p *XDPProgram) uint32 {
	f := d.facts()
	if f.XDPMaxMTU == 0 {
		return 0
	}
	if p.Frags && f.XDPFeatures&XDPActRxSG != 0 {
		if f.XDPMaxMTUOnPeer {
			return f.XDPFragsMaxMTU
		}
		return 0
	}
	return f.XDPMaxMTU
}

// AttachError is a driver's refusal of an XDP program. It matches its errno with errors.Is.
type AttachError struct {
	Dev    string
	Reason string
	Errno  errno.Errno
}

func (e *AttachError) Error() string {
	return fmt.Sprintf("%s: cannot attach the XDP program: %s (%s)", e.Dev, e.Reason, e.Errno.Name())
}

// Unwrap gives the errno.
func (e *AttachError) Unwrap() error { return e.Errno }

// MaxMTU is the device's max_mtu as the kernel reports it: the driver's, or on a veth whose
// peer has an XDP program, the limit the peer's program puts on it.
func (d *Netdev) MaxMTU() uint32 {
	f := d.facts()
	if d.peer != nil && d.peer.xdp != nil && f.XDPMaxMTUOnPeer {
		if lim := d.peer.xdpMTULimit(d.peer.xdp); lim > 0 {
			return lim
		}
	}
	return f.MaxMTU
}

// XDPFeatures are the xdp-features the device reports now: the driver's, with NDO_XMIT (and
// NDO_XMIT_SG) as its rule and the current state say; none on a veth whose peer has more TX
// queues than it has RX queues.
func (d *Netdev) XDPFeatures() XDPAct {
	f := d.facts()
	if f.NdoXmit == NdoXmitPeerProgramOrGRO && d.peer != nil && d.peer.tx() > d.rxQueues() {
		// veth_set_xdp_features: a peer with more TX queues than this end has RX queues
		// clears every feature (measured on Linux 6.18).
		return 0
	}
	a := f.XDPFeatures
	target := false
	switch f.NdoXmit {
	case NdoXmitWithProgram:
		target = d.xdp != nil
	case NdoXmitPeerProgramOrGRO:
		target = d.peer != nil && (d.peer.xdp != nil || d.peer.Offloads()&OffloadGRO != 0)
	}
	if target {
		a |= XDPActNdoXmit
		if f.NdoXmitSG {
			a |= XDPActNdoXmitSG
		}
	}
	return a
}

// RxMetadataFeatures are the xdp-rx-metadata-features: the hint kfuncs the driver implements.
func (d *Netdev) RxMetadataFeatures() kfuncs.Hint { return d.Profile.Hints }

// XSKFeatures are the xsk-features: the driver's AF_XDP TX-metadata operations.
func (d *Netdev) XSKFeatures() XSKFlags { return d.facts().XSKFeatures }

// ZCMaxSegs is xdp-zc-max-segs; netlink reports it only for devices with XSK_ZEROCOPY.
func (d *Netdev) ZCMaxSegs() uint32 { return max(d.facts().ZCMaxSegs, 1) }

// Rx is what the device makes of one received frame.
type Rx struct {
	// Hints are what the driver's xdp_metadata_ops give for the frame.
	Hints kfuncs.RxHints
	// Frame is the frame as the device hands it to XDP: the received frame itself, or a new slice
	// without the outer VLAN tag when the device stripped it.
	Frame []byte
	// Queue is the RX queue RSS picked, valid when Spread is set.
	Queue int
	// Spread says the device has several RX queues and picked Queue through its indirection
	// table.
	Spread bool
}

// Receive gives what the device makes of frame pkt (starting with its Ethernet header) received
// at time tsNs: the hints ([ComputeHints], with the device's key and the tags it strips now), the
// frame as XDP sees it, and, with more than one RX queue, the queue its indirection table picks
// for the RSS hash ([Queue]). pkt is not modified; nothing is allocated unless a tag is stripped.
func (d *Netdev) Receive(pkt []byte, tsNs uint64) Rx {
	return d.receive(pkt, tsNs, d.preparedKey())
}

// receive is Receive hashing with key.
func (d *Netdev) receive(pkt []byte, tsNs uint64, key hasher) Rx {
	h, out := computeHints(d.Profile, d.stripping(), pkt, tsNs, key)
	rx := Rx{Hints: h, Frame: out}
	if q := d.rxQueues(); q > 1 {
		rx.Queue, rx.Spread = Queue(h.Hash, int(q), d.Table()), true
	}
	return rx
}
