package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/sim/replay"
)

// cmdDiff runs an object in the simulator and in the real kernel over the same packets, under the
// same conditions, and reports every divergence. It takes every flag run takes: the outputs (-v,
// --jsonl, --maps, -w, --trace) are the simulator's. Exit status: 0 agree, 1 diverge (or --fail-on
// matched), 2 bad usage or input, 3 no kernel can be used.
func cmdDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", "[flags] PROG.o TRACE.pcap [TRACE.pcap...]\n       xdpsim diff [flags] PROG.o [PROG.o...] -- TRACE.pcap [TRACE.pcap...]   (the objects attached through libxdp's dispatcher)", stdout)
	var rf runFlags
	rf.register(fs, "the simulator engine to compare with the kernel: "+simEngines())
	var df dispatchFlags
	df.register(fs)
	maxShown := fs.Int("max", 20, "show at most this many packet divergences (all are counted)")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() < 2 {
		return usageErr(errors.New("need an object and at least one trace (see xdpsim diff --help)"))
	}
	failOn, err := rf.failOnCheck()
	if err != nil {
		return usageErr(err)
	}
	objPath, traces := fs.Arg(0), fs.Args()[1:]
	var s *session
	var planDiffs []string
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		s, planDiffs, traces, err = openDispatcherDiff(&rf, &df, fs.Args(), dash, stderr)
		objPath = strings.Join(fs.Args()[:dash], " ")
	} else {
		if used := df.used(fs); len(used) > 0 {
			return usageErr(fmt.Errorf("%s: only for objects attached through libxdp's dispatcher (PROG.o... -- TRACE...)", strings.Join(used, ", ")))
		}
		s, err = rf.open(objPath, kernelAlso, stderr)
	}
	if err != nil {
		return err
	}
	defer s.close()
	for _, line := range planDiffs {
		fmt.Fprintln(stdout, line)
	}
	if err := rf.sinks(s, stdout); err != nil {
		return err
	}
	rf.requireSelection(s.loop)
	cmp := &replay.Compare{Other: s.kernel}
	cmp.Report = func(line string) error {
		if strings.HasPrefix(line, "map ") || cmp.PacketDiffs <= *maxShown {
			_, err := fmt.Fprintln(stdout, line)
			return err
		}
		return nil
	}
	s.loop.Sinks = append(s.loop.Sinks, cmp)
	if err := s.runLoop(traces); err != nil {
		return usageErr(err)
	}
	if cmp.PacketDiffs > *maxShown {
		fmt.Fprintf(stdout, "... %d more packet divergences not shown\n", cmp.PacketDiffs-*maxShown)
	}
	n := s.loop.Stats.Packets
	if s.cover != nil {
		defer s.cover.printSummary(stdout) // the simulator's coverage, after the verdict
	}
	if cmp.PacketDiffs+cmp.MapDiffs+len(planDiffs) > 0 {
		fmt.Fprintf(stdout, "%s: %d packets: %d packet divergences, %d map divergences", objPath, n, cmp.PacketDiffs, cmp.MapDiffs)
		if len(planDiffs) > 0 {
			fmt.Fprintf(stdout, ", %d dispatcher plan divergences from libxdp", len(planDiffs))
		}
		fmt.Fprintln(stdout)
		return &exitError{exitFailed, nil}
	}
	what := "return values, data, metadata, maps"
	switch {
	case s.x == nil:
		what = "return values, data, the __sk_buff given back, maps"
	case s.x.Dispatcher() != nil:
		what = "return values, data, metadata, every slot's maps"
	}
	fmt.Fprintf(stdout, "%s: %d packets: simulator (%s) and kernel agree (%s)\n", objPath, n, s.engine.name, what)
	if failOn != nil {
		if hit := failOn(&s.loop.Stats); hit != "" {
			return &exitError{exitFailed, fmt.Errorf("--fail-on %s: %s", rf.failOn, hit)}
		}
	}
	return nil
}
