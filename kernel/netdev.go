package kernel

// NetdevFeatures is what the netdev generic netlink family's dev-get operation reports for one
// device (Documentation/netlink/specs/netdev.yaml): the XDP features (enum netdev_xdp_act), the
// XDP RX-metadata features (enum netdev_xdp_rx_metadata: the hint kfuncs the driver implements),
// the AF_XDP TX-metadata features (enum netdev_xsk_flags) and, for devices with AF_XDP zero copy,
// the largest number of fragments a zero-copy frame may have.
type NetdevFeatures struct {
	Ifindex               uint32
	XDPFeatures           uint64
	XDPRxMetadataFeatures uint64
	XSKFeatures           uint64
	// XDPZCMaxSegs is 0 when the kernel did not report it: it does only for devices with
	// NETDEV_XDP_ACT_XSK_ZEROCOPY.
	XDPZCMaxSegs uint32

	// MTU, MinMTU and MaxMTU are the device's MTU and its limits as rtnetlink reports them
	// (IFLA_MTU, IFLA_MIN_MTU, IFLA_MAX_MTU); RxQueues and TxQueues the queues in use as
	// ethtool's ETHTOOL_GCHANNELS reports them. [VethFeatures] fills them (and [LoopbackFeatures]
	// the MTUs), [NetdevGet] does not.
	MTU, MinMTU, MaxMTU uint32
	RxQueues, TxQueues  uint32
}

// VethReport is what [VethFeatures] found.
type VethReport struct {
	End, Peer NetdevFeatures
	// AttachErr is the error of attaching the setup's XDP programs (nil when they attached);
	// the features are read either way, after the attempt.
	AttachErr error
}

// VethSetup describes the veth pair [VethFeatures] creates. The first end is the one called
// "end" in the result, the other the "peer". Queue counts of 0 mean the kernel's default (1).
type VethSetup struct {
	RxQueues, TxQueues         int
	PeerRxQueues, PeerTxQueues int
	// XDP and PeerXDP attach an XDP program (native mode, returning XDP_PASS) to the end or the
	// peer before the features are read.
	XDP, PeerXDP bool
	// Frags loads those programs with BPF_F_XDP_HAS_FRAGS (frags-aware).
	Frags bool
	// GRO and PeerGRO switch GRO on (ETHTOOL_SGRO) on the end or the peer.
	GRO, PeerGRO bool
	// MTU sets both ends' MTU; 0 leaves the kernel's default of 1500.
	MTU int
}
