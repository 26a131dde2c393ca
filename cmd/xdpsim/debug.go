package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/sim/debug"
)

// cmdDebug is `xdpsim debug PROG.o TRACE.pcap...`: a step debugger over the packets, driven by
// commands read from stdin.
func cmdDebug(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("debug", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf runFlags
	rf.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: xdpsim debug [flags] PROG.o TRACE.pcap [TRACE.pcap...]\n\n%s\n%s", debug.Help, fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return &exitError{2, errors.New("need an object and at least one trace")}
	}
	_, x, err := simSetup(&rf, fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	var pkts []debug.Packet
	for _, tr := range fs.Args()[1:] {
		err := readTrace(tr, func(r record) error {
			pkts = append(pkts, debug.Packet{Data: r.data, Cond: rf.conditions(r), Label: fmt.Sprintf("%s record %d", filepath.Base(r.file), r.index)})
			return nil
		})
		if err != nil {
			return &exitError{2, err}
		}
	}
	if len(pkts) == 0 {
		return &exitError{2, errors.New("the traces hold no packets")}
	}
	return debug.New(x, pkts).Run(stdin, stdout)
}
