package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// pcapReader reads the records of a classic (libpcap) trace straight out of its read buffer: the
// data of a record is a slice of the buffer, valid until the next record is read. pcapgo's reader
// copies every record twice (through a bufio.Reader of its own and io.ReadFull, header and data
// apart), which cost a quarter of `xdpsim run`'s time per packet; a libpcap record is a 16-byte
// header and the data, so this reader is short. pcapgo still reads gzip-compressed traces and
// pcapng.
type pcapReader struct {
	r         io.Reader
	buf       []byte
	pos, end  int // the unread bytes are buf[pos:end]
	err       error
	bigEndian bool
	nsFactor  uint32 // 1 for nanosecond timestamps, 1000 for microseconds
	snaplen   uint32
	linkType  layers.LinkType
	// mapped says buf is the whole file mapped into memory (mapTrace): then nothing is read,
	// nor moved. Reading it cost `xdpsim run` a third of its time per packet, the system call
	// copying the file out of the page cache, as much as the simulator's run of a small program.
	mapped bool
}

// The libpcap file header's magic numbers, as they read in little-endian order.
const (
	pcapMagicMicros   = 0xa1b2c3d4
	pcapMagicNanos    = 0xa1b23c4d
	pcapMagicMicrosBE = 0xd4c3b2a1
	pcapMagicNanosBE  = 0x4d3cb2a1
	pcapHeaderLen     = 24
	pcapRecordHdrLen  = 16
)

// pcapBufferSize is the reader's buffer: several records' worth, and at least the longest record
// the replay accepts with its header, so that every record is read out of it without a copy.
const pcapBufferSize = 1<<20 + MaxSnaplen + pcapRecordHdrLen

// isClassicPcap says whether magic starts a libpcap trace.
func isClassicPcap(magic []byte) bool {
	switch binary.LittleEndian.Uint32(magic) {
	case pcapMagicMicros, pcapMagicNanos, pcapMagicMicrosBE, pcapMagicNanosBE:
		return true
	}
	return false
}

// newPcapReader reads the file header from the bytes ahead, read from r already, and then r. Its
// errors read as pcapgo's.
// With mapping, the whole file mapped into memory, it reads the records out of that instead.
func newPcapReader(r io.Reader, ahead, mapping []byte) (*pcapReader, error) {
	var p *pcapReader
	if mapping != nil {
		p = &pcapReader{buf: mapping, end: len(mapping), err: io.EOF, mapped: true}
	} else {
		p = &pcapReader{r: r, buf: make([]byte, pcapBufferSize)}
		p.end = copy(p.buf, ahead)
	}
	if err := p.fill(pcapHeaderLen); err != nil {
		return nil, err
	}
	h := p.buf[p.pos : p.pos+pcapHeaderLen]
	p.pos += pcapHeaderLen
	switch magic := binary.LittleEndian.Uint32(h); magic {
	case pcapMagicMicros:
		p.nsFactor = 1000
	case pcapMagicNanos:
		p.nsFactor = 1
	case pcapMagicMicrosBE:
		p.bigEndian, p.nsFactor = true, 1000
	case pcapMagicNanosBE:
		p.bigEndian, p.nsFactor = true, 1
	default:
		return nil, fmt.Errorf("Unknown magic %x", magic)
	}
	if v := p.u16(h[4:]); v != 2 {
		return nil, fmt.Errorf("Unknown major version %d", v)
	}
	if v := p.u16(h[6:]); v != 4 {
		return nil, fmt.Errorf("Unknown minor version %d", v)
	}
	p.snaplen = p.u32(h[16:])
	p.linkType = layers.LinkType(p.u32(h[20:]))
	return p, nil
}

func (p *pcapReader) u32(b []byte) uint32 {
	if p.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (p *pcapReader) u16(b []byte) uint16 {
	if p.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// fill makes at least n bytes unread in the buffer, moving the unread ones to its front when they
// would not fit. At the end of the file it gives io.EOF if no byte is left, io.ErrUnexpectedEOF if
// some are.
func (p *pcapReader) fill(n int) error {
	if p.end-p.pos >= n {
		return nil
	}
	if p.pos+n > len(p.buf) && !p.mapped {
		p.end = copy(p.buf, p.buf[p.pos:p.end])
		p.pos = 0
	}
	for p.end-p.pos < n && p.err == nil {
		var m int
		m, p.err = p.r.Read(p.buf[p.end:])
		p.end += m
	}
	if p.end-p.pos >= n {
		return nil
	}
	if errors.Is(p.err, io.EOF) {
		if p.end > p.pos {
			return io.ErrUnexpectedEOF
		}
		return io.EOF
	}
	return p.err
}

// ZeroCopyReadPacketData reads the next record: its data is a slice of the read buffer, valid until
// the next call. A file that ends inside a record gives io.ErrUnexpectedEOF; the checks of the
// lengths are pcapgo's.
func (p *pcapReader) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	var ci gopacket.CaptureInfo
	if err := p.fill(pcapRecordHdrLen); err != nil {
		return nil, ci, err
	}
	h := p.buf[p.pos : p.pos+pcapRecordHdrLen]
	ci.Timestamp = time.Unix(int64(p.u32(h[0:])), int64(p.u32(h[4:])*p.nsFactor)).UTC()
	caplen, length := p.u32(h[8:]), p.u32(h[12:])
	ci.CaptureLength, ci.Length = int(caplen), int(length)
	if caplen > p.snaplen {
		return nil, ci, fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, p.snaplen)
	}
	if caplen > length {
		return nil, ci, fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, length)
	}
	n := pcapRecordHdrLen + int(caplen)
	if n > pcapBufferSize { // not len(p.buf), so that a mapped file reads as any other
		// Longer than anything the replay runs (a file whose snap length is above MaxSnaplen):
		// the caller refuses it by its length alone.
		return nil, ci, nil
	}
	if err := p.fill(n); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, ci, err
	}
	data := p.buf[p.pos+pcapRecordHdrLen : p.pos+n : p.pos+n]
	p.pos += n
	return data, ci, nil
}
