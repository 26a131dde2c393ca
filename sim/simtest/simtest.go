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
	obj, err := sim.Load(p.Object("v4"), Options(p))
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := obj.Program(p.Entry)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		tb.Fatal(err)
	}
	return x
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
