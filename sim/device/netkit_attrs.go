package device

import (
	"errors"
	"fmt"

	"github.com/xdpsim/xdpsim/errno"
)

// netkit devices in the control interface: their attributes (layout version 3) come from the
// Registry that holds the pair's netkit state, and a change of a policy goes through the same
// rules as rtnetlink's changelink (Registry.SetNetkitPolicy).

// NetkitProfile is a netkit device's profile: no native XDP, no RX metadata, no RSS, one queue,
// ether_setup's MTU limits.
func NetkitProfile() *Profile {
	return &Profile{Name: "netkit", Description: "a netkit device (drivers/net/netkit.c): BPF programs in its transmit routine, no XDP",
		Facts: DriverFacts{MinMTU: 68, MaxMTU: 65535, MTU: 1500, MaxQueues: 1, Queues: 1, RingFixed: true}}
}

// NewNetkitPair makes the control interface's view of a netkit pair that registry r holds: the
// primary and the peer (ifindexes as r knows them), each other's peer.
func NewNetkitPair(r *Registry, primary, peer string, primaryIfindex, peerIfindex uint32) (*Netdev, *Netdev) {
	a, b := NewNetdev(NetkitProfile()), NewNetdev(NetkitProfile())
	a.Name, a.Ifindex, b.Name, b.Ifindex = primary, primaryIfindex, peer, peerIfindex
	a.peer, b.peer = b, a
	a.netkit, b.netkit = r, r
	return a, b
}

// SetMTU changes the MTU as an update of the mtu member from user space would.
func (d *Netdev) SetMTU(mtu uint32) error {
	if err := setMTU(d, mtu); err != nil {
		return &UpdateError{Dev: d.Name, Member: "mtu", Errno: errno.EINVAL, Reason: err.Error()}
	}
	return nil
}

// netkitInfo is the device's netkit state, and its peer's.
func (d *Netdev) netkitInfo() (self, peer NetkitInfo, ok bool) {
	if d.netkit == nil {
		return self, peer, false
	}
	if self, ok = d.netkit.Netkit(d.Ifindex); !ok {
		return self, peer, false
	}
	peer, _ = d.netkit.Netkit(self.Peer)
	return self, peer, true
}

func getNetkit(d *Netdev) uint32 {
	self, _, ok := d.netkitInfo()
	switch {
	case !ok:
		return 0
	case self.Primary:
		return 1
	}
	return 2
}

// setNetkitPolicy records a policy change (of the device, or of its peer through it) after the
// checks of netkit_change_link; commitTo makes it.
func setNetkitPolicy(d *Netdev, v uint32, ofPeer bool) error {
	self, _, ok := d.netkitInfo()
	if !ok {
		return &UpdateError{Errno: errno.EOPNOTSUPP, Reason: "not a netkit device"}
	}
	if !self.Primary {
		return &UpdateError{Errno: errno.EACCES, Reason: "netkit link settings can be changed only through the primary device"}
	}
	p := NetkitAction(int32(v))
	if err := checkPolicy(p); err != nil {
		var e errno.Errno
		if !errors.As(err, &e) {
			e = errno.EINVAL
		}
		return &UpdateError{Errno: e, Reason: fmt.Sprintf("%d is not a default policy (NETKIT_PASS or NETKIT_DROP)", int32(v))}
	}
	if ofPeer {
		d.nkPeerPolicy = &p
	} else {
		d.nkPolicy = &p
	}
	return nil
}

// commitNetkit makes the policy changes an update recorded.
func (d *Netdev) commitNetkit() error {
	if d.nkPolicy == nil && d.nkPeerPolicy == nil {
		return nil
	}
	err := d.netkit.SetNetkitPolicy(d.Ifindex, d.nkPolicy, d.nkPeerPolicy)
	d.nkPolicy, d.nkPeerPolicy = nil, nil
	return err
}
