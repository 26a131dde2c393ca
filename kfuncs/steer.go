package kfuncs

import (
	"encoding/binary"
	"slices"
)

// RSSHash is the RSS hash device p computes for frame pkt, the Hash of ComputeHints, without the
// rest of the hints and without making the frame the device hands on: what picks the frame's RX
// queue (see Queue) before anything else is known about it. key overrides the profile's RSS key
// when it is not nil.
func RSSHash(p *DeviceProfile, pkt []byte, key []byte) uint32 {
	if p.RSS == 0 {
		return 0
	}
	if key == nil {
		key = p.key()
	}
	// ComputeHints hashes the frame with a stripped outer tag removed. The hash input is read from
	// offset 12 (the EtherType) on, so the frame from byte 4 on reads as the stripped one does.
	frame := pkt
	if len(pkt) >= 18 && slices.Contains(p.StripVLAN, binary.BigEndian.Uint16(pkt[12:14])) {
		frame = pkt[4:]
	}
	var in [36]byte
	n, _, _ := rssInput(p.RSS, frame, &in)
	if n == 0 {
		return 0
	}
	return Toeplitz(key, in[:n])
}
