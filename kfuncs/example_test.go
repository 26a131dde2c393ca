package kfuncs_test

import (
	"errors"
	"fmt"

	"github.com/xdpsim/xdpsim/kfuncs"
)

// A device profile turns a received frame into the hints its driver would give the XDP program,
// and the hash picks the RX queue.
func ExampleComputeHints() {
	mlx5, err := kfuncs.Profile("mlx5")
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
	hints, stripped := kfuncs.ComputeHints(mlx5, frame, 1_000_000_000, nil)
	fmt.Printf("hints %v, timestamp %d\n", hints.Valid, hints.Timestamp)
	fmt.Printf("hash %#08x type %#x (%v)\n", hints.Hash, uint32(hints.HashType), hints.HashType)
	fmt.Printf("tag %#04x/%#04x, frame %d -> %d bytes\n", hints.VLANProto, hints.VLANTCI, len(frame), len(stripped))
	fmt.Println("queue of 4:", kfuncs.Queue(hints.Hash, 4, nil))
	// Output:
	// hints rx_timestamp|rx_hash|rx_vlan_tag, timestamp 1000000000
	// hash 0x51ccc178 type 0x19 (L3_IPV4|L4|L4_TCP)
	// tag 0x8100/0x6064, frame 58 -> 54 bytes
	// queue of 4: 0
}

// The loader resolves a program's kfunc calls by name; proposals that never merged need their
// feature switched on.
func ExampleLookup() {
	k, err := kfuncs.Lookup("bpf_xdp_metadata_rx_hash", kfuncs.Features{})
	fmt.Println(k.Proto, k.DevBound, err)

	_, err = kfuncs.Lookup("bpf_xdp_trait_set", kfuncs.Features{})
	fmt.Println(err, errors.Is(err, kfuncs.ErrFeatureOff))

	var features kfuncs.Features
	_ = features.Enable("traits")
	k, err = kfuncs.Lookup("bpf_xdp_trait_set", features)
	fmt.Println(k.Name, err)
	// Output:
	// int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, u32 *hash, enum xdp_rss_hash_type *rss_type) true <nil>
	// kfunc bpf_xdp_trait_set belongs to a proposal that never merged into Linux; enable it with --feature traits true
	// bpf_xdp_trait_set <nil>
}

// The Toeplitz hash of Microsoft's first IPv4 vector, addresses and ports.
func ExampleToeplitz() {
	input := []byte{66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6}
	fmt.Printf("%#08x\n", kfuncs.Toeplitz(kfuncs.MicrosoftRSSKey[:], input))
	// Output: 0x51ccc178
}
