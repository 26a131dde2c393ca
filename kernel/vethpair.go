package kernel

import (
	"net"
	"time"

	"github.com/xdpsim/xdpsim/sim/result"
)

// VethPair is a run of RunVethPair: frames sent out of one veth end through a packet socket, as
// the kernel's transmit path (tc egress, veth_xmit) and the other end's receive path (tc ingress)
// handle them, with the other end in its own network namespace or in the same one.
type VethPair struct {
	// Object is the BPF object; Egress names its tcx/egress programs for the sending end and
	// Ingress its tcx/ingress programs for the receiving end, each list in attach order.
	Object  string
	Egress  []string
	Ingress []string
	// Preload fills maps before the first frame (the programs' configuration).
	Preload result.Maps
	// SendMAC and RecvMAC are the ends' Ethernet addresses.
	SendMAC, RecvMAC net.HardwareAddr
	// CrossNS moves the receiving end into a namespace of its own.
	CrossNS bool
	Frames  [][]byte
	// Done tells from the maps that the receiving end has seen n frames (RunVethPair waits for it
	// after each frame, up to Timeout, default 5 s).
	Done    func(m result.Maps, n int) bool
	Timeout time.Duration
}

// VethPairResult is what a VethPair run left: the maps, and the ends' ifindexes (each in its own
// namespace).
type VethPairResult struct {
	Maps                     result.Maps
	SendIfindex, RecvIfindex int
}
