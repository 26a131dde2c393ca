package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/vm"
)

// cmdRun replays traces through a program and writes what the flags ask for. Exit status: 0 the run
// completed; 1 --fail-on matched; 2 bad usage or input; 3 --engine kernel and no kernel.
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "[flags] PROG.o TRACE.pcap [TRACE.pcap...]\n       xdpsim run [flags] PROG.o [PROG.o...] -- TRACE.pcap [TRACE.pcap...]   (the objects attached through libxdp's dispatcher)", stdout)
	var rf runFlags
	rf.register(fs, "where to run: a simulator engine, "+simEngines()+`, or "kernel" (the real kernel through BPF_PROG_TEST_RUN; Linux, CAP_BPF)`)
	var df dispatchFlags
	df.register(fs)
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if rf.topology != "" {
		return runTopology(&rf, fs.Args(), stdout, stderr)
	}
	if fs.NArg() < 2 {
		return usageErr(errors.New("need an object and at least one trace (see xdpsim run --help)"))
	}
	failOn, err := rf.failOnCheck()
	if err != nil {
		return usageErr(err)
	}
	var s *session
	var traces []string
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		// PROG.o... -- TRACE...: the objects go on one interface through libxdp's dispatcher.
		objs := fs.Args()[:dash]
		traces = fs.Args()[dash:]
		if len(objs) == 0 || len(traces) == 0 {
			return usageErr(errors.New("need objects before -- and traces after it (see xdpsim run --help)"))
		}
		s, err = rf.openDispatcher(&df, objs, kernelIfAsked, stderr)
	} else {
		if used := df.used(fs); len(used) > 0 {
			return usageErr(fmt.Errorf("%s: only for objects attached through libxdp's dispatcher (PROG.o... -- TRACE...)", strings.Join(used, ", ")))
		}
		objPath := fs.Arg(0)
		traces = fs.Args()[1:]
		s, err = rf.open(objPath, kernelIfAsked, stderr)
	}
	if err != nil {
		return err
	}
	defer s.close()
	if err := rf.sinks(s, stdout); err != nil {
		return err
	}
	rf.requireSelection(s.loop)
	if err := s.runLoop(traces); err != nil {
		return usageErr(err)
	}
	if !rf.quietSummary() {
		if s.x != nil && s.x.Dispatcher() != nil {
			if err := s.x.Dispatcher().WriteStatus(stdout, "sim0"); err != nil {
				return err
			}
		}
		printSummary(stdout, s)
		if s.cover != nil {
			s.cover.printSummary(stdout)
		}
	}
	if failOn != nil {
		if hit := failOn(&s.loop.Stats); hit != "" {
			return &exitError{exitFailed, fmt.Errorf("--fail-on %s: %s", rf.failOn, hit)}
		}
	}
	return nil
}

// printSummary counts the run's verdicts.
func printSummary(w io.Writer, s *session) {
	st := &s.loop.Stats
	where := "simulator"
	if s.engine.kernel {
		where = "real kernel"
	} else if s.engine.vm != vm.DefaultEngine() {
		where = "simulator, " + s.engine.name
	}
	what := s.prog.Name
	if s.x != nil && s.x.Dispatcher() != nil {
		what = fmt.Sprintf("libxdp's dispatcher of %d programs", len(s.x.Dispatcher().Slots))
	}
	fmt.Fprintf(w, "%s: %s: %d packets (%s)\n", s.objPath, what, st.Packets, where)
	width := 14
	for _, v := range st.Names() {
		width = max(width, len(v)+1)
	}
	for _, v := range st.Names() {
		fmt.Fprintf(w, "  %-*s %d\n", width, v, st.Verdicts[v])
	}
	if len(st.TC) > 0 {
		if s.x != nil {
			fmt.Fprintf(w, "  at tc ingress (%s):\n", chainNames(s.tc))
		} else {
			fmt.Fprintf(w, "  what the tc hook does with them:\n")
		}
		width := 12
		for a := range st.TC {
			width = max(width, len(a)+1)
		}
		for _, a := range sortedKeys(st.TC) {
			fmt.Fprintf(w, "    %-*s %d\n", width, a, st.TC[a])
		}
	}
	if st.Exceptions > 0 {
		fmt.Fprintf(w, "  %d exceptions (XDP_ABORTED, invalid actions or failed redirects, as the xdp_exception tracepoint reports them)\n", st.Exceptions)
	}
	refused, faults, snapped := st.Count(replay.VerdictRefused), st.Count(replay.VerdictFault), st.Count(replay.VerdictSnapped)
	if n := refused + faults + snapped; n > 0 {
		fmt.Fprintf(w, "  %d packets not run to completion: %d refused as the kernel refuses them, %d program faults", n, refused, faults)
		if snapped > 0 {
			fmt.Fprintf(w, ", %d snapped records not run (--snapped)", snapped)
		}
		fmt.Fprintf(w, "; see -v or --jsonl for each\n")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
