package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// view is a command that looks inside the simulator's run (show, debug): it takes run's flags and
// outputs, and runs only in the simulator, on one object (an XDP program, with --tc the tc
// programs behind it, or a tc program alone) or on several attached through libxdp's dispatcher
// (PROG.o... -- TRACE...).
type view struct {
	rf     runFlags
	df     dispatchFlags
	fs     *pflag.FlagSet
	s      *session
	traced []string
}

// openView parses a view command's flags (run's, and those extra adds) and opens its session with
// run's outputs. A nil view and nil error mean --help was printed.
func openView(name, synopsis string, args []string, stdout, stderr io.Writer, extra func(*pflag.FlagSet)) (*view, error) {
	v := &view{fs: newFlagSet(name, synopsis, stdout)}
	v.rf.register(v.fs, "the simulator engine to run on: "+simEngines())
	v.df.register(v.fs)
	if extra != nil {
		extra(v.fs)
	}
	if err := parseFlags(v.fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil, nil
		}
		return nil, err
	}
	if v.fs.NArg() < 2 {
		return nil, usageErr(fmt.Errorf("need an object and at least one trace (see xdpsim %s --help)", name))
	}
	if name == "debug" && v.rf.failOn != "" {
		return nil, usageErr(errors.New("--fail-on: debug runs the packets you step through, not the whole trace; use xdpsim run --fail-on"))
	}
	if v.rf.engine == "kernel" {
		return nil, usageErr(fmt.Errorf("--engine kernel: %s looks inside the simulator's run; the kernel shows nothing of it", name))
	}
	var s *session
	var err error
	if dash := v.fs.ArgsLenAtDash(); dash >= 0 {
		objs := v.fs.Args()[:dash]
		v.traced = v.fs.Args()[dash:]
		if len(objs) == 0 || len(v.traced) == 0 {
			return nil, usageErr(fmt.Errorf("need objects before -- and traces after it (see xdpsim %s --help)", name))
		}
		s, err = v.rf.openDispatcher(&v.df, objs, kernelIfAsked, stderr)
	} else {
		if used := v.df.used(v.fs); len(used) > 0 {
			return nil, usageErr(fmt.Errorf("%s: only for objects attached through libxdp's dispatcher (PROG.o... -- TRACE...)", strings.Join(used, ", ")))
		}
		v.traced = v.fs.Args()[1:]
		s, err = v.rf.open(v.fs.Arg(0), kernelIfAsked, stderr)
	}
	if err != nil {
		return nil, err
	}
	if err := v.rf.sinks(s, stdout); err != nil {
		s.close()
		return nil, err
	}
	v.s = s
	return v, nil
}

// traces are the trace files the command names.
func (v *view) traces() []string { return v.traced }
