package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// cmdShow is `xdpsim show PROG.o TRACE.pcap --packet N`: the frame of packet N as the program saw
// it before and after the run, with every pointer move, as text and, with --html, as a page; for a
// tc program (alone, or behind the XDP program with --tc) the sk_buff it got, with every helper
// that moved or resized its data; for several objects attached through libxdp's dispatcher
// (PROG.o... -- TRACE...), the frame after each slot. It takes run's flags (the packets before N
// run too, so the maps hold what they left).
func cmdShow(args []string, stdout, stderr io.Writer) error {
	var htmlOut *string
	var hexDump *bool
	v, err := openView("show", "[flags] PROG.o TRACE.pcap [TRACE.pcap...] --packet N\n       xdpsim show [flags] --packet N PROG.o [PROG.o...] -- TRACE.pcap...   (the objects attached through libxdp's dispatcher)", args, stdout, stderr, func(fs *pflag.FlagSet) {
		htmlOut = fs.String("html", "", "also write the picture as an HTML page with SVG to FILE")
		hexDump = fs.Bool("hex", false, "add a hex dump of the metadata and of each protocol layer")
		fs.Lookup("packet").Usage = "the packets to draw: N, N-M or a list (1,5,9-12); the packets before them run too, so maps hold what they left"
	})
	if v == nil || err != nil {
		return err
	}
	s, rf := v.s, &v.rf
	defer s.close()
	if rf.packets == "" {
		s.loop.Abort()
		return usageErr(errors.New("--packet N: say which packet to draw"))
	}
	failOn, err := rf.failOnCheck()
	if err != nil {
		s.loop.Abort()
		return usageErr(err)
	}
	if *htmlOut != "" && !onePacket(rf.packets) {
		// Said before anything runs or prints (a --packet that is valid but selects several).
		if _, err := parsePackets(rf.packets); err == nil {
			s.loop.Abort()
			return usageErr(fmt.Errorf("--html draws one packet: --packet %s selects more", rf.packets))
		}
	}
	if !rf.trace {
		// With --trace, the sinks already end each packet's trace with its picture.
		f := &frames{x: s.x, tc: s.tc, w: stdout, opts: picture.TextOptions{Hex: *hexDump}, what: "--packet " + rf.packets}
		if *htmlOut != "" {
			if f.html, err = replay.CreateFile(*htmlOut, stdout); err != nil {
				s.loop.Abort()
				return usageErr(fmt.Errorf("--html: %w", err))
			}
		}
		s.loop.Sinks = append(s.loop.Sinks, f)
	} else if *htmlOut != "" {
		s.loop.Abort()
		return usageErr(errors.New("--html and --trace: draw the page without the trace"))
	}
	if err := s.loop.Run(v.traces()...); err != nil {
		return usageErr(err)
	}
	if failOn != nil {
		if hit := failOn(&s.loop.Stats); hit != "" {
			return &exitError{exitFailed, fmt.Errorf("--fail-on %s: %s", rf.failOn, hit)}
		}
	}
	return nil
}
