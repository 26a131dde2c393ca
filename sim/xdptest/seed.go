package xdptest

import (
	"maps"
	"math/bits"
	"slices"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/sim/replay"
)

// AddSeeds adds to the fuzz target's seed corpus the packets of the traces (pcap or pcapng files)
// that reach something in the program the others do not (see Distill): a handful of packets, not
// thousands, since Go's fuzzer works through its corpus one entry at a time. The fuzz function
// must take the packet as its only argument (func(t *testing.T, pkt []byte)); for other
// signatures, call Distill and f.Add yourself.
func (p *Program) AddSeeds(f *testing.F, traces ...string) {
	f.Helper()
	pkts, err := ReadPcap(traces...)
	if err != nil {
		f.Fatalf("xdptest: %v", err)
	}
	for _, pkt := range p.Distill(pkts) {
		f.Add(pkt)
	}
}

// Distill picks from pkts a few that together reach everything all of them reach in the program:
// every edge of every branch, every power of two of the times an edge ran, every way a run ended
// (not every closeness of every comparison, which is for the fuzzer to climb). It goes through the
// packets shortest first and keeps each that reaches something the kept ones do not, then
// shortens each kept UDP or TCP packet's payload (fixing the IP and UDP lengths and the
// checksums) as far as it still reaches exactly what it reached: short seeds fuzz faster, since a
// fuzzer's mutations land on the bytes that matter more often. Each runs from the maps'
// snapshot.
func (p *Program) Distill(pkts [][]byte) [][]byte {
	order := make([]int, len(pkts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(pkts[a]) - len(pkts[b]) })
	// reach runs a packet (alone) and returns what it reaches, as the fuzzer sees it, or nil.
	reach := func(pkt []byte) map[hit]bool {
		if _, _, _, err := p.run(Input{Packet: pkt}, nil, false); err != nil {
			return nil
		}
		got := map[hit]bool{}
		for _, h := range p.feats.pending {
			if h.near {
				continue // closeness is for fuzzing to climb, not for choosing seeds
			}
			h.n = uint64(1) << (bits.Len64(min(h.n, 255)) - 1) // what the fuzzer sees of a count
			got[h] = true
		}
		return got
	}
	seen := map[hit]bool{}
	var out [][]byte
	for _, i := range order {
		got := reach(pkts[i])
		added := false
		for h := range got {
			if !seen[h] {
				seen[h] = true
				added = true
			}
		}
		if !added {
			continue
		}
		pkt := pkts[i]
		for _, n := range payloadLengths(pkt) {
			if short := shorten(pkt, n); short != nil && maps.Equal(reach(short), got) {
				pkt = short
				break
			}
		}
		out = append(out, pkt)
	}
	return out
}

// payloadLengths lists the payload lengths to try shortening pkt's to, shortest first.
func payloadLengths(pkt []byte) []int {
	var out []int
	for n := 0; n < len(pkt); n = max(n+1, n*3/2) {
		out = append(out, n)
	}
	return out
}

// shorten returns pkt, an Ethernet frame (with at most two VLAN tags) of IPv4 or IPv6 and UDP or
// TCP, with its transport payload cut to n bytes and its lengths and checksums fixed; nil for
// other frames, fragments, or a payload not longer than n.
func shorten(pkt []byte, n int) []byte {
	dec := gopacket.NewPacket(pkt, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	if dec.ErrorLayer() != nil {
		return nil
	}
	var stack []gopacket.SerializableLayer
	var net gopacket.NetworkLayer
	for _, l := range dec.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet, *layers.Dot1Q:
			stack = append(stack, l.(gopacket.SerializableLayer))
		case *layers.IPv4:
			if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				return nil
			}
			stack, net = append(stack, l), l
		case *layers.IPv6:
			stack, net = append(stack, l), l
		case *layers.UDP:
			if net == nil || len(l.Payload) <= n {
				return nil
			}
			_ = l.SetNetworkLayerForChecksum(net)
			return serialize(append(stack, l, gopacket.Payload(l.Payload[:n])))
		case *layers.TCP:
			if net == nil || len(l.Payload) <= n {
				return nil
			}
			_ = l.SetNetworkLayerForChecksum(net)
			return serialize(append(stack, l, gopacket.Payload(l.Payload[:n])))
		default:
			return nil
		}
	}
	return nil
}

func serialize(stack []gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, stack...); err != nil {
		return nil
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ReadPcap returns the records of pcap or pcapng traces of Ethernet frames, in order (read by the
// replay loop's reader: errors name the file and the record).
func ReadPcap(paths ...string) ([][]byte, error) {
	var pkts [][]byte
	err := replay.ReadAll(paths, func(r *replay.Record) error {
		pkts = append(pkts, append([]byte(nil), r.Data...))
		return nil
	})
	return pkts, err
}
