package device_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/sim/device"
)

// A device profile turns a received frame into the hints its driver would give the XDP program,
// and the hash picks the RX queue.
func ExampleComputeHints() {
	mlx5, err := device.LookupProfile("mlx5")
	if err != nil {
		panic(err)
	}
	// An 802.1Q-tagged (VID 100, PCP 3) TCP/IPv4 frame from 66.9.149.187:2794 to
	// 161.142.100.80:1766, the first of Microsoft's RSS verification vectors.
	frame := []byte{
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, // MACs
		0x81, 0x00, 0x60, 0x64, // the tag
		0x08, 0x00, // IPv4
		0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, // IPv4 header up to the addresses, TCP
		66, 9, 149, 187, 161, 142, 100, 80,
		0x0a, 0xea, 0x06, 0xe6, // ports 2794 -> 1766
		0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0, // the rest of the TCP header
	}
	hints, stripped := device.ComputeHints(mlx5, frame, 1_000_000_000, nil)
	fmt.Printf("hints %v, timestamp %d\n", hints.Valid, hints.Timestamp)
	fmt.Printf("hash %#08x type %#x (%v)\n", hints.Hash, uint32(hints.HashType), hints.HashType)
	fmt.Printf("tag %#04x/%#04x, frame %d -> %d bytes\n", hints.VLANProto, hints.VLANTCI, len(frame), len(stripped))
	fmt.Println("queue of 4:", device.Queue(hints.Hash, 4, nil))
	// Output:
	// hints rx_timestamp|rx_hash|rx_vlan_tag, timestamp 1000000000
	// hash 0x51ccc178 type 0x19 (L3_IPV4|L4|L4_TCP)
	// tag 0x8100/0x6064, frame 58 -> 54 bytes
	// queue of 4: 0
}

// The Toeplitz hash of Microsoft's first IPv4 vector, addresses and ports.
func ExampleToeplitz() {
	input := []byte{66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6}
	fmt.Printf("%#08x\n", device.Toeplitz(device.MicrosoftRSSKey[:], input))
	// Output: 0x51ccc178
}
