package corpus_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
)

// readTrace returns the frames of a committed trace.
func readTrace(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(corpus.TracePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, append([]byte(nil), data...))
	}
}

// kernelRun is what the kernel did with one program over its traces.
type kernelRun struct {
	verdicts  map[string]int // "XDP_PASS" etc., or the error of the run
	changed   int            // packets that came out different from how they went in
	perPacket []byte         // digest input: return value, error and output of each packet
	maps      string         // dump of the maps that matter
}

func runInKernel(t *testing.T, p corpus.Program, obj string) kernelRun {
	t.Helper()
	coll := loadObject(t, obj)
	defer coll.Close()
	prog := coll.Programs[p.Entry]
	if prog == nil {
		t.Fatalf("%s: no program %s", obj, p.Entry)
	}
	run := kernelRun{verdicts: map[string]int{}}
	out := make([]byte, 16384)
	var digest bytes.Buffer
	for _, tr := range p.Traces {
		for _, pkt := range readTrace(t, tr) {
			opts := ebpf.RunOptions{Data: pkt, DataOut: out, Repeat: 1}
			ret, err := prog.Run(&opts)
			key := verdictName(ret)
			if err != nil {
				key = "error: " + errno(err)
			} else if !bytes.Equal(opts.DataOut, pkt) {
				run.changed++
			}
			run.verdicts[key]++
			data := opts.DataOut
			if p.Cookies && ret == 3 { // the SYN-ACKs it sends with XDP_TX
				if data, err = corpus.MaskCookies(data); err != nil {
					t.Fatalf("%s: %v", obj, err)
				}
			}
			fmt.Fprintf(&digest, "%s %d %x\n", key, ret, sha256.Sum256(data))
		}
	}
	run.perPacket = digest.Bytes()
	run.maps = dumpMaps(t, coll, p.Maps)
	return run
}

func verdictName(ret uint32) string {
	names := []string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}
	if int(ret) < len(names) {
		return names[ret]
	}
	return fmt.Sprintf("ret %d", ret)
}

func errno(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// dumpMaps renders the maps in an order that does not depend on hash seeds or on the CPU a
// packet ran on (per-CPU values are summed).
func dumpMaps(t *testing.T, coll *ebpf.Collection, maps []corpus.Map) string {
	var b strings.Builder
	for _, mi := range maps {
		m := coll.Maps[mi.Name]
		if m == nil {
			t.Fatalf("no map %s", mi.Name)
		}
		fmt.Fprintf(&b, "%s:\n", mi.Name)
		var lines []string
		switch {
		case m.Type() == ebpf.RingBuf:
			// the ring buffer's records are checked through ringbuf_query results in .bss
			continue
		case m.Type() == ebpf.Queue || m.Type() == ebpf.Stack:
			for {
				v := make([]byte, m.ValueSize())
				if err := m.LookupAndDelete(nil, &v); err != nil {
					break
				}
				lines = append(lines, fmt.Sprintf("  %x", v))
			}
		case mi.PerCPU:
			var k []byte
			var vs []uint64
			it := m.Iterate()
			for it.Next(&k, &vs) {
				var sum uint64
				for _, v := range vs {
					sum += v
				}
				lines = append(lines, fmt.Sprintf("  %x = %d", k, sum))
			}
			if err := it.Err(); err != nil {
				t.Fatalf("%s: %v", mi.Name, err)
			}
			sort.Strings(lines)
		default:
			var k, v []byte
			it := m.Iterate()
			for it.Next(&k, &v) {
				lines = append(lines, fmt.Sprintf("  %x = %x", k, v))
			}
			if err := it.Err(); err != nil {
				t.Fatalf("%s: %v", mi.Name, err)
			}
			sort.Strings(lines)
		}
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// The corpus is only useful if the kernel's results depend on the packets, and if they are
// reproducible: both builds of a program (v3, v4), each loaded afresh, must agree on every
// packet and on every map.
func TestTheKernelGivesEachProgramPacketDependentReproducibleResults(t *testing.T) {
	requireBPF(t)
	for _, p := range corpus.Programs() {
		t.Run(p.Name, func(t *testing.T) {
			if p.Needs != "" {
				t.Skipf("SKIP: %s needs the simulator (%s): BPF_PROG_TEST_RUN cannot run it", p.Name, p.Needs)
			}
			runs := map[string]kernelRun{}
			for _, cpu := range corpus.CPUs {
				runs[cpu] = runInKernel(t, p, p.Object(cpu))
			}
			v3, v4 := runs["v3"], runs["v4"]
			t.Logf("%s: %v, %d packets rewritten", p.Name, sortedCounts(v3.verdicts), v3.changed)
			if !bytes.Equal(v3.perPacket, v4.perPacket) {
				t.Errorf("v3 and v4 builds disagree on some packet: %s", firstDifference(v3.perPacket, v4.perPacket))
			}
			if v3.maps != v4.maps {
				t.Errorf("v3 and v4 builds leave different maps:\nv3:\n%s\nv4:\n%s", v3.maps, v4.maps)
			}
			verdicts := 0
			for k := range v3.verdicts {
				if !strings.HasPrefix(k, "error") {
					verdicts++
				}
			}
			if verdicts < 2 && v3.changed == 0 {
				t.Errorf("every packet got the same verdict and none was rewritten: %v", v3.verdicts)
			}
			if strings.Count(v3.maps, "\n") <= len(p.Maps) {
				t.Errorf("the maps that matter stayed empty:\n%s", v3.maps)
			}
			if testing.Verbose() && os.Getenv("CORPUS_DUMP_MAPS") != "" {
				t.Logf("maps:\n%s", v3.maps)
			}
		})
	}
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func firstDifference(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) && i < len(lb); i++ {
		if !bytes.Equal(la[i], lb[i]) {
			return fmt.Sprintf("packet %d: %q vs %q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d vs %d packets", len(la), len(lb))
}
