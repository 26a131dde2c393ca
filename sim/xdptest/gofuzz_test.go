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

// TestGoFuzzFindsThePlantedBug runs go test -fuzz=FuzzPlantedBug on ./internal/targets with Go's
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
	// The fuzzer runs on a private copy of ./internal/targets under testdata/, which go test ./...
	// never lists: the failing input it writes to the copy's testdata/fuzz/FuzzPlantedBug is never
	// a seed of the real package, whose tests may run at the same moment in another go test
	// process. The copy sits as deep in the tree as the original, so its relative paths hold.
	pkg := copyTargets(t)
	crashers := filepath.Join(pkg, "testdata", "fuzz", "FuzzPlantedBug")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// First, that the fuzzer's coverage counters are found in a binary go test -fuzz builds (the
	// target fails in a fuzzing worker that finds none).
	slots := exec.CommandContext(ctx, gobin, "test", "-run", "^$", "-fuzz", "^FuzzSlotsAreSeen$", "-fuzztime", "50x", "./internal/fuzzcov",
		"-test.fuzzcachedir="+t.TempDir())
	if out, err := slots.CombinedOutput(); err != nil {
		t.Fatalf("go test -fuzz=FuzzSlotsAreSeen ./internal/fuzzcov: %v\n%s", err, out)
	}
	// Then that the fuzzing workers run on one P (the coordinator and plain go test keep theirs).
	onep := exec.CommandContext(ctx, gobin, "test", "-run", "^$", "-fuzz", "^FuzzWorkerHasOneP$", "-fuzztime", "50x", "./"+pkg,
		"-test.fuzzcachedir="+t.TempDir())
	if out, err := onep.CombinedOutput(); err != nil {
		t.Fatalf("go test -fuzz=FuzzWorkerHasOneP: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, gobin, "test", "-run", "^$", "-fuzz", "^FuzzPlantedBug$", "-fuzztime", "120s", "./"+pkg,
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
		added = append(added, e.Name())
	}
	if len(added) != 1 {
		t.Fatalf("the fuzzer wrote %d failing inputs to %s, want 1", len(added), crashers)
	}
	// The input written fails again when run alone, as go test -run=FuzzPlantedBug/ID runs it.
	rerun := exec.CommandContext(ctx, gobin, "test", "-count=1", "-run", "^FuzzPlantedBug$/^"+regexp.QuoteMeta(added[0])+"$", "./"+pkg)
	rout, rerr := rerun.CombinedOutput()
	if rerr == nil || !regexp.MustCompile(`xdp_exception: XDP_ABORTED`).Match(rout) {
		t.Fatalf("the failing input %s does not fail again when run alone (%v):\n%s", added[0], rerr, rout)
	}
}

// copyTargets copies the Go files of ./internal/targets into a new directory under testdata/ and
// gives its path; the directory (and testdata/, if this made it) goes when the test ends.
func copyTargets(t *testing.T) string {
	t.Helper()
	_, statErr := os.Stat("testdata")
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "gofuzz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		if os.IsNotExist(statErr) {
			os.Remove("testdata")
		}
	})
	files, err := filepath.Glob(filepath.Join("internal", "targets", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in internal/targets (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
