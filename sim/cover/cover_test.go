package cover_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/cover"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/vm"
)

// The parser of sim/testdata: Ethernet, IPv4, UDP; it counts datagrams per port bucket.
const parserObj, parserSrc = "../testdata/parser.o", "../testdata/parser.c"

var (
	// An ARP frame: the parser passes it at the EtherType test.
	arpFrame = mustHex("ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002")
	// A UDP datagram to port 53: the parser counts it and passes it.
	udpFrame = mustHex("02000000000102000000000208004500001c0000000040110000c0a80001c0a80002d431003500080000")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// lineOf finds the line of the C source that holds text: the oracle of these tests is the source
// and what C does, not the simulator's output.
func lineOf(t *testing.T, text string) int {
	t.Helper()
	src, err := os.ReadFile(parserSrc)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, text) {
			if found != 0 {
				t.Fatalf("%q is on lines %d and %d of %s", text, found, i+1, parserSrc)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("%q is not in %s", text, parserSrc)
	}
	return found
}

// recording loads an object's XDP program (by name, "" for the only one) on a machine that
// records its coverage.
func recording(t *testing.T, path, name string) (*sim.XDP, *vm.Coverage) {
	t.Helper()
	obj, err := sim.Load(path, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := obj.FindProgram(name)
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	cov := vm.NewCoverage()
	x.Machine().SetCoverage(cov)
	return x, cov
}

// profileOf runs the frames through the parser with a coverage record and makes the profile.
func profileOf(t *testing.T, frames ...[]byte) *cover.Profile {
	t.Helper()
	x, cov := recording(t, parserObj, "")
	for _, f := range frames {
		if o := x.Run(f, nil, sim.Conditions{IngressIfindex: 1}); o.Err != "" {
			t.Fatalf("frame %x: %s", f, o.Err)
		}
	}
	return cover.ForObject(cov, x.Program().Object(), x.Program())
}

// lines maps line numbers to their lines in the profile's one file.
func lines(t *testing.T, prof *cover.Profile) map[int]*cover.Line {
	t.Helper()
	files := prof.Files()
	if len(files) != 1 || !strings.HasSuffix(files[0].Name, "parser.c") {
		t.Fatalf("files %v, want parser.c alone", files)
	}
	if files[0].Path != filepath.Clean(parserSrc) {
		t.Errorf("the source was found at %q, want %q", files[0].Path, parserSrc)
	}
	m := map[int]*cover.Line{}
	for _, l := range files[0].Lines {
		m[l.Number] = l
	}
	return m
}

// branchWays says which ways the line's conditional jumps went: jumped, fell through.
func branchWays(l *cover.Line) (jumped, fell bool) {
	for _, in := range l.Insns {
		if in.Branch {
			jumped = jumped || in.Taken > 0
			fell = fell || in.Count > in.Taken
		}
	}
	return
}

func TestLinesRunAsTheCSourceSays(t *testing.T) {
	proto, ports, lookup := lineOf(t, "eth->h_proto != bpf_htons(ETH_P_IP)"), lineOf(t, "iph->protocol != IPPROTO_UDP"), lineOf(t, "bpf_map_lookup_elem(&udp_ports")
	t.Run("an ARP frame stops at the EtherType test", func(t *testing.T) {
		ls := lines(t, profileOf(t, arpFrame))
		if ls[proto].Count != 1 {
			t.Errorf("the EtherType test ran %d times, want 1", ls[proto].Count)
		}
		for _, n := range []int{ports, lookup} {
			if ls[n].Count != 0 {
				t.Errorf("line %d (%s) ran %d times, want 0", n, strings.TrimSpace(ls[n].Text), ls[n].Count)
			}
		}
		if j, f := branchWays(ls[proto]); j == f {
			t.Errorf("the EtherType test went both ways or none (jumped %v, fell through %v) on one frame", j, f)
		}
	})
	t.Run("a UDP datagram runs to the map lookup", func(t *testing.T) {
		ls := lines(t, profileOf(t, arpFrame, udpFrame, udpFrame))
		if ls[proto].Count != 3 || ls[ports].Count != 2 || ls[lookup].Count != 2 {
			t.Errorf("EtherType test %d, protocol test %d, lookup %d times; want 3, 2 and 2", ls[proto].Count, ls[ports].Count, ls[lookup].Count)
		}
		if j, f := branchWays(ls[proto]); !j || !f {
			t.Errorf("the EtherType test went one way only (jumped %v, fell through %v) on ARP and UDP", j, f)
		}
		if ls[lookup].Text == "" || !strings.Contains(ls[lookup].Text, "bpf_map_lookup_elem") {
			t.Errorf("line %d's text from BTF is %q", lookup, ls[lookup].Text)
		}
	})
}

func TestMergeAddsProfilesUp(t *testing.T) {
	whole := profileOf(t, arpFrame, udpFrame)
	merged := profileOf(t, arpFrame)
	if err := merged.Merge(profileOf(t, udpFrame)); err != nil {
		t.Fatal(err)
	}
	if len(merged.Programs) != 1 {
		t.Fatalf("%d programs after merging two profiles of one program, want 1", len(merged.Programs))
	}
	w, m := whole.Programs[0], merged.Programs[0]
	for i := range w.Counts {
		if w.Counts[i] != m.Counts[i] || w.Taken[i] != m.Taken[i] {
			t.Fatalf("instruction %d: merged %d (taken %d), one run of both %d (taken %d)", i, m.Counts[i], m.Taken[i], w.Counts[i], w.Taken[i])
		}
	}
}

// lcovRecord is one SF record of an lcov tracefile, read back.
type lcovRecord struct {
	path             string
	da               map[int]uint64
	brda             int
	brdaHit          int
	lf, lh, brf, brh int
}

func readLCOV(t *testing.T, text string) []lcovRecord {
	t.Helper()
	var out []lcovRecord
	var cur *lcovRecord
	num := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("lcov: %q is no number", s)
		}
		return n
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		switch key {
		case "SF":
			out = append(out, lcovRecord{path: val, da: map[int]uint64{}})
			cur = &out[len(out)-1]
		case "DA":
			l, c, _ := strings.Cut(val, ",")
			cur.da[num(l)] = uint64(num(c))
		case "BRDA":
			f := strings.Split(val, ",")
			cur.brda++
			if f[3] != "-" && f[3] != "0" {
				cur.brdaHit++
			}
		case "LF":
			cur.lf = num(val)
		case "LH":
			cur.lh = num(val)
		case "BRF":
			cur.brf = num(val)
		case "BRH":
			cur.brh = num(val)
		}
	}
	return out
}

func TestLCOVCountsWhatTheProfileCounts(t *testing.T) {
	prof := profileOf(t, arpFrame, udpFrame)
	var b bytes.Buffer
	if err := prof.WriteLCOV(&b, "parser tests"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "TN:parser_tests\n") {
		t.Errorf("the tracefile starts %q, want the test name lcov accepts", b.String()[:20])
	}
	recs := readLCOV(t, b.String())
	if len(recs) != 1 || recs[0].path != filepath.Clean(parserSrc) {
		t.Fatalf("records %+v, want one for %s", recs, parserSrc)
	}
	r := recs[0]
	ls := lines(t, prof)
	hit := 0
	for n, l := range ls {
		if r.da[n] != l.Count {
			t.Errorf("DA for line %d: %d, the profile says %d", n, r.da[n], l.Count)
		}
		if l.Count > 0 {
			hit++
		}
	}
	tot := prof.Programs[0].Totals()
	if r.lf != len(ls) || r.lh != hit || len(r.da) != len(ls) {
		t.Errorf("LF %d LH %d (%d DA lines), want %d and %d", r.lf, r.lh, len(r.da), len(ls), hit)
	}
	if r.brf != tot.Branches || r.brh != tot.BranchesRun || r.brda != r.brf || r.brdaHit != r.brh {
		t.Errorf("BRF %d BRH %d (%d BRDA, %d hit), want %d and %d", r.brf, r.brh, r.brda, r.brdaHit, tot.Branches, tot.BranchesRun)
	}
}

// TestGenhtmlReadsTheTracefile runs lcov's genhtml, as a CI coverage step would.
func TestGenhtmlReadsTheTracefile(t *testing.T) {
	genhtml, err := exec.LookPath("genhtml")
	if err != nil {
		t.Skip("no genhtml on PATH: the tracefile is not checked with lcov (apt-get install lcov)")
	}
	dir := t.TempDir()
	info := filepath.Join(dir, "parser.info")
	f, err := os.Create(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := profileOf(t, arpFrame, udpFrame).WriteLCOV(f, "parser"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(genhtml, "--branch-coverage", "-o", filepath.Join(dir, "html"), info).CombinedOutput()
	if err != nil {
		t.Fatalf("genhtml: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Overall coverage rate") || !strings.Contains(string(out), "branches...") {
		t.Fatalf("genhtml said:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "html", "index.html")); err != nil {
		t.Fatalf("genhtml wrote no index.html: %v", err)
	}
}

func TestSummaryNamesTheLinesThatNeverRan(t *testing.T) {
	var b bytes.Buffer
	if err := profileOf(t, arpFrame).WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	first, _, _ := strings.Cut(s, "\n")
	if !strings.HasPrefix(first, "xdp_parser ("+parserObj+"): ") || !strings.Contains(first, "instructions") {
		t.Errorf("the first line is %q", first)
	}
	lookup := lineOf(t, "bpf_map_lookup_elem(&udp_ports")
	never := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "never ran") {
			never = l
		}
	}
	// The lines that never ran are written as ranges: the lookup's line lies inside one.
	inside := false
	_, list, _ := strings.Cut(never, "never ran: ")
	for _, part := range strings.Split(list, ", ") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, _ := strconv.Atoi(lo)
		z, _ := strconv.Atoi(hi)
		inside = inside || a <= lookup && lookup <= z
	}
	if !inside {
		t.Errorf("the summary does not count line %d among those never run:\n%s", lookup, s)
	}
}

func TestHTMLShowsTheSourceWithCounts(t *testing.T) {
	var b bytes.Buffer
	if err := profileOf(t, arpFrame).WriteHTML(&b, "parser <coverage>"); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	src, err := os.ReadFile(parserSrc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<title>parser &lt;coverage&gt;</title>",
		`<tr class="miss"><td class="num">` + strconv.Itoa(lineOf(t, "bpf_map_lookup_elem(&udp_ports")) + "</td>",
		// One frame: the EtherType test went one way only.
		`<tr class="part"><td class="num">` + strconv.Itoa(lineOf(t, "eth->h_proto != bpf_htons(ETH_P_IP)")) + "</td><td class=\"cnt\">1</td>",
		`<tr class="hit"><td class="num">` + strconv.Itoa(lineOf(t, "void *data = (void *)(long)ctx->data;")) + "</td><td class=\"cnt\">1</td>",
		`<td class="num">` + strconv.Itoa(strings.Count(string(src), "\n")) + "</td>", // every line of the file
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// TestTailCallTargetsAreInTheProfile replays the tail-calling corpus program: the profile holds
// the entry and the programs it tail-called.
func TestTailCallTargetsAreInTheProfile(t *testing.T) {
	x, cov := recording(t, "../../corpus/tailcall.v4.o", "xdp_tailcall_entry")
	loop := replay.Loop{Target: replay.Sim{X: x}, Conditions: sim.Conditions{IngressIfindex: 1}}
	if err := loop.Run("../../corpus/traces/mixed.pcap"); err != nil {
		t.Fatal(err)
	}
	prof := cover.ForObject(cov, x.Program().Object(), x.Program())
	if len(prof.Programs) < 2 {
		t.Fatalf("the profile holds %d programs, want the entry and its tail-call targets", len(prof.Programs))
	}
	for _, pr := range prof.Programs {
		if tot := pr.Totals(); tot.InsnsRun == 0 {
			t.Errorf("program %s is in the profile but ran nothing", pr.Name)
		}
	}
}
