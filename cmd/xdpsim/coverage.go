package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/cover"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/topology"
	"github.com/xdpsim/xdpsim/vm"
)

// coverageFlags ask for the coverage of the program over the packets a command runs: a summary,
// an lcov tracefile, an HTML page.
type coverageFlags struct {
	summary bool
	lcov    string
	html    string
}

func (c *coverageFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&c.summary, "coverage", false, "print which instructions, branches and C source lines of the program ran (simulator engines only)")
	fs.StringVar(&c.lcov, "coverage-lcov", "", "write the coverage as an lcov tracefile to FILE (genhtml and CI coverage tools read it)")
	fs.StringVar(&c.html, "coverage-html", "", "write the coverage as an HTML page of the C source to FILE")
}

func (c *coverageFlags) wanted() bool { return c.summary || c.lcov != "" || c.html != "" }

// errCoverageKernel is the answer to coverage asked of the real kernel.
var errCoverageKernel = errors.New("--coverage needs the simulator: the kernel does not say which instructions it runs (use --engine interp or closures)")

// coverageOut writes a profile's tracefile and page; they appear whole or not at all, with the
// other outputs of the run.
type coverageOut struct {
	flags      *coverageFlags
	title      string
	lcov, html *replay.File
	summary    bytes.Buffer
}

// write makes the files of prof (committed by commit) and keeps its summary for printSummary.
func (o *coverageOut) write(prof *cover.Profile, stdout io.Writer) error {
	if o.flags.summary {
		if err := prof.WriteSummary(&o.summary); err != nil {
			return err
		}
	}
	var err error
	if o.flags.lcov != "" {
		if o.lcov, err = replay.CreateFile(o.flags.lcov, stdout); err != nil {
			return fmt.Errorf("--coverage-lcov: %w", err)
		}
		if err := prof.WriteLCOV(o.lcov, o.title); err != nil {
			return fmt.Errorf("--coverage-lcov: %w", err)
		}
	}
	if o.flags.html != "" {
		if o.html, err = replay.CreateFile(o.flags.html, stdout); err != nil {
			return fmt.Errorf("--coverage-html: %w", err)
		}
		if err := prof.WriteHTML(o.html, "xdpsim coverage: "+o.title); err != nil {
			return fmt.Errorf("--coverage-html: %w", err)
		}
	}
	return nil
}

func (o *coverageOut) commit() error {
	for _, f := range []*replay.File{o.lcov, o.html} {
		if f != nil {
			if err := f.Commit(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *coverageOut) abort() {
	for _, f := range []*replay.File{o.lcov, o.html} {
		if f != nil {
			f.Abort()
		}
	}
}

// printSummary prints the summary under a heading.
func (o *coverageOut) printSummary(w io.Writer) {
	if o.summary.Len() > 0 {
		fmt.Fprintf(w, "coverage:\n%s", indentLines(o.summary.String(), "  "))
	}
}

// indentLines puts prefix in front of every line of s.
func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// suiteCoverage adds up the coverage of every test of xdpsim test.
type suiteCoverage struct {
	coverageOut
	prof *cover.Profile
	err  error
}

// record starts recording a test's session; done adds what it recorded to the suite's profile.
func (sc *suiteCoverage) record(s *session) (done func(), err error) {
	if s.engine.vm == nil {
		return nil, errCoverageKernel
	}
	cov := vm.NewCoverage()
	s.setCoverage(cov)
	return func() {
		if err := sc.prof.Merge(s.profile(cov)); err != nil && sc.err == nil {
			sc.err = err
		}
	}, nil
}

// setCoverage makes every machine of the session (the XDP program's, or those of the dispatcher's
// slots, and the tc programs') record into cov; they run one after the other, so they share it.
func (s *session) setCoverage(cov *vm.Coverage) {
	if s.x != nil {
		for _, m := range s.x.Machines() {
			m.SetCoverage(cov)
		}
	}
	if s.tc != nil {
		for _, m := range s.tc.Machines() {
			m.SetCoverage(cov)
		}
	}
}

// profile makes the coverage profile of the session's programs: the one it runs (or every
// program in the dispatcher's slots), the tc programs behind it, and every program of their
// objects that ran (tail calls, devmap programs).
func (s *session) profile(cov *vm.Coverage) *cover.Profile {
	entries := []*sim.Program{s.prog}
	if s.x != nil {
		entries = s.x.Programs()
	}
	if s.tc != nil {
		entries = append(entries, s.tc.Programs()...)
	}
	var objs []*sim.Object
	for _, p := range entries {
		if !slices.Contains(objs, p.Object()) {
			objs = append(objs, p.Object())
		}
	}
	return profileOf(cov, objs, entries)
}

// profileOf makes the coverage profile of the programs of objs that are entries or ran.
func profileOf(cov *vm.Coverage, objs []*sim.Object, entries []*sim.Program) *cover.Profile {
	prof := &cover.Profile{}
	for _, o := range objs {
		var mine []*sim.Program
		for _, e := range entries {
			if e.Object() == o {
				mine = append(mine, e)
			}
		}
		// Programs of different objects never share a name and an object path: no error.
		_ = prof.Merge(cover.ForObject(cov, o, mine...))
	}
	return prof
}

// coverageSink records the coverage of the machines of a run and writes it when the loop
// finishes: a replay sink (Finisher, Committer), so that its files join the run's other outputs.
type coverageSink struct {
	coverageOut
	cov *vm.Coverage
	// profile makes the profile of what cov recorded.
	profile func(*vm.Coverage) *cover.Profile
	stdout  io.Writer
}

// newCoverageSink starts recording the session's coverage.
func newCoverageSink(s *session, flags *coverageFlags, stdout io.Writer) (*coverageSink, error) {
	if s.engine.vm == nil {
		return nil, errCoverageKernel
	}
	c := &coverageSink{coverageOut: coverageOut{flags: flags, title: s.objPath}, cov: vm.NewCoverage(), profile: s.profile, stdout: stdout}
	s.setCoverage(c.cov)
	return c, nil
}

// newNetworkCoverageSink starts recording the coverage of every machine of a topology: the
// profile holds every XDP and tc program of the objects the file names, those that never ran
// too.
func newNetworkCoverageSink(topo *topology.Topology, machines []*vm.Machine, flags *coverageFlags, stdout io.Writer) *coverageSink {
	var objs []*sim.Object
	var entries []*sim.Program
	for _, name := range topo.Order {
		o := topo.Objects[name]
		objs = append(objs, o)
		for _, pn := range append(o.XDPPrograms(), o.TCPrograms()...) {
			if p, err := o.Program(pn); err == nil {
				entries = append(entries, p)
			}
		}
	}
	c := &coverageSink{coverageOut: coverageOut{flags: flags, title: topo.Path}, cov: vm.NewCoverage(), stdout: stdout,
		profile: func(cov *vm.Coverage) *cover.Profile { return profileOf(cov, objs, entries) }}
	for _, m := range machines {
		m.SetCoverage(c.cov)
	}
	return c
}

func (c *coverageSink) Packet(*replay.Packet) error { return nil }

func (c *coverageSink) Finish(*replay.Loop) error {
	return c.write(c.profile(c.cov), c.stdout)
}

func (c *coverageSink) Commit() error { return c.commit() }
func (c *coverageSink) Abort()        { c.abort() }
