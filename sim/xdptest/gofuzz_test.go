package xdptest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"
)

// TestGoFuzzFindsThePlantedBug runs go test -fuzz=FuzzPlantedBug ./internal/targets with Go's
// default flags (and a fresh fuzz cache) as a user would, and requires the fuzzer to find corpus/planted_bug.c's
// XDP_ABORTED: it holds the whole chain to working, from the coverage counters xdptest shows Go's
// fuzzer (a Go release that instruments differently would leave them unseen) to the input written
// for replay. The cap is twice the minute the README's figures are measured against, for loaded
// CI machines; the test logs how long the fuzzer took.
func TestGoFuzzFindsThePlantedBug(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if _, err := os.Stat(gobin); err != nil {
		t.Skipf("SKIP: no go command to run go test -fuzz with (%v)", err)
	}
	// The failing input goes to testdata/fuzz/FuzzPlantedBug (ignored by git); what this test
	// adds there is removed again, or every later go test would fail on it as a seed.
	const pkg = "./internal/targets"
	crashers := filepath.Join("internal", "targets", "testdata", "fuzz", "FuzzPlantedBug")
	had := map[string]bool{}
	if entries, err := os.ReadDir(crashers); err == nil {
		for _, e := range entries {
			had[e.Name()] = true
		}
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(crashers)
		for _, e := range entries {
			if !had[e.Name()] {
				os.Remove(filepath.Join(crashers, e.Name()))
			}
		}
		if len(had) == 0 {
			os.Remove(crashers)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// First, that the fuzzer's coverage counters are found in a binary go test -fuzz builds (the
	// target fails in a fuzzing worker that finds none).
	slots := exec.CommandContext(ctx, gobin, "test", "-run", "^$", "-fuzz", "^FuzzSlotsAreSeen$", "-fuzztime", "50x", "./internal/fuzzcov",
		"-test.fuzzcachedir="+t.TempDir())
	if out, err := slots.CombinedOutput(); err != nil {
		t.Fatalf("go test -fuzz=FuzzSlotsAreSeen ./internal/fuzzcov: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, gobin, "test", "-run", "^$", "-fuzz", "^FuzzPlantedBug$", "-fuzztime", "120s", pkg,
		"-test.fuzzcachedir="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("go test -fuzz=FuzzPlantedBug:\n%s", out)
	if err == nil {
		t.Fatal("go test -fuzz=FuzzPlantedBug ran two minutes without finding the planted bug")
	}
	if !regexp.MustCompile(`xdp_exception: XDP_ABORTED`).Match(out) {
		t.Fatalf("go test -fuzz failed, but not on the planted bug (%v)", err)
	}
	if m := regexp.MustCompile(`--- FAIL: FuzzPlantedBug \(([0-9.]+)s\)`).FindSubmatch(out); m != nil {
		t.Logf("found after %s s of fuzzing", m[1])
	}
	var added []string
	entries, _ := os.ReadDir(crashers)
	for _, e := range entries {
		if !had[e.Name()] {
			added = append(added, e.Name())
		}
	}
	if len(added) != 1 {
		t.Fatalf("the fuzzer wrote %d failing inputs to %s, want 1", len(added), crashers)
	}
	// The input written fails again when run alone, as go test -run=FuzzPlantedBug/ID runs it.
	rerun := exec.CommandContext(ctx, gobin, "test", "-count=1", "-run", "^FuzzPlantedBug$/^"+regexp.QuoteMeta(added[0])+"$", pkg)
	rout, rerr := rerun.CombinedOutput()
	if rerr == nil || !regexp.MustCompile(`xdp_exception: XDP_ABORTED`).Match(rout) {
		t.Fatalf("the failing input %s does not fail again when run alone (%v):\n%s", added[0], rerr, rout)
	}
}
