package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
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

// functionRuns reads how often each function ran from an lcov tracefile (FNDA:count,name).
func functionRuns(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "FNDA:"); ok {
			n, name, _ := strings.Cut(rest, ",")
			c, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("%s: %q", path, l)
			}
			runs[name] += c
		}
	}
	return runs
}

// TestCoverageCountsEveryProgramThatRan holds the count of each program's first line (lcov's
// FNDA) to how often the run says the program ran: its verdicts, what reached tc, the slots the
// dispatcher ran for each packet.
func TestCoverageCountsEveryProgramThatRan(t *testing.T) {
	trace := corpus.TracePath("mixed.pcap")
	t.Run("a tc program run alone runs once per packet that got a verdict", func(t *testing.T) {
		lcov := filepath.Join(t.TempDir(), "cov.info")
		rc, stdout, stderr := runCmd(t, "run", tcObjectOf(t, "tc_parser"), trace, "--coverage-lcov", lcov)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		want := summaryCount(t, stdout, "TC_ACT_OK") + summaryCount(t, stdout, "TC_ACT_SHOT")
		if got := functionRuns(t, lcov)["tc_parser"]; got != want {
			t.Errorf("tc_parser ran %d times by its coverage, %d by its verdicts", got, want)
		}
	})
	t.Run("the tc program behind an XDP program runs once per packet that reached tc", func(t *testing.T) {
		lcov := filepath.Join(t.TempDir(), "cov.info")
		obj := tcObjectOf(t, "tc_meta")
		rc, stdout, stderr := runCmd(t, "run", obj, trace, "-p", "xdp_meta_writer", "--tc", obj+":tc_meta_reader", "--coverage-lcov", lcov)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		runs := functionRuns(t, lcov)
		if got, want := runs["xdp_meta_writer"], summaryCount(t, stdout, "XDP_PASS"); got != want {
			t.Errorf("xdp_meta_writer ran %d times by its coverage, %d by its verdicts", got, want)
		}
		if got, want := runs["tc_meta_reader"], summaryCount(t, stdout, "pass"); got != want {
			t.Errorf("tc_meta_reader ran %d times by its coverage, %d by what tc passed", got, want)
		}
	})
	t.Run("each program in the dispatcher's slots runs once per packet the dispatcher gave it", func(t *testing.T) {
		dir := t.TempDir()
		lcov, jsonl := filepath.Join(dir, "cov.info"), filepath.Join(dir, "out.jsonl")
		args := []string{"run", objectOf(t, "disp_echo"), objectOf(t, "disp_fw"), objectOf(t, "disp_mon"), "--coverage-lcov", lcov, "--jsonl", jsonl, "--", trace}
		if rc, _, stderr := runCmd(t, args...); rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		b, err := os.ReadFile(jsonl)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var p struct{ Dispatch []struct{ Program string } }
			if err := json.Unmarshal([]byte(l), &p); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			for _, s := range p.Dispatch {
				want[s.Program]++
			}
		}
		if got := functionRuns(t, lcov); len(want) != 3 || !reflect.DeepEqual(got, want) {
			t.Errorf("the programs ran %v times by their coverage, %v by the dispatcher's JSON lines", got, want)
		}
	})
	t.Run("every program a topology attaches is in its coverage", func(t *testing.T) {
		dir := t.TempDir()
		lcov := filepath.Join(dir, "cov.info")
		topo := filepath.Join(corpus.Dir(), "netkit", "l3-policy.json")
		pod, wire := filepath.Join(corpus.Dir(), "netkit", "l3-policy.pod.pcap"), filepath.Join(corpus.Dir(), "netkit", "l3-policy.wire.pcap")
		rc, stdout, stderr := runCmd(t, "run", "--topology", topo, pod, wire, "--coverage", "--coverage-lcov", lcov, "-v")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		// -v shows, for each packet through the netkit device, what its programs returned.
		want := strings.Count(stdout, "[pod_count=")
		if got := functionRuns(t, lcov); want == 0 || got["pod_count"] != want || got["pod_allow"] != want {
			t.Errorf("pod_count and pod_allow ran %v times by their coverage, %d by -v", got, want)
		}
		if !strings.Contains(stdout, "\ncoverage:\n  pod_allow (") {
			t.Errorf("no coverage summary:\n%s", stdout)
		}
	})
}
