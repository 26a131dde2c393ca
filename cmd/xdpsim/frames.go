package main

import (
	"fmt"
	"io"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// frames is a replay sink that draws the frame of every selected packet after it ran: as text on
// w, and with html set as an HTML page (for one packet). Placed after the trace in a loop's sinks,
// the picture ends each packet's trace.
type frames struct {
	x    *sim.XDP
	w    io.Writer
	opts picture.TextOptions
	rec  picture.Recorder
	html *replay.File
	// selected and drawn count the packets selected and those drawn.
	selected, drawn int
	// what names the selection for messages ("--packet 7").
	what string
}

// Start watches the frame of a selected packet.
func (f *frames) Start(p *replay.Packet) error {
	f.rec.Run = nil
	if !p.Selected {
		f.x.SetFrameObserver(nil)
		return nil
	}
	f.rec.Title = fmt.Sprintf("packet %d (%s record %d), program %s", p.N, p.Record.File, p.Record.Index, f.x.Program().Name)
	f.x.SetFrameObserver(&f.rec)
	return nil
}

// Packet draws it.
func (f *frames) Packet(p *replay.Packet) error {
	if !p.Selected {
		return nil
	}
	f.selected++
	f.x.SetFrameObserver(nil)
	if f.rec.Run == nil {
		_, err := fmt.Fprintf(f.w, "packet %d: no frame to draw: %s\n", p.N, p.Outcome.Err)
		return err
	}
	f.drawn++
	if f.html != nil {
		if f.drawn > 1 {
			return usageErr(fmt.Errorf("--html draws one packet: --packet selects more"))
		}
		if err := f.rec.Run.HTML(f.html); err != nil {
			return err
		}
	}
	return f.rec.Run.Text(f.w, f.opts)
}

// Finish fails a run that selected no packet, before any output is put in place.
func (f *frames) Finish(l *replay.Loop) error {
	if f.selected == 0 && f.what != "" {
		return fmt.Errorf("%s: the traces hold %d packets", f.what, l.Stats.Packets)
	}
	return nil
}

// Commit and Abort put the HTML page in place, or remove it.
func (f *frames) Commit() error {
	if f.html == nil {
		return nil
	}
	return f.html.Commit()
}

func (f *frames) Abort() {
	if f.html != nil {
		f.html.Abort()
	}
}
