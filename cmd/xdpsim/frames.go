package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/picture"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// frames is a replay sink that draws the frame of every selected packet after it ran (the XDP
// frame, and the sk_buff of tc programs, alone or at tc ingress): as text on w, and with html set
// as an HTML page (for one packet). Placed after the trace in a loop's sinks, the picture ends each
// packet's trace.
type frames struct {
	// x is the XDP program (or dispatcher), nil for a tc program run alone; tc the tc programs,
	// alone or behind x (nil for none).
	x    *sim.XDP
	tc   *sim.TC
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
	f.rec.Reset()
	if !p.Selected {
		picture.Unwatch(f.x, f.tc)
		return nil
	}
	f.rec.Title = fmt.Sprintf("packet %d (%s record %d), %s", p.N, p.Record.File, p.Record.Index, programsOf(f.x, f.tc, false))
	f.rec.XDPWho, f.rec.SkbWho = "", ""
	if f.x != nil {
		f.rec.XDPWho = f.x.Program().Name
		if f.x.Dispatcher() != nil {
			f.rec.XDPWho = picture.DispatcherWho
		}
	}
	if f.tc != nil {
		f.rec.SkbWho = chainNames(f.tc)
	}
	f.rec.Watch(f.x, f.tc)
	return nil
}

// programsOf names what runs the packets: "program xdp_encap", "libxdp's dispatcher (xdp_mon,
// xdp_fw)", "tc program tc_nat44", and with ingress "program xdp_pass, then tc ingress
// (chain_classify, ...)" (without, the tc programs behind an XDP program are not named).
func programsOf(x *sim.XDP, tc *sim.TC, ingress bool) string {
	var what string
	switch {
	case x != nil && x.Dispatcher() != nil:
		var names []string
		for _, p := range x.Programs() {
			names = append(names, p.Name)
		}
		what = "libxdp's dispatcher (" + strings.Join(names, ", ") + ")"
	case x != nil:
		what = "program " + x.Program().Name
	}
	switch {
	case tc != nil && x != nil && ingress:
		what += ", then tc ingress (" + chainNames(tc) + ")"
	case x != nil:
	case tc != nil && len(tc.Programs()) > 1:
		what = "tc programs " + chainNames(tc)
	case tc != nil:
		what = "tc program " + chainNames(tc)
	}
	return what
}

// chainNames names the tc programs in the order they run.
func chainNames(tc *sim.TC) string {
	var names []string
	for _, p := range tc.Programs() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// Packet draws it.
func (f *frames) Packet(p *replay.Packet) error {
	if !p.Selected {
		return nil
	}
	f.selected++
	picture.Unwatch(f.x, f.tc)
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
