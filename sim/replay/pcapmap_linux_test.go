package replay_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xdpsim/xdpsim/sim/replay"
)

// The reader maps classic pcap files into memory (see mapTrace); what it reads must not depend on
// that, and a file that shrinks under it must not end the process.
func TestMappedTrace(t *testing.T) {
	const mixed = "../../corpus/traces/mixed.pcap"
	t.Run("a mapped file reads the same records as the same bytes through a pipe", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "trace.pcap")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("SKIP: no named pipe: %v", err)
		}
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer w.Close()
			in, err := os.Open(mixed)
			if err != nil {
				return
			}
			defer in.Close()
			io.Copy(w, in)
		}()
		piped, err := readAll(fifo)
		if err != nil {
			t.Fatal(err)
		}
		mapped, err := readAll(mixed)
		if err != nil {
			t.Fatal(err)
		}
		if len(mapped) != len(piped) || len(mapped) < 4000 {
			t.Fatalf("%d records mapped, %d piped", len(mapped), len(piped))
		}
		for i := range mapped {
			m, p := mapped[i], piped[i]
			if m.Index != p.Index || !bytes.Equal(m.Data, p.Data) || m.OrigLen != p.OrigLen || !m.Time.Equal(p.Time) {
				t.Fatalf("record %d differs: mapped %d bytes at %v, piped %d bytes at %v", i+1, len(m.Data), m.Time, len(p.Data), p.Time)
			}
		}
	})
	t.Run("a file truncated while it is read is an error naming it and the record", func(t *testing.T) {
		data, err := os.ReadFile(mixed)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "shrinks.pcap")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		n := 0
		err = replay.ReadAll([]string{path}, func(r *replay.Record) error {
			n++
			if n == 1 {
				return os.Truncate(path, 0)
			}
			return nil
		})
		var te *replay.TraceError
		if !errors.As(err, &te) || te.File != path || te.Record < 1 || !strings.Contains(err.Error(), "shrank while it was read") {
			t.Fatalf("got %v after %d records, want a trace error for %s saying it shrank", err, n, path)
		}
	})
}
