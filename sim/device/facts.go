package device

import (
	"fmt"

	"github.com/xdpsim/xdpsim/errno"
)

// XDPAct is a set of XDP features as the netdev generic netlink family reports them in
// xdp-features (enum netdev_xdp_act, include/uapi/linux/netdev.h).
type XDPAct uint64

// The bits of enum netdev_xdp_act.
const (
	XDPActBasic       XDPAct = 1 << 0 // NETDEV_XDP_ACT_BASIC: XDP_PASS, XDP_DROP, XDP_ABORTED, XDP_TX
	XDPActRedirect    XDPAct = 1 << 1 // NETDEV_XDP_ACT_REDIRECT: XDP_REDIRECT out of this device
	XDPActNdoXmit     XDPAct = 1 << 2 // NETDEV_XDP_ACT_NDO_XMIT: a redirect target (ndo_xdp_xmit)
	XDPActXSKZeroCopy XDPAct = 1 << 3 // NETDEV_XDP_ACT_XSK_ZEROCOPY: AF_XDP zero copy
	XDPActHWOffload   XDPAct = 1 << 4 // NETDEV_XDP_ACT_HW_OFFLOAD
	XDPActRxSG        XDPAct = 1 << 5 // NETDEV_XDP_ACT_RX_SG: multi-buffer (frags) on RX
	XDPActNdoXmitSG   XDPAct = 1 << 6 // NETDEV_XDP_ACT_NDO_XMIT_SG: multi-buffer redirect target
)

var xdpActNames = [...]string{"basic", "redirect", "ndo-xmit", "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg"}

// Names lists the set's bits by their netlink names ("basic", "redirect", ...).
func (a XDPAct) Names() []string { return flagNames(uint64(a), xdpActNames[:]) }

// XSKFlags is a set of AF_XDP TX-metadata features as the netdev family reports them in
// xsk-features (enum netdev_xsk_flags).
type XSKFlags uint64

// The bits of enum netdev_xsk_flags.
const (
	XSKTxTimestamp  XSKFlags = 1 << 0 // NETDEV_XSK_FLAGS_TX_TIMESTAMP (tmo_fill_timestamp)
	XSKTxChecksum   XSKFlags = 1 << 1 // NETDEV_XSK_FLAGS_TX_CHECKSUM (tmo_request_checksum)
	XSKTxLaunchTime XSKFlags = 1 << 2 // NETDEV_XSK_FLAGS_TX_LAUNCH_TIME_FIFO (tmo_request_launch_time)
)

var xskFlagNames = [...]string{"tx-timestamp", "tx-checksum", "tx-launch-time-fifo"}

// Names lists the set's bits by their netlink names.
func (f XSKFlags) Names() []string { return flagNames(uint64(f), xskFlagNames[:]) }

// rxMetadataNames are the netlink names of enum netdev_xdp_rx_metadata, whose bits are those of
// kfuncs.Hint.
var rxMetadataNames = [...]string{"timestamp", "hash", "vlan-tag"}

func flagNames(v uint64, names []string) []string {
	out := []string{}
	for i, n := range names {
		if v&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if rest := v &^ (1<<len(names) - 1); rest != 0 {
		out = append(out, fmt.Sprintf("%#x", rest))
	}
	return out
}

// NdoXmitRule says when a driver declares itself a redirect target (NETDEV_XDP_ACT_NDO_XMIT).
type NdoXmitRule uint8

const (
	// NdoXmitNever: the device is never a redirect target.
	NdoXmitNever NdoXmitRule = iota
	// NdoXmitWithProgram: only while an XDP program is attached to the device
	// (xdp_features_set_redirect_target at XDP setup: ice, igc, virtio_net, and mlx5 since it
	// allocates the XDP redirect send queue only with a program).
	NdoXmitWithProgram
	// NdoXmitPeerProgramOrGRO: while the veth peer has an XDP program or GRO on (veth: frames
	// redirected into a veth are received by its peer's NAPI; measured on 6.18).
	NdoXmitPeerProgramOrGRO
)

// DriverFacts are what a device's driver declares to the kernel and what the netdev netlink family
// and ethtool report of it: the base of the attributes a [Netdev] exposes. Each value comes from
// the driver's source (Linux 6.18 era) or, for veth, from measurements on Linux 6.18 (package
// kernel's tests hold the simulated veth to the real one).
type DriverFacts struct {
	// XDPFeatures are the xdp-features the driver always declares (xdp_set_features_flag or
	// netdev->xdp_features at probe).
	XDPFeatures XDPAct
	// NdoXmit says when NDO_XMIT is added, and NdoXmitSG whether NDO_XMIT_SG comes with it
	// (the support_sg argument of xdp_features_set_redirect_target).
	NdoXmit   NdoXmitRule
	NdoXmitSG bool
	// XSKFeatures are the driver's xsk_tx_metadata_ops, as xsk-features.
	XSKFeatures XSKFlags
	// ZCMaxSegs is netdev->xdp_zc_max_segs (1 unless the driver sets it); reported only with
	// XSK_ZEROCOPY.
	ZCMaxSegs uint32
	// MinMTU and MaxMTU are the device's MTU limits (dev->min_mtu, dev->max_mtu); MTU is its
	// default MTU.
	MinMTU, MaxMTU, MTU uint32
	// XDPMaxMTU is the largest MTU an XDP program without frags support may run with (the
	// linear-buffer limit); 0 means no limit. A frags-aware program lifts it when the device
	// declares RX_SG.
	XDPMaxMTU uint32
	// XDPMaxMTUErr is what attaching such a program to a device whose MTU is above XDPMaxMTU
	// fails with (veth ERANGE, mlx5 and virtio_net EINVAL, ice and igc EOPNOTSUPP), and what a
	// change of the MTU above it fails with while one is attached.
	XDPMaxMTUErr errno.Errno
	// XDPMaxMTUOnPeer: the limit is put on the veth peer's max_mtu while a program is attached
	// (veth), instead of being checked against the device's own MTU.
	XDPMaxMTUOnPeer bool
	// XDPFragsMaxMTU is the peer's max_mtu with a frags-aware program (veth: the linear limit
	// plus PAGE_SIZE * MAX_SKB_FRAGS); 0 when the peer keeps its own limit.
	XDPFragsMaxMTU uint32
	// MaxQueues is the most RX and TX queues (channels) the device may have; Queues its default.
	MaxQueues, Queues uint32
	// RingSize is the default RX and TX descriptor ring size and MaxRing the largest;
	// RingFixed says ethtool cannot change them (set_ringparam missing).
	RingSize, MaxRing uint32
	RingFixed         bool
	// RSSKeySize and IndirSize are the sizes ethtool -x reports (0: no RSS configuration).
	RSSKeySize, IndirSize uint32
	// Strip says the device strips VLAN tags (StripVLAN) by default, as NETIF_F_HW_VLAN_*_RX.
	Strip bool
	// Notes say what the facts leave out.
	Notes []string
}
