package device

import (
	"github.com/xdpsim/xdpsim/kfuncs"
)

// Netdev is one simulated network device, as a driver presents it to XDP: its profile (which
// RX-metadata hints the driver gives, what its RSS hashes, which VLAN tags it strips) and its
// configuration (RSS key, RX queues and the indirection table that spreads packets over them, the
// CPUs the queues run on).
//
// The zero value is not usable; give it at least a Profile. A Netdev is used by one goroutine at a
// time.
type Netdev struct {
	// Name is the interface name ("eth0").
	Name string
	// Ifindex is the interface index.
	Ifindex uint32
	// Profile says which RX-metadata hints the device supplies, what it hashes for RSS and whether
	// it strips VLAN tags.
	Profile *Profile
	// RSSKey overrides the profile's Toeplitz key.
	RSSKey []byte
	// Queues is the number of RX queues RSS spreads packets over through the indirection table; 0
	// or 1 leaves the queue to the caller.
	Queues int
	// CPUs is the number of CPUs queues map to (queue i runs on CPU i mod CPUs); 0 leaves it to
	// the caller.
	CPUs int

	table []uint32
}

// NewNetdev makes a device of profile p with one RX queue and the profile's RSS key.
func NewNetdev(p *Profile) *Netdev { return &Netdev{Profile: p} }

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
// at time tsNs: the hints ([ComputeHints]), the frame as XDP sees it, and, with more than one RX
// queue, the queue its indirection table picks for the RSS hash ([Queue]). pkt is not modified.
func (d *Netdev) Receive(pkt []byte, tsNs uint64) Rx {
	h, out := ComputeHints(d.Profile, pkt, tsNs, d.RSSKey)
	rx := Rx{Hints: h, Frame: out}
	if d.Queues > 1 {
		if d.table == nil {
			d.table = DefaultIndirection(d.Queues, DefaultIndirectionSize)
		}
		rx.Queue, rx.Spread = Queue(h.Hash, d.Queues, d.table), true
	}
	return rx
}
