package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// record is one packet of an input trace.
type record struct {
	file  string
	index int // 1-based within its file
	ts    time.Time
	data  []byte
}

// packetSource reads pcap or pcapng records.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// traceError is a trace that cannot be read: it names the file and, where it applies, the record.
type traceError struct{ err error }

func (e *traceError) Error() string { return e.err.Error() }
func (e *traceError) Unwrap() error { return e.err }

// readTrace calls fn for every record of a pcap or pcapng file with an Ethernet link type. Errors
// reading the trace are *traceError; fn's errors come back as they are.
func readTrace(path string, fn func(record) error) error {
	return readTraceRecords(path, fn)
}

func readTraceRecords(path string, fn func(record) error) error {
	bad := func(format string, args ...any) error { return &traceError{fmt.Errorf(format, args...)} }
	f, err := os.Open(path)
	if err != nil {
		return &traceError{err}
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return bad("%s: not a pcap or pcapng file (too short)", path)
	}
	var src packetSource
	var link layers.LinkType
	switch {
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return bad("%s: pcapng: %w", path, err)
		}
		src, link = r, r.LinkType()
	default:
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return bad("%s: not a pcap or pcapng file: %w", path, err)
		}
		src, link = r, r.LinkType()
	}
	if link != layers.LinkTypeEthernet {
		return bad("%s: link type %s (%d) is not Ethernet; XDP programs see Ethernet frames", path, link, int(link))
	}
	for i := 1; ; i++ {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return bad("%s: record %d: %w (truncated file?)", path, i, err)
		}
		if err := fn(record{file: path, index: i, ts: ci.Timestamp, data: data}); err != nil {
			return err
		}
	}
}

// pcapOut is an output pcap that appears whole or not at all: it is written to a temporary file
// beside its final name and renamed when the run completes.
type pcapOut struct {
	final string
	f     *os.File
	bw    *bufio.Writer
	w     *pcapgo.Writer
}

func newPcapOut(dir, name string) (*pcapOut, error) {
	f, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(f)
	w := pcapgo.NewWriterNanos(bw)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &pcapOut{final: filepath.Join(dir, name), f: f, bw: bw, w: w}, nil
}

func (p *pcapOut) write(ts time.Time, data []byte) error {
	return p.w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data)
}

// commit flushes and renames the file into place.
func (p *pcapOut) commit() error {
	if err := p.bw.Flush(); err != nil {
		p.abort()
		return err
	}
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	return os.Rename(p.f.Name(), p.final)
}

// abort removes the temporary file.
func (p *pcapOut) abort() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// atomicFile is an output file ("-" is stdout) that appears whole or not at all.
type atomicFile struct {
	final string
	f     *os.File
	bw    *bufio.Writer
}

// createAtomic opens path for writing; "-" is stdout.
func createAtomic(path string, stdout io.Writer) (*atomicFile, error) {
	if path == "-" {
		return &atomicFile{bw: bufio.NewWriter(stdout)}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	return &atomicFile{final: path, f: f, bw: bufio.NewWriter(f)}, nil
}

func (a *atomicFile) Write(b []byte) (int, error) { return a.bw.Write(b) }

func (a *atomicFile) commit() error {
	if err := a.bw.Flush(); err != nil {
		a.abort()
		return err
	}
	if a.f == nil {
		return nil
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return err
	}
	return os.Rename(a.f.Name(), a.final)
}

func (a *atomicFile) abort() {
	if a.f != nil {
		a.f.Close()
		os.Remove(a.f.Name())
	}
}

// summarize describes a frame in one tcpdump-like line.
func summarize(data []byte) string {
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	s := ""
	if eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		s = fmt.Sprintf("%s > %s", eth.SrcMAC, eth.DstMAC)
	}
	if v, ok := p.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
		s += fmt.Sprintf(" vlan %d", v.VLANIdentifier)
	}
	switch {
	case p.Layer(layers.LayerTypeIPv4) != nil:
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		s = fmt.Sprintf("IP %s > %s", ip.SrcIP, ip.DstIP)
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			s += fmt.Sprintf(" frag off %d", ip.FragOffset*8)
		}
	case p.Layer(layers.LayerTypeIPv6) != nil:
		ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		s = fmt.Sprintf("IP6 %s > %s", ip.SrcIP, ip.DstIP)
	case p.Layer(layers.LayerTypeARP) != nil:
		s += " ARP"
	}
	switch {
	case p.Layer(layers.LayerTypeTCP) != nil:
		t := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		s += fmt.Sprintf(" TCP %d > %d", t.SrcPort, t.DstPort)
	case p.Layer(layers.LayerTypeUDP) != nil:
		u := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		s += fmt.Sprintf(" UDP %d > %d", u.SrcPort, u.DstPort)
	case p.Layer(layers.LayerTypeICMPv4) != nil:
		s += " ICMP"
	case p.Layer(layers.LayerTypeICMPv6) != nil:
		s += " ICMP6"
	}
	if s == "" {
		s = "runt frame"
	}
	return fmt.Sprintf("%s, length %d", s, len(data))
}
