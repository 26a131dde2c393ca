package kernel_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

type tracePacket struct {
	data []byte
	tsNs uint64
}

// readTrace reads a trace through the replay loop's reader, as xdpsim reads it.
func readTrace(t testing.TB, path string) []tracePacket {
	t.Helper()
	var out []tracePacket
	err := replay.ReadAll([]string{path}, func(r *replay.Record) error {
		out = append(out, tracePacket{append([]byte(nil), r.Data...), uint64(r.Time.UnixNano())})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffRun runs one object over one trace in the kernel and, from fresh maps, in the simulator on
// every engine, and returns every divergence (each naming its engine). With cookies set, the SYN-ACKs
// a program sends carry cookies of secrets that differ: they are compared masked
// (corpus.Program.Cookies).
func diffRun(t testing.TB, obj, entry string, pkts []tracePacket, cookies ...bool) (divergences []string, packets int) {
	kp, err := kernel.Load(obj, kernel.Options{Program: entry})
	if err != nil {
		t.Fatalf("kernel: %v", err)
	}
	defer kp.Close()
	want := make([]result.Packet, len(pkts))
	err = kp.OnTestThread(func() error {
		for i, pkt := range pkts {
			want[i] = kp.Run(pkt.data, nil, kernel.Context{IngressIfindex: 1})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("kernel: %v", err)
	}
	km, err := kp.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range vm.Engines() {
		o, err := sim.Load(obj, sim.LoadOptions{CPUs: kp.NumCPU()})
		if err != nil {
			t.Fatalf("simulator: %v", err)
		}
		p, err := o.FindProgram(entry)
		if err != nil {
			t.Fatalf("simulator: %v", err)
		}
		x, err := sim.NewXDP(p)
		if err != nil {
			t.Fatal(err)
		}
		x.Machine().SetEngine(e)
		var divs []string
		for i, pkt := range pkts {
			s := x.Run(pkt.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: pkt.tsNs})
			k := want[i]
			if len(cookies) > 0 && cookies[0] && s.Ret == 3 && k.Ret == 3 {
				var serr, kerr error
				s.Data, serr = corpus.MaskCookies(s.Data)
				k.Data, kerr = corpus.MaskCookies(k.Data)
				if serr != nil || kerr != nil {
					divs = append(divs, fmt.Sprintf("packet %d: simulator %v, kernel %v", i+1, serr, kerr))
					continue
				}
			}
			divs = append(divs, result.ComparePackets(i+1, s.Packet, k)...)
		}
		sm, err := o.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append(divs, result.CompareMaps(sm, km)...) {
			divergences = append(divergences, e.Name()+" engine: "+d)
		}
	}
	return divergences, len(pkts)
}

// TestSimulatorAgreesWithKernel runs every corpus program, at both ISA levels, over every corpus
// trace in the simulator (on every engine) and in the real kernel, and requires full agreement: return value, output
// bytes, metadata, and the contents of every map after each trace.
func TestSimulatorAgreesWithKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	traces := map[string][]tracePacket{}
	for _, tr := range corpus.Traces() {
		traces[tr.Name] = readTrace(t, tr.Path())
	}
	total, runs := 0, 0
	for _, p := range corpus.Programs() {
		for _, cpu := range corpus.CPUs {
			for _, tr := range corpus.Traces() {
				name := p.Name + "." + cpu + "/" + strings.TrimSuffix(tr.Name, filepath.Ext(tr.Name))
				t.Run(name, func(t *testing.T) {
					if p.Needs != "" {
						t.Skipf("SKIP: %s needs the simulator (%s): BPF_PROG_TEST_RUN cannot run it (see veth_hints_test.go for the hints on a real veth)", p.Name, p.Needs)
					}
					divs, n := diffRun(t, p.Object(cpu), p.Entry, traces[tr.Name], p.Cookies)
					total += n
					runs++
					for i, d := range divs {
						if i == 10 {
							t.Errorf("... and %d more divergences", len(divs)-10)
							break
						}
						t.Error(d)
					}
				})
			}
		}
	}
	runnable := 0
	for _, p := range corpus.Programs() {
		if p.Needs == "" {
			runnable++
		}
	}
	t.Logf("%d programs the kernel can test-run (of %d) x %d ISA levels x %d traces: %d runs, %d packets on each side",
		runnable, len(corpus.Programs()), len(corpus.CPUs), len(corpus.Traces()), runs, total)
}

// FuzzSimulatorAgainstKernel sends fuzzed packets through several corpus programs in the kernel and
// in the simulator on every engine, and fails on the first divergence. Map state carries over between inputs, as in a trace.
func FuzzSimulatorAgainstKernel(f *testing.F) {
	if err := kernel.Available(); err != nil {
		f.Skipf("SKIP: %v", err)
	}
	for _, tr := range []string{"mixed.pcap", "malformed.pcap", "vlan.pcap", "ipv6ext.pcap"} {
		for i, p := range readTrace(f, corpus.TracePath(tr)) {
			if i%97 == 0 {
				f.Add(p.data)
			}
		}
	}
	type side struct {
		name string
		xs   []*sim.XDP // one per engine
		kp   *kernel.Program
	}
	var sides []side
	for _, name := range []string{"vlan", "ipv6_exthdr", "nat44", "tcp_flags", "meta_tail", "encap", "icmp_echo", "loops"} {
		p, ok := corpus.Lookup(name)
		if !ok {
			f.Fatalf("no corpus program %s", name)
		}
		kp, err := kernel.Load(p.Object("v4"), kernel.Options{Program: p.Entry})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { kp.Close() })
		sd := side{name: name, kp: kp}
		for _, e := range vm.Engines() {
			o, err := sim.Load(p.Object("v4"), sim.LoadOptions{CPUs: kp.NumCPU()})
			if err != nil {
				f.Fatal(err)
			}
			prog, err := o.FindProgram(p.Entry)
			if err != nil {
				f.Fatal(err)
			}
			x, err := sim.NewXDP(prog)
			if err != nil {
				f.Fatal(err)
			}
			x.Machine().SetEngine(e)
			sd.xs = append(sd.xs, x)
		}
		sides = append(sides, sd)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > kernel.MaxPacket {
			return
		}
		for _, sd := range sides {
			k := sd.kp.Run(pkt, nil, kernel.Context{IngressIfindex: 1})
			for _, x := range sd.xs {
				s := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
				if d := result.ComparePackets(1, s.Packet, k); len(d) > 0 {
					t.Fatalf("%s on the %s engine diverges on %x:\n%s", sd.name, x.Machine().Engine().Name(), pkt, strings.Join(d, "\n"))
				}
			}
		}
	})
}
