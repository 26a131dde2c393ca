package replay

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Network is a sim.Network as a Target: each trace's packets enter where the first arrival that
// matches the trace's file name says (see sim.Arrival); Run, for a packet outside a trace, takes
// the first arrival without a Match.
type Network struct {
	N        *sim.Network
	Arrivals []sim.Arrival
	// Objects are the network's objects by name, for the map dump: with one object its maps keep
	// their names, with several each is named "OBJECT:MAP".
	Objects map[string]*sim.Object
}

// RunTrace runs one packet of a trace file.
func (t *Network) RunTrace(file string, pkt, meta []byte, cond sim.Conditions) sim.Outcome {
	a, ok := sim.ArrivalFor(t.Arrivals, file)
	if !ok {
		return sim.Outcome{Packet: result.Packet{Err: fmt.Sprintf("no arrival matches the trace %s", filepath.Base(file))}}
	}
	return t.N.Run(pkt, meta, cond, a)
}

// Run runs one packet outside a trace.
func (t *Network) Run(pkt, meta []byte, cond sim.Conditions) sim.Outcome {
	for _, a := range t.Arrivals {
		if a.Match == "" {
			return t.N.Run(pkt, meta, cond, a)
		}
	}
	return sim.Outcome{Packet: result.Packet{Err: "no arrival without a match for a packet outside a trace"}}
}

// DumpMaps dumps the maps of every object of the network.
func (t *Network) DumpMaps() (result.Maps, error) {
	out := result.Maps{}
	for name, o := range t.Objects {
		d, err := o.DumpMaps()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for m, entries := range d {
			if len(t.Objects) > 1 {
				m = name + ":" + m
			}
			out[m] = entries
		}
	}
	return out, nil
}

// appendNetworkJSON appends the rest of a network packet's JSON line after its number: the
// end in a few words and the packet as its way ended (or the error), the end, the path.
func appendNetworkJSON(b []byte, p *Packet) ([]byte, error) {
	o := &p.Outcome
	nw := o.Network
	if o.Err == "" {
		b = appendJSONString(append(b, `,"verdict":`...), nw.End.Summary())
		b = append(b, `,"data":"`...)
		b = append(b, result.Hex(o.Data)...)
		b = append(b, '"')
	} else {
		b = appendJSONString(append(b, `,"error":`...), o.Err)
	}
	var err error
	if b, err = appendMarshal(append(b, `,"end":`...), &nw.End); err != nil {
		return b, err
	}
	if len(nw.Path) > 0 {
		if b, err = appendMarshal(append(b, `,"path":`...), nw.Path); err != nil {
			return b, err
		}
	}
	return appendTail(b, p)
}

// PathLine writes a packet's path on one line: each hop as "DEVICE HOOK VERDICT" (the
// namespace instead of the device for a stack's decision), the programs of a hook with their
// return values.
func PathLine(nw *sim.NetworkOutcome) string {
	var parts []string
	for _, h := range nw.Path {
		where := h.Device
		if where == "" {
			where = h.Namespace
		}
		s := where + " " + h.Hook
		if len(h.Programs) > 0 {
			var ps []string
			for _, r := range h.Programs {
				ps = append(ps, r.Program+"="+strconv.Itoa(int(r.Ret)))
			}
			s += " [" + strings.Join(ps, " ") + "]"
		}
		s += " " + h.Verdict
		if h.Detail != "" && (h.Hook == "route" || h.Verdict == "redirect" || h.Hook == "xdp") {
			s += " (" + h.Detail + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " -> ")
}

// NetworkPcaps writes what left each device of a network (tx-DEVICE.pcap: to the wire, or to a
// pair's other end) and what each namespace's stack received (delivered-NAMESPACE.pcap) into a
// directory: one file per device and per namespace, empty when nothing went there, so that an
// earlier run's file never passes for this run's.
type NetworkPcaps struct {
	d *PcapDir
}

// NewNetworkPcaps writes the pcaps of a network's run into dir, creating it.
func NewNetworkPcaps(dir string, n *sim.Network) (*NetworkPcaps, error) {
	var always []string
	for _, d := range n.DeviceNames() {
		always = append(always, "tx-"+d+".pcap")
	}
	for _, ns := range n.NamespaceNames() {
		always = append(always, "delivered-"+ns+".pcap")
	}
	d, err := newPcapDir(dir, always)
	if err != nil {
		return nil, err
	}
	return &NetworkPcaps{d: d}, nil
}

func (w *NetworkPcaps) Packet(p *Packet) error {
	nw := p.Outcome.Network
	if nw == nil {
		return nil
	}
	for _, f := range nw.Frames {
		name := "tx-" + f.Device + ".pcap"
		if f.Kind == "delivered" {
			name = "delivered-" + f.Namespace + ".pcap"
		}
		pf, err := w.d.open(name)
		if err != nil {
			return err
		}
		if err := pf.write(p.Record, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// Written lists the files of the last commit.
func (w *NetworkPcaps) Written() []string { return w.d.Written }

func (w *NetworkPcaps) Commit() error { return w.d.Commit() }
func (w *NetworkPcaps) Abort()        { w.d.Abort() }
