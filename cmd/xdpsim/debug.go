package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/debug"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
)

// cmdDebug is `xdpsim debug PROG.o TRACE.pcap...`: a step debugger over the packets, driven by
// commands read from stdin. It takes run's flags; packets run through the same loop as run's.
func cmdDebug(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("debug", "[flags] PROG.o TRACE.pcap [TRACE.pcap...]\n\n"+debug.Help, stdout)
	var rf runFlags
	rf.register(fs, `the simulator engine to run on (interp, closures)`)
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() < 2 {
		return usageErr(errors.New("need an object and at least one trace (see xdpsim debug --help)"))
	}
	if rf.engine == "kernel" {
		return usageErr(errors.New("--engine kernel: the kernel cannot be stepped through; debug runs in the simulator"))
	}
	s, err := rf.open(fs.Arg(0), kernelIfAsked, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	if err := rf.sinks(s, stdout); err != nil {
		return err
	}
	var recs []*replay.Record
	if err := replay.ReadAll(fs.Args()[1:], func(r *replay.Record) error {
		c := *r
		c.Data = append([]byte(nil), r.Data...) // the reader reuses its buffer
		recs = append(recs, &c)
		return nil
	}); err != nil {
		return usageErr(err)
	}
	if len(recs) == 0 {
		return usageErr(errors.New("the traces hold no packets"))
	}
	err = debug.New(s.x, loopPackets{s.loop, recs}).Run(stdin, stdout)
	if ferr := s.loop.Finish(); err == nil {
		err = ferr
	}
	return err
}

// loopPackets runs the debugger's packets through the session's replay loop, so that they run
// under run's conditions and reach its outputs.
type loopPackets struct {
	loop *replay.Loop
	recs []*replay.Record
}

func (p loopPackets) Len() int { return len(p.recs) }

func (p loopPackets) Label(i int) string {
	return fmt.Sprintf("%s record %d", filepath.Base(p.recs[i].File), p.recs[i].Index)
}

func (p loopPackets) Run(i int) sim.Outcome {
	pkt, err := p.loop.Packet(p.recs[i])
	if err != nil {
		return sim.Outcome{Packet: result.Packet{Err: err.Error()}}
	}
	return pkt.Outcome
}
