// Package simtest holds what tests of the packages above sim share: corpus programs loaded with
// what they need to run in the simulator, and pcap records read into memory.
package simtest

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// Options are the load options a corpus program needs in the simulator: the features of the
// proposals it calls.
func Options(p corpus.Program) sim.LoadOptions {
	var opts sim.LoadOptions
	if strings.Contains(p.Needs, corpus.NeedsTraits) {
		opts.Features = kfuncs.Features{Traits: true}
	}
	if strings.Contains(p.Needs, corpus.NeedsExportToSkb) {
		opts.Features.ExportToSkb = true
	}
	if strings.Contains(p.Needs, corpus.NeedsControlMap) {
		opts.Features.ControlMap = true
	}
	return opts
}

// XDP loads corpus program p (compiled for -mcpu=v4) and prepares its entry program.
func XDP(tb testing.TB, p corpus.Program) *sim.XDP {
	tb.Helper()
	return xdpOf(tb, load(tb, p), p.Entry)
}

// load loads corpus program p's object compiled for -mcpu=v4.
func load(tb testing.TB, p corpus.Program) *sim.Object {
	tb.Helper()
	obj, err := sim.Load(p.Object("v4"), Options(p))
	if err != nil {
		tb.Fatal(err)
	}
	return obj
}

// xdpOf prepares the object's XDP program name.
func xdpOf(tb testing.TB, obj *sim.Object, name string) *sim.XDP {
	tb.Helper()
	prog, err := obj.Program(name)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// TCProgram is the corpus tc program of that name.
func TCProgram(tb testing.TB, name string) corpus.Program {
	for _, p := range corpus.TCPrograms() {
		if p.Name == name {
			return p
		}
	}
	tb.Fatalf("no corpus tc program %s", name)
	return corpus.Program{}
}

// Chain is the tc programs of corpus program p in the order they run: its chain, or its entry.
func Chain(p corpus.Program) []string {
	if len(p.Chain) > 0 {
		return p.Chain
	}
	return []string{p.Entry}
}

// TC loads corpus tc program p and prepares it (its chain, if it has one) to run alone, as
// BPF_PROG_TEST_RUN runs it.
func TC(tb testing.TB, p corpus.Program) *sim.TC {
	tb.Helper()
	return tcOf(tb, load(tb, p), Chain(p))
}

func tcOf(tb testing.TB, obj *sim.Object, names []string) *sim.TC {
	tb.Helper()
	var progs []*sim.Program
	for _, n := range names {
		prog, err := obj.Program(n)
		if err != nil {
			tb.Fatal(err)
		}
		progs = append(progs, prog)
	}
	tc, err := sim.NewTC(progs...)
	if err != nil {
		tb.Fatal(err)
	}
	return tc
}

// Ingress loads corpus tc program p, which names the XDP program of its object it is meant to
// follow (p.XDP), and puts it (its chain) at tc ingress behind that program.
func Ingress(tb testing.TB, p corpus.Program) *sim.XDP {
	tb.Helper()
	return Behind(tb, load(tb, p), p.XDP, Chain(p)...)
}

// Behind prepares the object's XDP program xdp with its tc programs tc (a chain, in order) at tc
// ingress behind it; x.Ingress() is the tc programs.
func Behind(tb testing.TB, obj *sim.Object, xdp string, tc ...string) *sim.XDP {
	tb.Helper()
	x := xdpOf(tb, obj, xdp)
	x.SetIngress(tcOf(tb, obj, tc))
	return x
}

// Dispatcher attaches the programs of a corpus dispatcher set (compiled for -mcpu=v4) through
// libxdp's dispatcher as xdp-loader attaches them: each from its own object, with the set's
// priority, chain-call actions and frags marks.
func Dispatcher(tb testing.TB, set corpus.DispatcherSet) *sim.XDP {
	tb.Helper()
	x, _ := DispatcherOf(tb, set, "v4", 0)
	return x
}

// DispatcherOf is Dispatcher for the objects compiled for cpu ("v3" or "v4"), each loaded afresh
// for ncpu CPUs (0: the default); it returns the objects too, in the set's order.
func DispatcherOf(tb testing.TB, set corpus.DispatcherSet, cpu string, ncpu int) (*sim.XDP, []*sim.Object) {
	tb.Helper()
	atts, objs := Attachments(tb, set, cpu, ncpu)
	x, err := sim.NewDispatcher(atts, device.Options{PacketChangingStubs: set.PacketChangingStubs})
	if err != nil {
		tb.Fatal(err)
	}
	return x, objs
}

// Attachments are the programs of a corpus dispatcher set as xdp-loader attaches them, each
// loaded afresh from its own object compiled for cpu, for ncpu CPUs (0: the default), with the
// set's overrides; and the objects, in the set's order.
func Attachments(tb testing.TB, set corpus.DispatcherSet, cpu string, ncpu int) ([]sim.Attachment, []*sim.Object) {
	tb.Helper()
	o := Override(tb, set)
	var atts []sim.Attachment
	var objs []*sim.Object
	for _, name := range set.Programs {
		p := Program(tb, name)
		opts := Options(p)
		opts.CPUs = ncpu
		obj, err := sim.Load(p.Object(cpu), opts)
		if err != nil {
			tb.Fatal(err)
		}
		prog, err := obj.Program(p.Entry)
		if err != nil {
			tb.Fatal(err)
		}
		po := o
		if set.SetFrags {
			frags := p.Frags
			po.Frags = &frags
		}
		atts = append(atts, sim.Attachment{Program: prog, Override: po})
		objs = append(objs, obj)
	}
	return atts, objs
}

// Override is what xdp-loader's --prio and --actions do to every program of the set.
func Override(tb testing.TB, set corpus.DispatcherSet) device.Override {
	tb.Helper()
	var o device.Override
	if set.Priority != 0 {
		prio := set.Priority
		o.Priority = &prio
	}
	if set.Actions != "" {
		a, err := device.ParseActions(set.Actions)
		if err != nil {
			tb.Fatal(err)
		}
		o.Actions = &a
	}
	return o
}

// Program is the corpus program of that name.
func Program(tb testing.TB, name string) corpus.Program {
	p, ok := corpus.Lookup(name)
	if !ok {
		tb.Fatalf("no corpus program %s", name)
	}
	return p
}

// Record is one pcap record.
type Record struct {
	Data []byte
	Time time.Time
}

// Records reads the first n records of a pcap file (all of them for n < 0).
func Records(tb testing.TB, path string, n int) []Record {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Record
	for n < 0 || len(out) < n {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("%s: record %d: %v", path, len(out)+1, err)
		}
		out = append(out, Record{Data: data, Time: ci.Timestamp})
	}
	return out
}

// RepeatTrace writes a pcap at path holding the records of the trace at src copies times over, one
// microsecond apart (a large trace made in a test's temporary directory, so that none is
// committed), and returns how many records it holds.
func RepeatTrace(tb testing.TB, src, path string, copies int) int {
	tb.Helper()
	recs := Records(tb, src, -1)
	frames := make([][]byte, 0, len(recs)*copies)
	for range copies {
		for _, r := range recs {
			frames = append(frames, r.Data)
		}
	}
	if err := replay.WritePcap(path, recs[0].Time, frames...); err != nil {
		tb.Fatal(err)
	}
	return len(frames)
}
