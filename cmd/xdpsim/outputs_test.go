package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
)

// writePcap writes frames into a pcap (nanosecond times, one millisecond apart).
func writePcap(t *testing.T, path string, frames ...[]byte) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// ethFrame is an Ethernet frame of n bytes with EtherType 0x88b5 (local experimental).
func ethFrame(n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5})
	for i := 14; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

// withUmask runs fn under umask u (the tests of this package do not run in parallel).
func withUmask(u int, fn func()) {
	old := syscall.Umask(u)
	defer syscall.Umask(old)
	fn()
}

func TestOutputsNeverHurtTheUser(t *testing.T) {
	obj := objectOf(t, "icmp_echo")
	trace := corpus.TracePath("vlan.pcap")

	t.Run("a FIFO given to --jsonl is written in place, not replaced by a file", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		lines := make(chan int)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				lines <- -1
				return
			}
			defer f.Close()
			n := 0
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				n++
			}
			lines <- n
		}()
		rc, _, stderr := runCmd(t, "run", obj, trace, "--jsonl", fifo)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		select {
		case n := <-lines:
			if n != 400 {
				t.Errorf("the reader of the FIFO got %d lines, want 400", n)
			}
		case <-time.After(20 * time.Second):
			t.Error("nothing was written to the FIFO")
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("%s is no longer a FIFO: %v %v", fifo, st.Mode(), err)
		}
	})
	t.Run("/dev/null given to --jsonl and --maps stays the null device", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", obj, trace, "--jsonl", os.DevNull, "--maps", os.DevNull)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("%s is no longer a character device: %v %v", os.DevNull, st.Mode(), err)
		}
	})
	t.Run("a symbolic link is followed: the file it points to gets the output", func(t *testing.T) {
		dir := t.TempDir()
		real := filepath.Join(dir, "real.json")
		link := filepath.Join(dir, "link.json")
		if err := os.WriteFile(real, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		if rc, _, stderr := runCmd(t, "run", obj, trace, "--maps", link); rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v %v", st.Mode(), err)
		}
		if b, _ := os.ReadFile(real); !strings.Contains(string(b), `"icmp_types"`) {
			t.Errorf("the linked file holds %q, not the map dump", b)
		}
	})
	for _, tc := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o027, 0o640}, {0o077, 0o600}} {
		t.Run("new files get 0666 less the umask "+os.FileMode(tc.want).String(), func(t *testing.T) {
			dir := t.TempDir()
			withUmask(tc.umask, func() {
				rc, _, stderr := runCmd(t, "run", obj, trace, "--jsonl", filepath.Join(dir, "out.jsonl"), "--maps", filepath.Join(dir, "maps.json"), "-w", filepath.Join(dir, "pcaps"))
				if rc != 0 {
					t.Fatalf("exit %d: %s", rc, stderr)
				}
			})
			for _, name := range []string{"out.jsonl", "maps.json", "pcaps/pass.pcap", "pcaps/tx.pcap"} {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != tc.want {
					t.Errorf("%s has mode %v, want %v", name, st.Mode().Perm(), tc.want)
				}
			}
		})
	}
	t.Run("an existing file keeps its mode", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.jsonl")
		if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o604); err != nil {
			t.Fatal(err)
		}
		if rc, _, stderr := runCmd(t, "run", obj, trace, "--jsonl", path); rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o604 {
			t.Errorf("mode %v, want 0604 as it was", st.Mode().Perm())
		}
	})
	t.Run("-w never leaves an earlier run's pcaps beside this run's", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		// devmap redirects to devmap entries; tx and drop exist as well.
		if rc, _, stderr := runCmd(t, "run", objectOf(t, "devmap"), corpus.TracePath("mixed.pcap"), "-w", dir); rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		first := listDir(t, dir)
		if !hasPrefix(first, "redirect") {
			t.Fatalf("the devmap run wrote no redirect pcap: %v", first)
		}
		// udp_filter never redirects or transmits: its run must not leave the devmap run's files.
		if rc, _, stderr := runCmd(t, "run", objectOf(t, "udp_filter"), trace, "-w", dir); rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		second := listDir(t, dir)
		if hasPrefix(second, "redirect") {
			t.Errorf("redirect pcaps of the earlier run are still there: %v", second)
		}
		total := 0
		for _, name := range second {
			total += countPcap(t, filepath.Join(dir, name))
		}
		if total != 400 {
			t.Errorf("the pcaps in %s hold %d packets, want this run's 400: %v", dir, total, second)
		}
	})
	t.Run("--jsonl - --maps - is one JSON value per line, the maps last", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", obj, trace, "--jsonl", "-", "--maps", "-")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		for i, l := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("line %d is not JSON: %v: %.100s", i+1, err, l)
			}
			if i == len(lines)-1 && v["maps"] == nil {
				t.Errorf("the last line has no maps: %.100s", l)
			}
		}
		if len(lines) != 401 {
			t.Errorf("%d lines, want 400 packets and the maps", len(lines))
		}
	})
	t.Run("pcaps hold frames longer than 64 KiB", func(t *testing.T) {
		dir := t.TempDir()
		in := writePcap(t, filepath.Join(dir, "big.pcap"), ethFrame(70000), ethFrame(100))
		rc, _, stderr := runCmd(t, "run", objectOf(t, "frags"), in, "--set", "max_len=100000", "-w", filepath.Join(dir, "out"))
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		f, err := os.Open(filepath.Join(dir, "out", "pass.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		data, _, err := r.ReadPacketData()
		if err != nil || len(data) != 70000 {
			t.Fatalf("first frame of pass.pcap: %d bytes, %v; want the 70000-byte frame", len(data), err)
		}
	})
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func hasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

func countPcap(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for {
		_, _, err := r.ReadPacketData()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n++
	}
}
