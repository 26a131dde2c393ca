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
// commands read from stdin, for an XDP program (with --tc, the tc programs behind it too), a tc
// program alone, or several objects attached through libxdp's dispatcher (PROG.o... -- TRACE...).
// It takes run's flags; packets run through the same loop as run's.
func cmdDebug(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	v, err := openView("debug", "[flags] PROG.o TRACE.pcap [TRACE.pcap...]\n       xdpsim debug [flags] PROG.o [PROG.o...] -- TRACE.pcap...   (the objects attached through libxdp's dispatcher)\n\n"+debug.Help, args, stdout, stderr, nil)
	if v == nil || err != nil {
		return err
	}
	s := v.s
	defer s.close()
	var recs []*replay.Record
	if err := replay.ReadAll(v.traces(), func(r *replay.Record) error {
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
	pkts := loopPackets{s.loop, recs}
	var d *debug.Debugger
	if s.x != nil {
		d = debug.New(s.x, pkts)
	} else {
		d = debug.NewTC(s.tc, pkts)
	}
	err = d.Run(stdin, stdout)
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
