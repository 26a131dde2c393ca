package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/vm"
)

func TestHelpAndVersion(t *testing.T) {
	for _, cmd := range []string{"run", "diff", "test", "dump", "devices", "dev", "exec"} {
		t.Run("xdpsim "+cmd+" --help prints the usage on stdout and exits 0", func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, cmd, "--help")
			if rc != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: xdpsim "+cmd) {
				t.Errorf("exit %d, stdout %.60q, stderr %q", rc, stdout, stderr)
			}
		})
	}
	for _, args := range [][]string{{"--help"}, {"help"}} {
		t.Run("xdpsim "+args[0]+" lists the commands and the exit codes", func(t *testing.T) {
			rc, stdout, _ := runCmd(t, args...)
			if rc != 0 || !strings.Contains(stdout, "test [EXPECT.json...]") || !strings.Contains(stdout, "Exit status") {
				t.Errorf("exit %d: %s", rc, stdout)
			}
		})
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		t.Run("xdpsim "+args[0]+" prints the version", func(t *testing.T) {
			rc, stdout, _ := runCmd(t, args...)
			if rc != 0 || !regexp.MustCompile(`^xdpsim \S+.* go1\.\d+`).MatchString(stdout) {
				t.Errorf("exit %d: %q", rc, stdout)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.pcap")
	writePcapLink(t, raw, layers.LinkTypeRaw)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command is a usage error", nil, 2, "usage"},
		{"an unknown command is a usage error", []string{"frobnicate"}, 2, "unknown command"},
		{"an unknown flag is a usage error naming the command's help", []string{"run", "--nope", obj, trace}, 2, "see xdpsim run --help"},
		{"an unknown engine lists the engines", []string{"run", "--engine", "jit9", obj, trace}, 2, "interp, closures, jit, kernel"},
		{"a missing trace argument", []string{"diff", obj}, 2, "need an object and at least one trace"},
		{"an unreadable trace in dump's sibling command run", []string{"run", obj, filepath.Join(dir, "none.pcap")}, 2, "none.pcap"},
		{"a trace that is not Ethernet", []string{"run", obj, raw}, 2, "is not Ethernet"},
		{"a missing object in dump", []string{"dump", filepath.Join(dir, "none.o")}, 2, "none.o"},
		{"a bad --packet", []string{"run", "--packet", "0", obj, trace}, 2, "--packet"},
		{"a bad --fail-on", []string{"run", "--fail-on", "faults", obj, trace}, 2, "--fail-on"},
		{"diff with --engine kernel", []string{"diff", "--engine", "kernel", obj, trace}, 2, "diff compares a simulator engine with the kernel"},
		{"diff with --device, which the kernel cannot test-run", []string{"diff", "--device", "mlx5", obj, trace}, 2, "the kernel cannot test-run packets as a device delivers them"},
		{"run --engine kernel with --trace", []string{"run", "--engine", "kernel", "--trace", obj, trace}, 2, "--trace needs the simulator"},
		{"--fail-on that matches exits 1", []string{"run", "--fail-on", "tx", obj, trace}, 1, "--fail-on tx: "},
		{"--fail-on that does not match exits 0", []string{"run", "--fail-on", "fault,aborted", obj, trace}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", rc, stderr, tt.code, tt.want)
			}
		})
	}
}

func writePcapLink(t *testing.T, path string, link layers.LinkType) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A pcap header: magic, version 2.4, zone, sigfigs, snaplen, link type.
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, byte(link), 0, 0, 0}
	if _, err := f.Write(hdr); err != nil {
		t.Fatal(err)
	}
}

func TestFailOnCountsWhatScriptsAskFor(t *testing.T) {
	// Under a 5-instruction budget every packet faults: --fail-on fault must see them.
	rc, _, stderr := runCmd(t, "run", "--budget", "5", "--fail-on", "fault", objectOf(t, "udp_echo"), corpus.TracePath("vlan.pcap"))
	if rc != 1 || !strings.Contains(stderr, "--fail-on fault: 400 fault") {
		t.Errorf("exit %d, stderr %q; want 1 and 400 faults", rc, stderr)
	}
}

func TestRunSnappedRecords(t *testing.T) {
	dir := t.TempDir()
	// Record 2 was captured with a 60-byte snap length from a 1514-byte frame.
	path := filepath.Join(dir, "snapped.pcap")
	writeSnapped(t, path)
	obj := objectOf(t, "udp_filter")
	t.Run("by default a snapped record is reported, not run", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", obj, path, "--jsonl", "-")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		var second map[string]any
		if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
			t.Fatal(err)
		}
		if second["ret"] != nil || !strings.Contains(second["error"].(string), "snapped, 60 of 1514 bytes captured") || second["snapped"] != 1514.0 {
			t.Errorf("packet 2: %s", lines[1])
		}
	})
	t.Run("the summary counts it", func(t *testing.T) {
		_, stdout, _ := runCmd(t, "run", obj, path)
		if !strings.Contains(stdout, "snapped        1") || !strings.Contains(stdout, "1 snapped records not run") {
			t.Errorf("summary:\n%s", stdout)
		}
	})
	t.Run("--snapped error exits 2 naming the record", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", "--snapped", "error", obj, path)
		if rc != 2 || !strings.Contains(stderr, "snapped.pcap: record 2: snapped: 60 of 1514 bytes captured") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
	t.Run("--snapped run runs the captured bytes", func(t *testing.T) {
		_, stdout, _ := runCmd(t, "run", "--snapped", "run", obj, path, "--jsonl", "-")
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if !strings.Contains(lines[1], `"ret":`) || !strings.Contains(lines[1], `"snapped":1514`) {
			t.Errorf("packet 2: %s", lines[1])
		}
	})
}

// writeSnapped writes a pcap of three UDP frames whose second record holds 60 of its 1514 bytes.
func writeSnapped(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr := []byte{0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xdc, 0x05, 0, 0, 1, 0, 0, 0}
	rec := func(ts uint32, incl, orig int) []byte {
		b := make([]byte, 16)
		le := func(o int, v uint32) { b[o], b[o+1], b[o+2], b[o+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
		le(0, 1700000000+ts)
		le(8, uint32(incl))
		le(12, uint32(orig))
		return append(b, ethFrame(incl)...)
	}
	out := append(hdr, rec(0, 60, 60)...)
	out = append(out, rec(1, 60, 1514)...)
	out = append(out, rec(2, 60, 60)...)
	if _, err := f.Write(out); err != nil {
		t.Fatal(err)
	}
}

func TestDiffTakesEveryFlagRunTakes(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	t.Run("--budget 5: the simulator faults where the kernel runs, and diff says so", func(t *testing.T) {
		rc, stdout, _ := runCmd(t, "diff", "--budget", "5", "--max", "1", obj, trace)
		if rc != 1 || !strings.Contains(stdout, "packet 1: run: simulator program fault: instruction 5: instruction budget of 5 exhausted") || !strings.Contains(stdout, "400 packet divergences") {
			t.Errorf("exit %d:\n%s", rc, stdout)
		}
	})
	t.Run("run's outputs are the simulator's", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "diff", "--jsonl", "-", "--packet", "2", obj, trace)
		if rc != 0 || !strings.HasPrefix(stdout, `{"packet":2,"ret":`) || !strings.Contains(stdout, "simulator ("+vm.DefaultEngine().Name()+") and kernel agree") {
			t.Errorf("exit %d, stderr %s:\n%s", rc, stderr, stdout)
		}
	})
	t.Run("--trace traces the simulator's side", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "diff", "--trace", "--packet", "1", obj, trace)
		if rc != 0 || strings.Count(stdout, "--- packet ") != 1 || !strings.Contains(stdout, "; returned ") {
			t.Errorf("exit %d, stderr %s:\n%s", rc, stderr, tail(stdout, 5))
		}
	})
	for _, engine := range vm.EngineNames() {
		t.Run("--engine "+engine+" agrees with the kernel", func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, "diff", "--engine", engine, obj, trace)
			if rc != 0 || !strings.Contains(stdout, "simulator ("+engine+") and kernel agree") {
				t.Errorf("exit %d, stderr %s:\n%s", rc, stderr, stdout)
			}
		})
	}
}

func TestRunEngines(t *testing.T) {
	obj := objectOf(t, "eth_stats")
	trace := corpus.TracePath("mixed.pcap")
	var outs []string
	for _, engine := range append(vm.EngineNames(), "sim") {
		rc, stdout, stderr := runCmd(t, "run", "--engine", engine, obj, trace, "--jsonl", "-", "--maps", "-")
		if rc != 0 {
			t.Fatalf("--engine %s: exit %d: %s", engine, rc, stderr)
		}
		outs = append(outs, stdout)
	}
	for i := range outs[1:] {
		if outs[i+1] != outs[0] {
			t.Errorf("engine %d gave other results than the interpreter", i+1)
		}
	}
}
