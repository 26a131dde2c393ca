package main

import (
	"errors"
	"io"

	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// cmdShow is `xdpsim show PROG.o TRACE.pcap --packet N`: the frame of packet N as the program saw
// it before and after the run, with every pointer move, as text and, with --html, as a page. It
// takes run's flags (the packets before N run too, so the maps hold what they left).
func cmdShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("show", "[flags] PROG.o TRACE.pcap [TRACE.pcap...] --packet N", stdout)
	var rf runFlags
	rf.register(fs, `the simulator engine to run on (interp, closures)`)
	htmlOut := fs.String("html", "", "also write the picture as an HTML page with SVG to FILE")
	hexDump := fs.Bool("hex", false, "add a hex dump of the metadata and of each protocol layer")
	fs.Lookup("packet").Usage = "the packets to draw: N, N-M or a list (1,5,9-12); the packets before them run too, so maps hold what they left"
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() < 2 {
		return usageErr(errors.New("need an object and at least one trace (see xdpsim show --help)"))
	}
	if rf.packets == "" {
		return usageErr(errors.New("--packet N: say which packet to draw"))
	}
	if rf.engine == "kernel" {
		return usageErr(errors.New("--engine kernel: the frame is the simulator's to show"))
	}
	s, err := rf.open(fs.Arg(0), kernelIfAsked, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	if err := rf.sinks(s, stdout); err != nil {
		return err
	}
	if !rf.trace {
		// With --trace, the sinks already end each packet's trace with its picture.
		f := &frames{x: s.x, w: stdout, opts: picture.TextOptions{Hex: *hexDump}, what: "--packet " + rf.packets}
		if *htmlOut != "" {
			if f.html, err = replay.CreateFile(*htmlOut, stdout); err != nil {
				s.loop.Abort()
				return usageErr(err)
			}
		}
		s.loop.Sinks = append(s.loop.Sinks, f)
	} else if *htmlOut != "" {
		return usageErr(errors.New("--html and --trace: draw the page without the trace"))
	}
	if err := s.loop.Run(fs.Args()[1:]...); err != nil {
		return usageErr(err)
	}
	return nil
}
