package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/vm"
)

func TestRunCoverage(t *testing.T) {
	obj, trace := objectOf(t, "planted_bug"), corpus.TracePath("mixed.pcap")
	t.Run("the summary follows the run's and every output is written", func(t *testing.T) {
		dir := t.TempDir()
		lcov, page := filepath.Join(dir, "cov.info"), filepath.Join(dir, "cov.html")
		rc, stdout, stderr := runCmd(t, "run", obj, trace, "--coverage", "--coverage-lcov", lcov, "--coverage-html", page)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		_, cov, ok := strings.Cut(stdout, "\ncoverage:\n")
		if !ok || !strings.Contains(stdout, "4000 packets") {
			t.Fatalf("no coverage section after the run's summary:\n%s", stdout)
		}
		// No packet of the trace is a telemetry record of version 1: the planted bug's line never ran.
		if !strings.Contains(cov, "xdp_planted_bug ("+obj+"): ") || !strings.Contains(cov, "planted_bug.c: ") || !strings.Contains(cov, "never ran") {
			t.Errorf("coverage section:\n%s", cov)
		}
		info, err := os.ReadFile(lcov)
		if err != nil || !strings.Contains(string(info), "SF:"+filepath.Join(filepath.Dir(obj), "planted_bug.c")+"\n") || !strings.HasSuffix(string(info), "end_of_record\n") {
			t.Errorf("tracefile (%v):\n%.300s", err, info)
		}
		html, err := os.ReadFile(page)
		if err != nil || !strings.Contains(string(html), `tlm-&gt;tag[0] == &#39;x&#39;`) {
			t.Errorf("page (%v) does not show the source", err)
		}
	})
	t.Run("the kernel cannot give coverage: exit 2", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", obj, trace, "--coverage", "--engine", "kernel")
		if rc != 2 || !strings.Contains(stderr, "--coverage needs the simulator") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
	t.Run("a run that fails leaves no coverage file", func(t *testing.T) {
		lcov := filepath.Join(t.TempDir(), "cov.info")
		rc, _, _ := runCmd(t, "run", obj, trace, "no-such.pcap", "--coverage-lcov", lcov)
		if rc != 2 {
			t.Errorf("exit %d, want 2", rc)
		}
		if _, err := os.Stat(lcov); !os.IsNotExist(err) {
			t.Errorf("the tracefile of a failed run exists (%v)", err)
		}
	})
	t.Run("every engine gives the same coverage", func(t *testing.T) {
		var want string
		for _, e := range vm.EngineNames() {
			lcov := filepath.Join(t.TempDir(), "cov.info")
			if rc, _, stderr := runCmd(t, "run", obj, trace, "--engine", e, "--coverage-lcov", lcov); rc != 0 {
				t.Fatalf("%s: exit %d: %s", e, rc, stderr)
			}
			b, err := os.ReadFile(lcov)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.SplitN(string(b), "\n", 2)[1] // past the test name
			if want == "" {
				want = got
			} else if got != want {
				t.Errorf("%s's tracefile differs from interp's", e)
			}
		}
	})
}

func TestRunCoverageOfTCPrograms(t *testing.T) {
	trace := corpus.TracePath("mixed.pcap")
	t.Run("a tc program run alone", func(t *testing.T) {
		obj := tcObjectOf(t, "tc_parser")
		rc, stdout, stderr := runCmd(t, "run", obj, trace, "--coverage")
		if rc != 0 || !strings.Contains(stdout, "\ncoverage:\n  tc_parser ("+obj+"): ") {
			t.Errorf("exit %d: %s\n%s", rc, stdout, stderr)
		}
	})
	t.Run("an XDP program and the tc program behind it", func(t *testing.T) {
		obj := tcObjectOf(t, "tc_meta")
		rc, stdout, stderr := runCmd(t, "run", obj, trace, "-p", "xdp_meta_writer", "--tc", obj+":tc_meta_reader", "--coverage")
		if rc != 0 || !strings.Contains(stdout, "  xdp_meta_writer (") || !strings.Contains(stdout, "  tc_meta_reader (") {
			t.Errorf("exit %d: %s\n%s", rc, stdout, stderr)
		}
	})
}

func TestTestCoverageAddsUpTheSuite(t *testing.T) {
	lcov := filepath.Join(t.TempDir(), "suite.info")
	files := []string{filepath.Join(corpus.Dir(), "eth_stats.expect.json"), filepath.Join(corpus.Dir(), "udp_filter.expect.json")}
	rc, stdout, stderr := runCmd(t, append([]string{"test", "--coverage", "--coverage-lcov", lcov}, files...)...)
	if rc != 0 {
		t.Fatalf("exit %d: %s\n%s", rc, stdout, stderr)
	}
	_, cov, _ := strings.Cut(stdout, "\ncoverage:\n")
	for _, prog := range []string{"xdp_eth_stats", "xdp_udp_filter"} {
		if strings.Count(cov, "  "+prog+" (") != 1 {
			t.Errorf("the coverage section does not name %s once (its tests merge into one line):\n%s", prog, cov)
		}
	}
	info, err := os.ReadFile(lcov)
	if err != nil || strings.Count(string(info), "SF:") != 2 {
		t.Errorf("tracefile (%v) has %d source files, want 2", err, strings.Count(string(info), "SF:"))
	}
	t.Run("expectation files may not ask for coverage", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cov.expect.json")
		writeFile(t, path, `{"object": "x.o", "flags": ["--coverage"], "tests": [{"name": "a", "packets": [{"hex": "00"}]}]}`)
		rc, stdout, stderr := runCmd(t, "test", path)
		if rc != 2 || !strings.Contains(stdout+stderr, "--coverage is not for expectation files") {
			t.Errorf("exit %d: %s %s", rc, stdout, stderr)
		}
	})
}
