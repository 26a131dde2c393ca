package xdptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// AddSeeds adds to the fuzz target's seed corpus the packets of the traces (pcap or pcapng files)
// that reach something in the program the others do not (see Distill): a handful of packets, not
// thousands, since Go's fuzzer works through its corpus one entry at a time. The fuzz function
// must take the packet as its only argument (func(t *testing.T, pkt []byte)); for other
// signatures, call Distill and f.Add yourself.
func (p *Program) AddSeeds(f *testing.F, traces ...string) {
	f.Helper()
	var pkts [][]byte
	for _, path := range traces {
		got, err := ReadPcap(path)
		if err != nil {
			f.Fatalf("xdptest: %v", err)
		}
		pkts = append(pkts, got...)
	}
	for _, pkt := range p.Distill(pkts) {
		f.Add(pkt)
	}
}

// Distill picks from pkts a few that together reach everything all of them reach in the program:
// every edge of every branch, every power of two of the times an edge ran, every way a run ended
// (not every closeness of every comparison, which is for the fuzzer to climb).
// It goes through the packets shortest first and keeps each that reaches something the kept ones
// do not, so that it prefers short packets (which fuzz faster). Each runs from the maps' snapshot.
func (p *Program) Distill(pkts [][]byte) [][]byte {
	order := make([]int, len(pkts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(pkts[a]) - len(pkts[b]) })
	feats := p.features()
	rec := newRecorder(p)
	defer rec.done()
	seen := map[hit]bool{}
	var kept []int
	for _, i := range order {
		rec.reset()
		out, _, err := p.run(Input{Packet: pkts[i]}, nil)
		if err != nil {
			continue
		}
		feats.collect(rec.cov(), &out)
		added := false
		for _, h := range feats.pending {
			if h.near {
				continue // closeness is for fuzzing to climb, not for choosing seeds
			}
			h.n = uint64(1) << (bits.Len64(min(h.n, 255)) - 1) // what the fuzzer sees of a count
			if !seen[h] {
				seen[h] = true
				added = true
			}
		}
		if added {
			kept = append(kept, i)
		}
	}
	out := make([][]byte, len(kept))
	for k, i := range kept {
		out[k] = pkts[i]
	}
	return out
}

// ReadPcap returns the records of a pcap or pcapng file of Ethernet frames.
func ReadPcap(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%s: not a pcap or pcapng file (too short)", path)
	}
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var link layers.LinkType
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("%s: pcapng: %w", path, err)
		}
		src, link = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: not a pcap or pcapng file: %w", path, err)
		}
		src, link = r, r.LinkType()
	}
	if link != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %s is not Ethernet", path, link)
	}
	var pkts [][]byte
	for i := 1; ; i++ {
		data, _, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return pkts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", path, i, err)
		}
		pkts = append(pkts, data)
	}
}

// WritePcap writes packets to a pcap file (Ethernet, nanosecond timestamps from zero, a
// microsecond apart), replacing it: what xdpsim run and xdpsim diff read.
func WritePcap(path string, pkts [][]byte) error {
	tmp, err := os.CreateTemp(dirOf(path), ".xdptest-*.pcap")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := pcapgo.NewWriterNanos(tmp)
	err = w.WriteFileHeader(262144, layers.LinkTypeEthernet)
	for i, pkt := range pkts {
		if err != nil {
			break
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, int64(i)*1000), CaptureLength: len(pkt), Length: len(pkt)}
		err = w.WritePacket(ci, pkt)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' || path[i] == os.PathSeparator {
			return path[:i+1]
		}
	}
	return "."
}
