package device

import (
	"encoding/binary"
	"slices"
)

// Steer is the RX queue Receive puts frame pkt on, from the frame's RSS hash alone (no other hints,
// no copy of the frame), and whether the device spreads frames over several queues at all: what
// picks a frame's queue, and so its CPU, before anything else is known about it. Like Receive it
// prepares the device's key, indirection table and stripped tags on first use; afterwards it only
// reads them, so that once one call has returned, goroutines may steer and receive at once.
func (d *Netdev) Steer(pkt []byte) (queue int, spread bool) {
	queue, _, spread = d.SteerHash(pkt)
	return queue, spread
}

// SteerHash is Steer that also returns the frame's RSS hash (when spread), for ReceiveHashed.
func (d *Netdev) SteerHash(pkt []byte) (queue int, hash uint32, spread bool) {
	q := d.rxQueues()
	if q <= 1 {
		return 0, 0, false
	}
	hash = d.rssHash(pkt)
	return Queue(hash, int(q), d.Table()), hash, true
}

// ReceiveHashed is Receive for a frame whose RSS hash SteerHash returned: the same hints and
// queue, without hashing the frame again (what a parallel replay, which steers every frame before
// it runs, saves).
func (d *Netdev) ReceiveHashed(pkt []byte, tsNs uint64, hash uint32) Rx {
	return d.receive(pkt, tsNs, hasher{known: true, value: hash})
}

// rssHash is the Hash of the hints Receive computes for pkt.
func (d *Netdev) rssHash(pkt []byte) uint32 {
	p := d.Profile
	if p.RSS == 0 {
		return 0
	}
	// Receive hashes the frame with a stripped outer tag removed. The hash input is read from
	// offset 12 (the EtherType) on, so the frame from byte 4 on reads as the stripped one does.
	frame := pkt
	if len(pkt) >= 18 && slices.Contains(d.stripping(), binary.BigEndian.Uint16(pkt[12:14])) {
		frame = pkt[4:]
	}
	var in [36]byte
	n, _, _ := rssInput(p.RSS, frame, &in)
	if n == 0 {
		return 0
	}
	return d.preparedKey().hash(in[:n])
}
