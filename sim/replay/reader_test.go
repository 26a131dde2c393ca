package replay_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// frame is an Ethernet frame of n bytes whose last byte is tag.
func frame(n int, tag byte) []byte {
	b := make([]byte, n)
	copy(b, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5})
	b[n-1] = tag
	return b
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ngRecord is one record of a pcapng file written by writeNg.
type ngRecord struct {
	iface   int
	data    []byte
	origLen int
}

// writeNg writes a pcapng file with one interface per link type and the given records.
func writeNg(t *testing.T, links []layers.LinkType, recs []ngRecord) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "multi.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := pcapgo.DefaultNgInterface
	first.LinkType, first.Name = links[0], "if0"
	w, err := pcapgo.NewNgWriterInterface(f, first, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range links[1:] {
		intf := pcapgo.DefaultNgInterface
		intf.LinkType, intf.Name = lt, "if"+string(rune('1'+i))
		if _, err := w.AddInterface(intf); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range recs {
		orig := max(r.origLen, len(r.data))
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(r.data), Length: orig, InterfaceIndex: r.iface}
		if err := w.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readAll(path string) ([]replay.Record, error) {
	var out []replay.Record
	err := replay.ReadAll([]string{path}, func(r *replay.Record) error {
		c := *r
		c.Data = append([]byte(nil), r.Data...)
		out = append(out, c)
		return nil
	})
	return out, err
}

func TestReaderPcapng(t *testing.T) {
	t.Run("records of every Ethernet interface are read in order with their times", func(t *testing.T) {
		path := writeNg(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeEthernet},
			[]ngRecord{{0, frame(60, 1), 0}, {1, frame(61, 2), 0}, {0, frame(62, 3), 0}})
		recs, err := readAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("%d records, want 3", len(recs))
		}
		for i, r := range recs {
			if r.Index != i+1 || len(r.Data) != 60+i || r.Data[len(r.Data)-1] != byte(i+1) || !r.Time.Equal(t0.Add(time.Duration(i)*time.Millisecond)) {
				t.Errorf("record %d: index %d, %d bytes, time %v", i+1, r.Index, len(r.Data), r.Time)
			}
		}
		if recs[1].Interface != 1 {
			t.Errorf("record 2 on interface %d, want 1", recs[1].Interface)
		}
	})
	t.Run("a record of a non-Ethernet interface is an error naming the record and the interface", func(t *testing.T) {
		path := writeNg(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw},
			[]ngRecord{{0, frame(60, 1), 0}, {1, frame(40, 2), 0}, {0, frame(60, 3), 0}})
		recs, err := readAll(path)
		var te *replay.TraceError
		if !errors.As(err, &te) || te.Record != 2 || !strings.Contains(err.Error(), "record 2") || !strings.Contains(err.Error(), "interface 1") || !strings.Contains(err.Error(), "not Ethernet") {
			t.Fatalf("got %d records and error %v; want an error naming record 2 on interface 1", len(recs), err)
		}
		if len(recs) != 1 {
			t.Errorf("%d records before the error, want 1", len(recs))
		}
	})
	t.Run("a record cut short by the snap length says so", func(t *testing.T) {
		path := writeNg(t, []layers.LinkType{layers.LinkTypeEthernet}, []ngRecord{{0, frame(96, 1), 1514}, {0, frame(60, 2), 0}})
		recs, err := readAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if !recs[0].Snapped() || recs[0].OrigLen != 1514 || len(recs[0].Data) != 96 {
			t.Errorf("record 1: snapped %v, %d of %d bytes; want snapped, 96 of 1514", recs[0].Snapped(), len(recs[0].Data), recs[0].OrigLen)
		}
		if recs[1].Snapped() {
			t.Error("record 2 is whole but reads as snapped")
		}
	})
}

func TestReaderPcap(t *testing.T) {
	write := func(t *testing.T, snaplen uint32, link layers.LinkType, frames ...[]byte) string {
		path := filepath.Join(t.TempDir(), "t.pcap")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w := pcapgo.NewWriterNanos(f)
		if err := w.WriteFileHeader(snaplen, link); err != nil {
			t.Fatal(err)
		}
		for _, fr := range frames {
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t0, CaptureLength: len(fr), Length: len(fr)}, fr); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	t.Run("records longer than the file's snap length are read as tcpdump reads them", func(t *testing.T) {
		recs, err := readAll(write(t, 1500, layers.LinkTypeEthernet, frame(9000, 7)))
		if err != nil || len(recs) != 1 || len(recs[0].Data) != 9000 {
			t.Fatalf("got %d records, error %v", len(recs), err)
		}
	})
	t.Run("a trace that is not Ethernet is an error naming the file", func(t *testing.T) {
		path := write(t, 65535, layers.LinkTypeRaw)
		_, err := readAll(path)
		var te *replay.TraceError
		if !errors.As(err, &te) || te.File != path || !strings.Contains(err.Error(), "is not Ethernet") {
			t.Fatalf("error %v", err)
		}
	})
	// byHand writes a libpcap trace as the file format describes it, in either byte order and
	// timestamp resolution, with the given snap length and records of given lengths.
	byHand := func(t *testing.T, order binary.AppendByteOrder, nanos bool, snaplen uint32, recs ...[]byte) string {
		magic := uint32(0xa1b2c3d4)
		if nanos {
			magic = 0xa1b23c4d
		}
		b := order.AppendUint32(nil, magic)
		b = order.AppendUint16(b, 2)
		b = order.AppendUint16(b, 4)
		b = append(b, make([]byte, 8)...)
		b = order.AppendUint32(b, snaplen)
		b = order.AppendUint32(b, uint32(layers.LinkTypeEthernet))
		for i, r := range recs {
			b = order.AppendUint32(b, uint32(t0.Unix())+uint32(i))
			b = order.AppendUint32(b, 1234)
			b = order.AppendUint32(b, uint32(len(r)))
			b = order.AppendUint32(b, uint32(len(r)))
			b = append(b, r...)
		}
		path := filepath.Join(t.TempDir(), "hand.pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tt := range []struct {
		name  string
		order binary.AppendByteOrder
		nanos bool
		frac  time.Duration
	}{
		{"little-endian with microseconds", binary.LittleEndian, false, 1234 * time.Microsecond},
		{"little-endian with nanoseconds", binary.LittleEndian, true, 1234},
		{"big-endian with microseconds", binary.BigEndian, false, 1234 * time.Microsecond},
		{"big-endian with nanoseconds", binary.BigEndian, true, 1234},
	} {
		t.Run("a trace written "+tt.name+" reads with its times and bytes", func(t *testing.T) {
			recs, err := readAll(byHand(t, tt.order, tt.nanos, 65535, frame(60, 1), frame(1514, 2)))
			if err != nil || len(recs) != 2 {
				t.Fatalf("got %d records, error %v", len(recs), err)
			}
			for i, r := range recs {
				want := t0.Add(time.Duration(i)*time.Second + tt.frac)
				if !r.Time.Equal(want) || len(r.Data) != []int{60, 1514}[i] || r.Data[len(r.Data)-1] != byte(i+1) {
					t.Errorf("record %d: %v, %d bytes ending %d; want %v, %d bytes ending %d", i+1, r.Time, len(r.Data), r.Data[len(r.Data)-1], want, []int{60, 1514}[i], i+1)
				}
			}
		})
	}
	t.Run("a record longer than tcpdump's maximum is an error naming it, even where the file's snap length allows it", func(t *testing.T) {
		recs, err := readAll(byHand(t, binary.LittleEndian, false, 400000, frame(60, 1), frame(300000, 2), frame(70, 3)))
		var te *replay.TraceError
		if !errors.As(err, &te) || te.Record != 2 || len(recs) != 1 || !strings.Contains(err.Error(), "300000 bytes is longer than any frame") {
			t.Fatalf("after %d records: %v", len(recs), err)
		}
	})
	t.Run("a record longer than the snap length is an error naming the record", func(t *testing.T) {
		recs, err := readAll(byHand(t, binary.LittleEndian, false, 1500, frame(60, 1), frame(replay.MaxSnaplen+1, 2)))
		var te *replay.TraceError
		if !errors.As(err, &te) || te.Record != 2 || len(recs) != 1 || !strings.Contains(err.Error(), "snap length") {
			t.Fatalf("after %d records: %v", len(recs), err)
		}
	})
	t.Run("a gzip-compressed trace is read", func(t *testing.T) {
		plain, err := os.ReadFile(byHand(t, binary.LittleEndian, true, 65535, frame(60, 1), frame(100, 2)))
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(plain)
		zw.Close()
		path := filepath.Join(t.TempDir(), "z.pcap")
		if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(path)
		if err != nil || len(recs) != 2 || recs[1].Data[99] != 2 {
			t.Fatalf("got %d records, error %v", len(recs), err)
		}
	})
	t.Run("a truncated trace is an error naming the record", func(t *testing.T) {
		good, err := os.ReadFile(corpus.TracePath("mixed.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "cut.pcap")
		if err := os.WriteFile(path, good[:1000], 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(path)
		var te *replay.TraceError
		if !errors.As(err, &te) || te.Record != len(recs)+1 || !strings.Contains(err.Error(), "cut.pcap: record ") {
			t.Fatalf("after %d records: %v", len(recs), err)
		}
	})
}

// TestReaderDoesNotAllocatePerRecord: records are read into buffers the reader reuses.
func TestReaderDoesNotAllocatePerRecord(t *testing.T) {
	for _, name := range []string{"mixed.pcap", "ng"} {
		t.Run(name, func(t *testing.T) {
			path := corpus.TracePath("mixed.pcap")
			if name == "ng" {
				// gopacket sizes a pcapng interface's buffer to the longest record so far
				// when the interface has no snap length: the first record is the longest.
				recs := []ngRecord{{0, frame(1514, 0), 0}}
				for i := range 200 {
					recs = append(recs, ngRecord{0, frame(60+i%900, byte(i)), 0})
				}
				path = writeNg(t, []layers.LinkType{layers.LinkTypeEthernet}, recs)
			}
			r, err := replay.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for range 50 { // let the buffers grow
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := r.Next(); err != nil && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per record, want 0", allocs)
			}
		})
	}
}

func TestWritePcapIsReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.pcap")
	frames := [][]byte{frame(60, 1), frame(70000, 2)}
	if err := replay.WritePcap(path, t0, frames...); err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(recs[1].Data) != 70000 || recs[1].Data[69999] != 2 || !recs[1].Time.Equal(t0.Add(time.Microsecond)) {
		t.Errorf("read back %d records", len(recs))
	}
}
