package replay_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/topology"
)

// jsonCheck compares each packet's hand-written JSON line with encoding/json's for the same
// PacketJSON.
type jsonCheck struct {
	t      *testing.T
	buf    []byte
	n      int
	seen   map[string]bool
	failed int
}

func (c *jsonCheck) Packet(p *replay.Packet) error {
	var err error
	c.buf, err = replay.AppendPacketJSON(c.buf[:0], p)
	if err != nil {
		return err
	}
	want, err := json.Marshal(replay.NewPacketJSON(p))
	if err != nil {
		return err
	}
	c.n++
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(want, &keys); err != nil {
		return err
	}
	for k := range keys {
		c.seen[k] = true
	}
	if !bytes.Equal(c.buf, want) && c.failed < 3 {
		c.failed++
		c.t.Errorf("packet %d:\nhand-written %s\nencoding/json %s", p.N, c.buf, want)
	}
	return nil
}

// TestJSONLinesAreEncodingJSONs holds the hand-written JSON lines to encoding/json's bytes for the
// documented PacketJSON over runs that produce every key.
func TestJSONLinesAreEncodingJSONs(t *testing.T) {
	var feat kfuncs.Features
	if err := feat.Enable("traits"); err != nil {
		t.Fatal(err)
	}
	var export kfuncs.Features
	if err := export.Enable("export-to-skb"); err != nil {
		t.Fatal(err)
	}
	snapped := writeNg(t, []layers.LinkType{layers.LinkTypeEthernet}, []ngRecord{{0, frame(60, 1), 0}, {0, frame(96, 2), 1514}})
	check := &jsonCheck{t: t, seen: map[string]bool{}}
	for _, run := range []struct {
		prog   string
		opts   sim.LoadOptions
		trace  string
		budget uint64
		dev    string
	}{
		{prog: "eth_stats", trace: corpus.TracePath("mixed.pcap")},
		{prog: "perf_event", trace: corpus.TracePath("mixed.pcap")},
		{prog: "devmap", trace: corpus.TracePath("mixed.pcap")},
		{prog: "arp_responder", trace: corpus.TracePath("mixed.pcap")},
		{prog: "time_rand", trace: corpus.TracePath("vlan.pcap")},
		{prog: "hints", trace: corpus.TracePath("vlan.pcap"), dev: "mlx5"},
		{prog: "traits", opts: sim.LoadOptions{Features: feat}, trace: corpus.TracePath("vlan.pcap")},
		{prog: "export_skb", opts: sim.LoadOptions{Features: export}, trace: corpus.TracePath("vlan.pcap"), dev: "mlx5"},
		{prog: "udp_filter", trace: corpus.TracePath("vlan.pcap"), budget: 3},
		{prog: "udp_filter", trace: snapped},
	} {
		_, x := newSim(t, run.prog, run.opts)
		x.Machine().SetBudget(run.budget)
		if run.dev != "" {
			p, err := device.LookupProfile(run.dev)
			if err != nil {
				t.Fatal(err)
			}
			x.SetDevice(&device.Netdev{Profile: p})
		}
		l := &replay.Loop{Target: replay.Sim{X: x}, Sinks: []replay.Sink{check}}
		if err := l.Run(run.trace); err != nil {
			t.Fatalf("%s: %v", run.prog, err)
		}
	}
	// A dispatcher (libxdp's, through sim.NewDispatcher) adds the slots that ran.
	var atts []sim.Attachment
	for _, name := range []string{"disp_verdict", "disp_last"} {
		_, x := newSim(t, name, sim.LoadOptions{})
		atts = append(atts, sim.Attachment{Program: x.Program()})
	}
	d, err := sim.NewDispatcher(atts, device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&replay.Loop{Target: replay.Sim{X: d}, Sinks: []replay.Sink{check}}).Run(corpus.TracePath("mixed.pcap")); err != nil {
		t.Fatal(err)
	}
	// tc programs: alone, as BPF_PROG_TEST_RUN runs them (ctx, tc), and behind an XDP program.
	for _, name := range []string{"tc_redirect", "tc_events"} {
		var tp corpus.Program
		for _, p := range corpus.TCPrograms() {
			if p.Name == name {
				tp = p
			}
		}
		o, err := sim.Load(tp.Object("v4"), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.FindProgram(tp.Entry)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := sim.NewTC(p)
		if err != nil {
			t.Fatal(err)
		}
		l := &replay.Loop{Target: replay.SimTC{T: tc}, Sinks: []replay.Sink{check}}
		if err := l.Run(corpus.TracePath("mixed.pcap")); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Networks: each packet's path and end (the netkit corpus setups).
	for _, s := range corpus.NetkitSetups() {
		topo, err := topology.Load(corpus.NetkitPath(s.Topology), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		l := &replay.Loop{Target: &replay.Network{N: topo.Network, Arrivals: topo.Arrivals, Objects: topo.Objects}, Sinks: []replay.Sink{check}}
		var traces []string
		for _, tr := range s.Traces {
			traces = append(traces, corpus.NetkitPath(tr))
		}
		if err := l.Run(traces...); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
	}
	for _, k := range []string{"packet", "ret", "verdict", "data", "meta", "error", "redirect", "exception", "skb", "dispatch", "hints", "traits", "printk", "insns", "snapped", "file", "record", "ctx", "tc", "end", "path"} {
		if !check.seen[k] {
			t.Errorf("no packet had %q: the comparison does not cover it", k)
		}
	}
	t.Logf("%d packets compared", check.n)
}
