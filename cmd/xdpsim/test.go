package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/cover"
	"github.com/xdpsim/xdpsim/sim/expect"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// cmdTest checks programs against their expectation files (see package sim/expect for the
// format): one "Test #N ... Passed/FAILED" line per test with what differed under each failure.
// Exit status: 0 every test passed; 1 a test failed; 2 a file or a test could not be read or run;
// 3 --engine kernel and no kernel.
func cmdTest(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("test", "[flags] [EXPECT.json|DIR...]  (default: *.expect.json in the current directory)", stdout)
	engineName := fs.String("engine", "", "where the tests run: a simulator engine, "+simEngines()+", or kernel (the real kernel; Linux, CAP_BPF)")
	junit := fs.String("junit", "", "also write the results as JUnit XML to FILE")
	var covFlags coverageFlags
	covFlags.register(fs)
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	eng, err := lookupEngine(*engineName)
	if err != nil {
		return usageErr(err)
	}
	if eng.kernel {
		if covFlags.wanted() {
			return usageErr(errCoverageKernel)
		}
		if err := kernel.Available(); err != nil {
			return &exitError{exitNoKernel, err}
		}
	}
	var suite *suiteCoverage
	if covFlags.wanted() {
		suite = &suiteCoverage{coverageOut: coverageOut{flags: &covFlags, title: "xdpsim test"}, prof: &cover.Profile{}}
	}
	paths, err := expectationFiles(fs.Args())
	if err != nil {
		return usageErr(err)
	}
	var files []*expect.File
	for _, p := range paths {
		f, err := expect.Load(p)
		if err != nil {
			return usageErr(err)
		}
		files = append(files, f)
	}
	// Create the JUnit file before the tests run, so a path that cannot be written fails at once.
	var junitOut *replay.File
	if *junit != "" {
		if junitOut, err = replay.CreateFile(*junit, stdout); err != nil {
			return usageErr(fmt.Errorf("--junit: %w", err))
		}
	}
	notices := &onceWriter{w: stderr, seen: map[string]bool{}}
	newLoop := func(f *expect.File, t *expect.Test) (*replay.Loop, func(), error) {
		return testLoop(f, t, *engineName, notices, suite)
	}
	var all []expect.Result
	n, failed, broken := 0, 0, 0
	for _, f := range files {
		for _, r := range f.Run(newLoop) {
			n++
			all = append(all, r)
			status := "Passed"
			switch {
			case r.Err != nil:
				status = "FAILED (could not run)"
				broken++
			case len(r.Failures) > 0:
				status = "FAILED"
				failed++
			}
			if len(r.Unchecked) > 0 && status == "Passed" {
				status += " (" + eng.name + " cannot check " + strings.Join(r.Unchecked, ", ") + ")"
			}
			fmt.Fprintf(stdout, "Test #%d %s: %s ... %s\n", n, f.Path, r.Test.Name, status)
			if r.Err != nil {
				fmt.Fprintf(stdout, "    %s\n", indent(r.Err.Error()))
			}
			for _, msg := range r.Failures {
				fmt.Fprintf(stdout, "    %s\n", indent(msg))
			}
		}
	}
	fmt.Fprintf(stdout, "%d tests on %s: %d passed, %d failed\n", n, eng.name, n-failed-broken, failed+broken)
	if suite != nil {
		abort := func() {
			if junitOut != nil {
				junitOut.Abort()
			}
		}
		if suite.err != nil {
			abort()
			return usageErr(fmt.Errorf("coverage: %w", suite.err))
		}
		if err := suite.write(suite.prof, stdout); err != nil {
			suite.abort()
			abort()
			return usageErr(err)
		}
		if err := suite.commit(); err != nil {
			abort()
			return usageErr(err)
		}
		suite.printSummary(stdout)
	}
	if out := junitOut; out != nil {
		if err := expect.WriteJUnit(out, all); err != nil {
			out.Abort()
			return usageErr(fmt.Errorf("--junit: %w", err))
		}
		if err := out.Commit(); err != nil {
			return usageErr(fmt.Errorf("--junit: %w", err))
		}
	}
	switch {
	case broken > 0:
		return &exitError{exitUsage, fmt.Errorf("%d tests could not run", broken)}
	case failed > 0:
		return &exitError{exitFailed, nil}
	}
	return nil
}

// testLoop loads a test's object with the file's and the test's flags, which mean what they mean
// to xdpsim run.
func testLoop(f *expect.File, t *expect.Test, engineName string, stderr io.Writer, suite *suiteCoverage) (*replay.Loop, func(), error) {
	fs := pflag.NewFlagSet("expectation flags", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rf runFlags
	rf.register(fs, "")
	args := append(append([]string{}, f.Flags...), t.Flags...)
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("flags %q: %w", strings.Join(args, " "), err)
	}
	for _, name := range []string{"jsonl", "maps", "write", "verbose", "trace", "packet", "fail-on", "engine", "coverage", "coverage-lcov", "coverage-html"} {
		if fs.Changed(name) {
			return nil, nil, fmt.Errorf("flags: --%s is not for expectation files (the engine and coverage come from xdpsim test's flags)", name)
		}
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("flags: %q is not a flag", fs.Arg(0))
	}
	if rf.mapsIn != "" {
		rf.mapsIn = f.Resolve(rf.mapsIn)
	}
	if rf.host != "" {
		rf.host = f.Resolve(rf.host)
	}
	rf.engine = engineName
	s, err := rf.open(f.Resolve(f.Object), kernelIfAsked, stderr)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.err != nil {
			err = ee.err
		}
		return nil, nil, err
	}
	if suite == nil {
		return s.loop, s.close, nil
	}
	done, err := suite.record(s)
	if err != nil {
		s.close()
		return nil, nil, err
	}
	return s.loop, func() { done(); s.close() }, nil
}

// expectationFiles expands the arguments: files as given, directories to their *.expect.json; no
// arguments means the current directory.
func expectationFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		args = []string{"."}
	}
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.expect.json"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no *.expect.json files", a)
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

// onceWriter writes each distinct line once (the loader's notices repeat for every test).
type onceWriter struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
}

func (o *onceWriter) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[string(b)] {
		return len(b), nil
	}
	o.seen[string(b)] = true
	return o.w.Write(b)
}
