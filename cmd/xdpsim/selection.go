package main

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/sim/replay"
)

// selection fails a run whose --packet selects none of the traces' packets, before any output is
// put in place: the selection limits what -v, --trace and --jsonl print, so selecting nothing is a
// mistake, not an empty result.
type selection struct {
	what     string
	selected int
}

func (s *selection) Packet(p *replay.Packet) error {
	if p.Selected {
		s.selected++
	}
	return nil
}

func (s *selection) Finish(l *replay.Loop) error {
	if s.selected == 0 {
		return fmt.Errorf("--packet %s: the traces hold %d packets", s.what, l.Stats.Packets)
	}
	return nil
}

// requireSelection adds the check to a loop when --packet is given.
func (f *runFlags) requireSelection(l *replay.Loop) {
	if f.packets != "" {
		l.Sinks = append([]replay.Sink{&selection{what: f.packets}}, l.Sinks...)
	}
}

// onePacket tells whether a --packet selection names one packet: N, or N-N.
func onePacket(sel string) bool {
	lo, hi, isRange := strings.Cut(sel, "-")
	return !strings.Contains(sel, ",") && (!isRange || strings.TrimSpace(lo) == strings.TrimSpace(hi))
}
