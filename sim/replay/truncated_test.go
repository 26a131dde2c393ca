package replay_test

import (
	"bytes"
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

	"github.com/xdpsim/xdpsim/sim/replay"
)

// wholeTrace is a pcap or pcapng file of three 60-byte frames.
func wholeTrace(t *testing.T, ng bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var write func(gopacket.CaptureInfo, []byte) error
	flush := func() error { return nil }
	if ng {
		w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
		if err != nil {
			t.Fatal(err)
		}
		write, flush = w.WritePacket, w.Flush
	} else {
		w := pcapgo.NewWriter(&buf)
		if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		write = w.WritePacket
	}
	for i := range 3 {
		frame := bytes.Repeat([]byte{byte(i + 1)}, 60)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: 60, Length: 60}
		if err := write(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readCount reads a trace to its end: the records read and the error that stopped it (nil at EOF).
func readCount(path string) (int, error) {
	r, err := replay.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// boundaries maps each offset where a block or record of the trace ends to the number of records
// before it: a file cut there is a whole, shorter trace.
func boundaries(b []byte, ng bool) map[int]int {
	out := map[int]int{}
	if !ng {
		records := 0
		for pos := 24; pos <= len(b); pos += 16 + int(binary.LittleEndian.Uint32(b[pos+8:])) {
			out[pos] = records
			records++
			if pos == len(b) {
				break
			}
		}
		return out
	}
	records := 0
	for pos := 0; pos < len(b); {
		if binary.LittleEndian.Uint32(b[pos:]) == 6 { // an enhanced packet block
			records++
		}
		pos += int(binary.LittleEndian.Uint32(b[pos+4:]))
		out[pos] = records
	}
	return out
}

func TestATraceCutAnywhereIsAnErrorNotFewerPackets(t *testing.T) {
	for _, format := range []string{"pcap", "pcapng"} {
		whole := wholeTrace(t, format == "pcapng")
		ends := boundaries(whole, format == "pcapng")
		dir := t.TempDir()
		path := filepath.Join(dir, "trace."+format)
		t.Run("a "+format+" file cut where a block or record ends reads the records before the cut", func(t *testing.T) {
			for cut, want := range ends {
				if err := os.WriteFile(path, whole[:cut], 0o644); err != nil {
					t.Fatal(err)
				}
				if n, err := readCount(path); n != want || err != nil {
					t.Errorf("cut after %d of %d bytes: %d records, %v; want %d", cut, len(whole), n, err, want)
				}
			}
			if ends[len(whole)] != 3 {
				t.Errorf("the whole file holds %d records, want 3", ends[len(whole)])
			}
		})
		t.Run("a "+format+" file cut anywhere else is an error naming the file", func(t *testing.T) {
			for cut := 1; cut < len(whole); cut++ {
				if _, ok := ends[cut]; ok {
					continue
				}
				if err := os.WriteFile(path, whole[:cut], 0o644); err != nil {
					t.Fatal(err)
				}
				n, err := readCount(path)
				if err == nil {
					t.Errorf("cut after %d of %d bytes: %d records and no error", cut, len(whole), n)
					continue
				}
				if !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), "(truncated?)") && !strings.Contains(err.Error(), "too short") {
					t.Errorf("cut after %d of %d bytes: %v", cut, len(whole), err)
				}
			}
		})
	}
}
