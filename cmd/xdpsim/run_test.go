package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(args, strings.NewReader(""), &out, &errb)
	return rc, out.String(), errb.String()
}

func TestRunWritesEveryOutput(t *testing.T) {
	dir := t.TempDir()
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("mixed.pcap")
	jl := filepath.Join(dir, "out.jsonl")
	mp := filepath.Join(dir, "maps.json")
	pc := filepath.Join(dir, "pcaps")
	rc, stdout, stderr := runCmd(t, "run", obj, trace, "--jsonl", jl, "--maps", mp, "-w", pc)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	if !strings.Contains(stdout, "4000 packets") {
		t.Errorf("summary does not count 4000 packets:\n%s", stdout)
	}
	t.Run("one JSON object per packet, in order, with the fixed keys first", func(t *testing.T) {
		f, err := os.Open(jl)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := sc.Text()
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			if int(m["packet"].(float64)) != n {
				t.Fatalf("line %d has packet %v", n, m["packet"])
			}
			if _, bad := m["error"]; bad {
				if !strings.HasPrefix(line, `{"packet":`+itoa(n)+`,"error":`) {
					t.Fatalf("line %d: %s", n, line)
				}
				continue
			}
			if !strings.HasPrefix(line, `{"packet":`+itoa(n)+`,"ret":`) || !strings.Contains(line, `,"verdict":"XDP_`) {
				t.Fatalf("line %d does not start with packet, ret, verdict: %.80s", n, line)
			}
			keys := []string{`"packet"`, `"ret"`, `"verdict"`, `"data"`, `"meta"`}
			last := -1
			for _, k := range keys {
				i := strings.Index(line, k)
				if i < last {
					t.Fatalf("line %d: key %s out of order", n, k)
				}
				last = i
			}
		}
		if n != 4000 {
			t.Errorf("%d lines, want 4000", n)
		}
	})
	t.Run("map contents are JSON keyed by map name", func(t *testing.T) {
		b, err := os.ReadFile(mp)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string][]map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m[".bss"]; !ok {
			t.Errorf("no .bss in the dump: %s", b)
		}
	})
	t.Run("one pcap per verdict, with nanosecond timestamps, holding every packet that ran", func(t *testing.T) {
		total := 0
		for _, name := range []string{"pass.pcap", "tx.pcap", "drop.pcap"} {
			f, err := os.Open(filepath.Join(pc, name))
			if err != nil {
				t.Fatal(err)
			}
			r, err := pcapgo.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			// The nanosecond pcap magic (gopacket's Reader.Resolution reports it inverted).
			head, _ := os.ReadFile(filepath.Join(pc, name))
			if len(head) < 4 || binary.LittleEndian.Uint32(head) != 0xa1b23c4d {
				t.Errorf("%s: not a nanosecond pcap", name)
			}
			for {
				if _, _, err := r.ReadPacketData(); err != nil {
					break
				}
				total++
			}
			f.Close()
		}
		// The mixed trace holds 10 runts the kernel refuses; every other packet is written.
		if total != 4000-10 {
			t.Errorf("%d packets in the verdict pcaps, want %d", total, 4000-10)
		}
		entries, _ := os.ReadDir(pc)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func objectOf(t *testing.T, name string) string {
	p, ok := corpus.Lookup(name)
	if !ok {
		t.Fatalf("no corpus program %s", name)
	}
	return p.Object("v4")
}

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	obj := objectOf(t, "udp_echo")
	good, err := os.ReadFile(corpus.TracePath("mixed.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pcap")
	os.WriteFile(truncated, good[:1000], 0o644)
	raw := filepath.Join(dir, "raw.pcap")
	f, _ := os.Create(raw)
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(65535, layers.LinkTypeRaw)
	f.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a truncated trace exits 2 naming the file and record", []string{"run", obj, truncated, "--jsonl", filepath.Join(dir, "t.jsonl")}, "truncated.pcap: record"},
		{"a trace that is not Ethernet exits 2", []string{"run", obj, raw}, "is not Ethernet"},
		{"a missing object exits 2", []string{"run", filepath.Join(dir, "none.o"), truncated}, "none.o"},
		{"several XDP programs and no choice list them", []string{"run", objectOf(t, "tailcall"), corpus.TracePath("vlan.pcap")}, "xdp_handle_arp, xdp_handle_ipv4"},
		{"an unknown program names the choices", []string{"run", "-p", "nope", obj, corpus.TracePath("vlan.pcap")}, "no program named \"nope\""},
		{"a bad --set exits 2", []string{"run", "--set", "x", obj, corpus.TracePath("vlan.pcap")}, "want NAME=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "t.jsonl")); err == nil {
		t.Error("a failed run left its --jsonl output behind")
	}
}

func TestRunTraceShowsInstructionsAndSource(t *testing.T) {
	rc, stdout, stderr := runCmd(t, "run", "--trace", objectOf(t, "udp_filter"), corpus.TracePath("vlan.pcap"))
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	for _, want := range []string{"--- packet 1\n", "0: (b4) w0 = 1\t; r0=0x1\n", "; udp_filter.c:80: void *data_end = (void *)(long)ctx->data_end;\n", "r6 = *(u32 *)(r1 +4)\t; r6=packet+"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}

func TestRunIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var outs [2]string
	for i := range outs {
		path := filepath.Join(dir, "run"+strconv.Itoa(i)+".jsonl")
		rc, _, stderr := runCmd(t, "run", objectOf(t, "time_rand"), corpus.TracePath("mixed.pcap"), "--jsonl", path, "--seed", "7")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = string(b)
	}
	if outs[0] != outs[1] {
		t.Error("two runs of the same inputs gave different JSON lines")
	}
}

func TestRunReadsPcapng(t *testing.T) {
	// The same records as pcapng must give the same results as the pcap.
	src, err := os.Open(corpus.TracePath("vlan.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := pcapgo.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	ngPath := filepath.Join(t.TempDir(), "vlan.pcapng")
	f, err := os.Create(ngPath)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	f.Close()
	obj := objectOf(t, "vlan")
	_, fromPcap, _ := runCmd(t, "run", obj, corpus.TracePath("vlan.pcap"), "--jsonl", "-")
	rc, fromNg, stderr := runCmd(t, "run", obj, ngPath, "--jsonl", "-")
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	strip := func(s string) string { // the file name differs
		var b strings.Builder
		for _, line := range strings.Split(s, "\n") {
			if i := strings.Index(line, `"file":`); i >= 0 {
				line = line[:i]
			}
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	if strip(fromPcap) != strip(fromNg) || !strings.Contains(fromNg, `"packet":400,`) {
		a, b := strings.Split(strip(fromPcap), "\n"), strings.Split(strip(fromNg), "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Errorf("line %d differs:\npcap   %.200s\npcapng %.200s", i+1, a[i], b[i])
				break
			}
		}
		t.Errorf("pcapng input gave other results than the same records as pcap (%d and %d lines)", len(a), len(b))
	}
}
