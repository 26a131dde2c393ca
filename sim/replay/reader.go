package replay

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// MaxSnaplen is the largest record length read and the snap length written: tcpdump's own maximum
// (MAXIMUM_SNAPLEN, 262144), well above the longest frame BPF_PROG_TEST_RUN takes (3,520 linear
// bytes and 17 fragments of 4,096, 73,152 bytes) and what a program can grow it to.
const MaxSnaplen = 262144

// Record is one packet of an input trace. Data is the reader's own buffer: it is valid until the
// next call to Next.
type Record struct {
	// File is the trace's path; Index numbers records from 1 within it.
	File  string
	Index int
	// Time is the record's capture time (the virtual clock of its run).
	Time time.Time
	// Data holds the captured bytes; OrigLen is the frame's length on the wire. A record with
	// len(Data) < OrigLen was snapped (cut short by the capture's snap length).
	Data    []byte
	OrigLen int
	// Interface is the pcapng interface the record was captured on (0 for pcap).
	Interface int
	// Meta is XDP metadata to put in front of the frame: none for a trace's records; a fuzz
	// input's, for a packet run through Loop.Packet.
	Meta []byte
}

// Snapped says the capture cut the frame short: the program would see a shorter frame than the one
// that was on the wire.
func (r *Record) Snapped() bool { return len(r.Data) < r.OrigLen }

// TraceError is a trace that cannot be read. Its message names the file and, where it applies, the
// record.
type TraceError struct {
	File   string
	Record int // 0: the file as a whole
	Err    error
}

func (e *TraceError) Error() string {
	if e.Record == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: record %d: %v", e.File, e.Record, e.Err)
}

func (e *TraceError) Unwrap() error { return e.Err }

// source is what both pcapgo readers offer.
type source interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Reader reads the records of a pcap or pcapng trace with an Ethernet link type, into buffers it
// reuses: reading a trace allocates nothing per record once the buffers have grown.
type Reader struct {
	path    string
	f       *os.File
	src     source
	ng      *pcapgo.NgReader
	rec     Record
	n       int
	mapping []byte // a classic pcap file mapped into memory (see mapTrace), unmapped by Close
}

// Open opens a pcap or pcapng trace. Every error is a *TraceError.
func Open(path string) (*Reader, error) {
	bad := func(record int, format string, args ...any) error {
		return &TraceError{File: path, Record: record, Err: fmt.Errorf(format, args...)}
	}
	if path == "-" {
		return nil, bad(0, "a trace is a file, not standard input: give /dev/stdin to read a pipe")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &TraceError{File: path, Err: unwrapPath(err)}
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, bad(0, "is a directory, not a trace")
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		f.Close()
		return nil, bad(0, "not a pcap or pcapng file (too short)")
	}
	if string(magic) == "\x7fELF" {
		f.Close()
		return nil, bad(0, "is an ELF object, not a pcap or pcapng trace")
	}
	r := &Reader{path: path, f: f, rec: Record{File: path}}
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		// Mixed link types are read so that a record of a non-Ethernet interface is an error
		// naming it, not silently skipped (which would renumber every later record).
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			f.Close()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, bad(0, "pcapng: the file ends inside its header blocks (truncated?)")
			}
			return nil, bad(0, "pcapng: %w", err)
		}
		r.src, r.ng = ng, ng
		return r, nil
	}
	var lt layers.LinkType
	if isClassicPcap(magic) {
		// The reader takes over from what br has read ahead. It tells a file that ends inside a
		// record (io.ErrUnexpectedEOF) itself.
		ahead, _ := br.Peek(br.Buffered())
		r.mapping = mapTrace(f)
		pf, err := newPcapReader(f, ahead, r.mapping)
		if err != nil {
			r.Close()
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, bad(0, "pcap: the file ends inside its header (truncated?)")
			}
			return nil, bad(0, "not a pcap or pcapng file: %w", err)
		}
		// Readers such as tcpdump take records longer than the file's snap length; so do we,
		// up to tcpdump's own maximum.
		pf.snaplen = max(pf.snaplen, MaxSnaplen)
		r.src, lt = pf, pf.linkType
	} else {
		// A compressed trace, or none at all: pcapgo reads the one (whose sizes cannot be
		// checked) and names the other.
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			f.Close()
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, bad(0, "pcap: the file ends inside its header (truncated?)")
			}
			return nil, bad(0, "not a pcap or pcapng file: %w", err)
		}
		pr.SetSnaplen(max(pr.Snaplen(), MaxSnaplen))
		r.src, lt = pr, pr.LinkType()
	}
	if lt != layers.LinkTypeEthernet {
		r.Close()
		return nil, bad(0, "link type %s (%d) is not Ethernet; XDP programs see Ethernet frames", lt, int(lt))
	}
	return r, nil
}

// Next returns the next record, or io.EOF after the last. The record and its data are valid until
// the next call. Every other error is a *TraceError naming the record.
func (r *Reader) Next() (*Record, error) {
	data, ci, err := r.src.ZeroCopyReadPacketData()
	n := r.n + 1
	if errors.Is(err, io.EOF) {
		// gopacket reports a file that ends inside a pcapng block as a plain EOF (the classic
		// pcap reader, pcapread.go, tells one that ends inside a record itself).
		if r.ng != nil && r.ngCut() {
			return nil, &TraceError{File: r.path, Record: n, Err: errors.New("the file ends in the middle of this record (truncated?)")}
		}
		return nil, io.EOF
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, &TraceError{File: r.path, Record: n, Err: errors.New("the file ends in the middle of this record (truncated?)")}
	}
	if err != nil {
		return nil, &TraceError{File: r.path, Record: n, Err: fmt.Errorf("%w (corrupt record?)", err)}
	}
	r.n = n
	if r.ng != nil {
		if iface, err := r.ng.Interface(ci.InterfaceIndex); err == nil && iface.LinkType != layers.LinkTypeEthernet {
			return nil, &TraceError{File: r.path, Record: n, Err: fmt.Errorf("captured on interface %d (%s) with link type %s (%d), not Ethernet; XDP programs see Ethernet frames",
				ci.InterfaceIndex, ifaceName(iface), iface.LinkType, int(iface.LinkType))}
		}
	}
	if ci.CaptureLength > MaxSnaplen {
		return nil, &TraceError{File: r.path, Record: n, Err: fmt.Errorf("%d bytes is longer than any frame (%d at most)", ci.CaptureLength, MaxSnaplen)}
	}
	r.rec.Index = n
	r.rec.Time = ci.Timestamp
	r.rec.Data = data
	r.rec.OrigLen = max(ci.Length, len(data))
	r.rec.Interface = ci.InterfaceIndex
	return &r.rec, nil
}

// ngCut tells whether a pcapng file ends inside a block. Every block ends with its total length,
// as it also gives it in its second word: in a whole file the last four bytes are a length L and
// the block L bytes before the end repeats it. (Either byte order: a section header sets it.)
func (r *Reader) ngCut() bool {
	st, err := r.f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false // a pipe: what was read is all there is
	}
	size := st.Size()
	var tail, head [4]byte
	if size < 12 || size%4 != 0 {
		return true
	}
	if _, err := r.f.ReadAt(tail[:], size-4); err != nil {
		return true
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		n := int64(order.Uint32(tail[:]))
		if n < 12 || n%4 != 0 || n > size {
			continue
		}
		if _, err := r.f.ReadAt(head[:], size-n+4); err == nil && int64(order.Uint32(head[:])) == n {
			return false
		}
	}
	return true
}

// Close closes the trace file. The records read from it are then invalid.
func (r *Reader) Close() error {
	if r.mapping != nil {
		unmapTrace(r.mapping)
		r.mapping = nil
	}
	return r.f.Close()
}

func ifaceName(i pcapgo.NgInterface) string {
	if i.Name != "" {
		return fmt.Sprintf("%q", i.Name)
	}
	return "unnamed"
}

// unwrapPath drops the path an *os.PathError repeats, since TraceError names the file itself.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// ReadAll calls fn for every record of every trace in order. It stops at the first error: a
// *TraceError for the traces, or fn's error as it came.
func ReadAll(traces []string, fn func(*Record) error) error {
	for _, path := range traces {
		if err := readAll(path, fn); err != nil {
			return err
		}
	}
	return nil
}

// readAll is ReadAll for one trace. A mapped file that shrinks while it is read (another process
// truncates it) makes the next touch of the lost pages fault: within this goroutine, which reads
// the records and runs fn, that fault is an error naming the record, not the end of the process.
func readAll(path string, fn func(*Record) error) (err error) {
	r, err := Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if m := r.mapping; m != nil {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if f, ok := v.(interface{ Addr() uintptr }); ok {
				if lo := uintptr(unsafe.Pointer(unsafe.SliceData(m))); f.Addr() >= lo && f.Addr()-lo < uintptr(len(m)) {
					err = &TraceError{File: path, Record: r.n, Err: errors.New("the file shrank while it was read (truncated by another process?)")}
					return
				}
			}
			panic(v)
		}()
	}
	for {
		rec, err := r.Next()
		if err == nil {
			err = fn(rec)
		} else if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
