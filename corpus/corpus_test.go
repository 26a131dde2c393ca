package corpus_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/corpus/internal/gentrace"
)

func TestEveryCSourceIsListedAndEveryListedProgramHasItsFiles(t *testing.T) {
	sources, err := filepath.Glob(filepath.Join(corpus.Dir(), "*.c"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, p := range append(corpus.Programs(), corpus.TCPrograms()...) {
		if listed[p.Name] {
			t.Errorf("%s is listed twice", p.Name)
		}
		listed[p.Name] = true
		for _, path := range append([]string{p.Source()}, p.Objects()...) {
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: %v", p.Name, err)
			}
		}
	}
	for _, src := range sources {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		if !listed[name] {
			t.Errorf("%s is not listed in corpus.Programs() or corpus.TCPrograms()", src)
		}
	}
	if len(listed) < 25 {
		t.Errorf("the corpus has %d programs, want at least 25", len(listed))
	}
	if n := len(corpus.TCPrograms()); n < 12 {
		t.Errorf("the corpus has %d tc programs, want at least 12", n)
	}
}

func TestEachTCObjectHoldsItsProgramsAndTheMapsItNames(t *testing.T) {
	for _, p := range corpus.TCPrograms() {
		for _, cpu := range corpus.CPUs {
			t.Run(p.Name+"."+cpu, func(t *testing.T) {
				spec, err := ebpf.LoadCollectionSpec(p.Object(cpu))
				if err != nil {
					t.Fatal(err)
				}
				progs := append([]string{p.Entry}, p.Chain...)
				for _, name := range progs {
					prog, ok := spec.Programs[name]
					if !ok {
						t.Fatalf("no program %q in %s", name, p.Object(cpu))
					}
					if prog.Type != ebpf.SchedCLS || prog.SectionName != p.Section {
						t.Errorf("%s is a %v program in section %q, want SchedCLS in %q", name, prog.Type, prog.SectionName, p.Section)
					}
				}
				if p.XDP != "" {
					if prog, ok := spec.Programs[p.XDP]; !ok || prog.Type != ebpf.XDP {
						t.Errorf("%s names XDP program %q, which the object does not hold as one", p.Name, p.XDP)
					}
				}
				for _, m := range p.Maps {
					if _, ok := spec.Maps[m.Name]; !ok {
						t.Errorf("no map %q in %s", m.Name, p.Object(cpu))
					}
				}
				for _, tr := range p.Traces {
					if _, err := os.Stat(corpus.TracePath(tr)); err != nil {
						t.Errorf("trace %s: %v", tr, err)
					}
				}
			})
		}
	}
}

func TestEachObjectHoldsItsEntryProgramAndTheMapsItNames(t *testing.T) {
	for _, p := range corpus.Programs() {
		for _, cpu := range corpus.CPUs {
			t.Run(p.Name+"."+cpu, func(t *testing.T) {
				spec, err := ebpf.LoadCollectionSpec(p.Object(cpu))
				if err != nil {
					t.Fatal(err)
				}
				prog, ok := spec.Programs[p.Entry]
				if !ok {
					t.Fatalf("no program %q in %s", p.Entry, p.Object(cpu))
				}
				if prog.Type != ebpf.XDP {
					t.Errorf("%s is a %v program, want XDP", p.Entry, prog.Type)
				}
				if prog.SectionName != p.Section {
					t.Errorf("%s is in section %q, want %q", p.Entry, prog.SectionName, p.Section)
				}
				if frags := prog.Flags&(1<<5) != 0; frags != p.Frags { // BPF_F_XDP_HAS_FRAGS
					t.Errorf("%s: frags-aware %v, want %v", p.Entry, frags, p.Frags)
				}
				for _, m := range p.Maps {
					ms, ok := spec.Maps[m.Name]
					if !ok {
						t.Errorf("no map %q in %s", m.Name, p.Object(cpu))
						continue
					}
					perCPU := ms.Type == ebpf.PerCPUArray || ms.Type == ebpf.PerCPUHash || ms.Type == ebpf.LRUCPUHash
					if perCPU != m.PerCPU {
						t.Errorf("map %s is %v, listed with PerCPU=%v", m.Name, ms.Type, m.PerCPU)
					}
				}
				for _, tr := range p.Traces {
					if _, err := os.Stat(corpus.TracePath(tr)); err != nil {
						t.Errorf("trace %s: %v", tr, err)
					}
				}
			})
		}
	}
}

func TestTheTraceGeneratorRewritesTheCommittedTracesByteForByte(t *testing.T) {
	dir := t.TempDir()
	if err := gentrace.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, tr := range corpus.Traces() {
		fresh, err := os.ReadFile(filepath.Join(dir, tr.Name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(tr.Path())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s differs from a fresh run of the generator (run `go generate ./corpus`)", tr.Name)
		}
	}
}

func TestTheTracesHoldWhatTheREADMESays(t *testing.T) {
	var total, runts, jumbo, vlan, qinq, arp, v6, minLen, maxLen int
	minLen = 1 << 30
	if len(gentrace.Traces()) != len(corpus.Traces()) {
		t.Fatalf("gentrace writes %d traces, corpus lists %d", len(gentrace.Traces()), len(corpus.Traces()))
	}
	for i, tr := range corpus.Traces() {
		if g := gentrace.Traces()[i]; g.Name != tr.Name || g.Packets != tr.Packets {
			t.Errorf("corpus lists %s with %d packets, gentrace writes %s with %d", tr.Name, tr.Packets, g.Name, g.Packets)
		}
		f, err := os.Open(tr.Path())
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkType() != layers.LinkTypeEthernet {
			t.Errorf("%s: link type %v", tr.Name, r.LinkType())
		}
		// (gopacket v1.1.19's Reader.Resolution has micro and nano swapped: read the magic instead)
		if magic, err := os.ReadFile(tr.Path()); err != nil || len(magic) < 4 || string(magic[:4]) != "\x4d\x3c\xb2\xa1" {
			t.Errorf("%s: not a nanosecond pcap (magic 0xa1b23c4d)", tr.Name)
		}
		n := 0
		var last int64
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			n++
			if ts := ci.Timestamp.UnixNano(); ts <= last {
				t.Errorf("%s: packet %d is not later than the one before", tr.Name, n)
			} else {
				last = ts
			}
			minLen, maxLen = min(minLen, len(data)), max(maxLen, len(data))
			if len(data) < 14 {
				runts++
				continue
			}
			if len(data) > 3520 {
				jumbo++
			}
			switch string(data[12:14]) {
			case "\x81\x00":
				vlan++
			case "\x88\xa8":
				qinq++
			case "\x08\x06":
				arp++
			case "\x86\xdd":
				v6++
			}
		}
		f.Close()
		if n != tr.Packets {
			t.Errorf("%s: %d packets, want %d", tr.Name, n, tr.Packets)
		}
		total += n
	}
	t.Logf("%d packets, %d runts, %d over 3520 bytes, %d 802.1Q, %d 802.1ad, %d ARP, %d IPv6, lengths %d..%d",
		total, runts, jumbo, vlan, qinq, arp, v6, minLen, maxLen)
	if total < 5000 {
		t.Errorf("%d packets in all, want at least 5000", total)
	}
	for what, n := range map[string]int{"runts": runts, "jumbo frames": jumbo, "802.1Q frames": vlan, "802.1ad frames": qinq,
		"ARP frames": arp, "IPv6 frames": v6} {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	if maxLen > 9000 {
		t.Errorf("a frame of %d bytes, want at most 9000", maxLen)
	}
}

func TestProgramsListTracesThatExist(t *testing.T) {
	var names []string
	for _, tr := range corpus.Traces() {
		names = append(names, tr.Name)
	}
	for _, p := range append(corpus.Programs(), corpus.TCPrograms()...) {
		for _, tr := range p.Traces {
			if !slices.Contains(names, tr) {
				t.Errorf("%s names trace %s, which corpus.Traces() does not list", p.Name, tr)
			}
		}
	}
}
