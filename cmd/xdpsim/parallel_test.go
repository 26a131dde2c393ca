package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

// TestRunParallel: --parallel replays a trace spread over RX queues on several goroutines and
// writes what the ordered replay writes, byte for byte, for a program whose results do not depend
// on how the CPUs interleave; it says so when the packets have to run in order anyway, and refuses
// what cannot run in parallel.
func TestRunParallel(t *testing.T) {
	obj := objectOf(t, "eth_stats")
	trace := corpus.TracePath("mixed.pcap")
	outputs := func(t *testing.T, parallel string) map[string][]byte {
		dir := t.TempDir()
		rc, stdout, stderr := runCmd(t, "run", "--device", "mlx5", "--queues", "4", "--cpus", "4", "--parallel", parallel,
			"--jsonl", filepath.Join(dir, "p.jsonl"), "--maps", filepath.Join(dir, "maps.json"), "-w", filepath.Join(dir, "out"), "-v", obj, trace)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		out := map[string][]byte{"stdout": []byte(stdout)}
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out[strings.TrimPrefix(path, dir)], err = os.ReadFile(path)
			}
			return err
		})
		return out
	}
	t.Run("on four queues and four CPUs it writes what the ordered run writes", func(t *testing.T) {
		want := outputs(t, "1")
		for _, n := range []string{"2", "0"} {
			got := outputs(t, n)
			if len(got) != len(want) || len(want) < 7 {
				t.Fatalf("--parallel %s wrote %d outputs, the ordered run %d", n, len(got), len(want))
			}
			for name, w := range want {
				if !bytes.Equal(got[name], w) {
					t.Errorf("--parallel %s: %s differs (%d and %d bytes)", n, name, len(got[name]), len(w))
				}
			}
		}
	})
	t.Run("on one RX queue it says the packets run in order", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", "--cpus", "4", "--parallel", "2", obj, trace)
		if rc != 0 || !strings.Contains(stderr, "--parallel: packets run in order: the packets arrive on one RX queue") {
			t.Errorf("exit %d, stderr %q", rc, stderr)
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a negative count is refused", []string{"--parallel", "-1"}, "want a number of goroutines"},
		{"the kernel engine is refused", []string{"--parallel", "2", "--engine", "kernel"}, "--parallel needs the simulator"},
		{"a trace is refused", []string{"--parallel", "2", "--trace"}, "packets run in order"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, stderr := runCmd(t, append(append([]string{"run"}, tt.args...), obj, trace)...)
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
}
