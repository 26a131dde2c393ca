package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
)

func tcObjectOf(t *testing.T, name string) string {
	t.Helper()
	for _, p := range corpus.TCPrograms() {
		if p.Name == name {
			return p.Object("v4")
		}
	}
	t.Fatalf("no tc program %s in the corpus", name)
	return ""
}

// jsonLines reads a JSON-lines file.
func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestRunATCProgramAsTheKernelTestRunsIt(t *testing.T) {
	dir := t.TempDir()
	jl, pc := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "pcaps")
	rc, stdout, stderr := runCmd(t, "run", tcObjectOf(t, "tc_redirect"), corpus.TracePath("mixed.pcap"), "--host", filepath.Join(corpus.Dir(), "hosts", "router.json"), "--jsonl", jl, "-w", pc)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	for _, want := range []string{"tc_redirect: 4000 packets (simulator)", "TC_ACT_OK", "TC_ACT_REDIRECT", "TC_ACT_SHOT", "what the tc hook does with them:", "redirect"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the summary lacks %q:\n%s", want, stdout)
		}
	}
	lines := jsonLines(t, jl)
	if len(lines) != 4000 {
		t.Fatalf("%d JSON lines, want 4000", len(lines))
	}
	verdicts := map[string]int{}
	for _, l := range lines {
		if _, refused := l["error"]; refused {
			continue
		}
		verdicts[l["verdict"].(string)]++
		if ctx, _ := l["ctx"].(string); len(ctx) != 2*kernel.SkbCtxSize {
			t.Fatalf("packet %v: ctx %q is not a __sk_buff", l["packet"], ctx)
		}
		tc, ok := l["tc"].(map[string]any)
		if !ok || tc["action"] == "" {
			t.Fatalf("packet %v: no tc object: %v", l["packet"], l)
		}
	}
	if verdicts["TC_ACT_REDIRECT"] == 0 || verdicts["TC_ACT_OK"] == 0 {
		t.Errorf("verdicts %v", verdicts)
	}
	// The pcaps are the tc hook's: pass, drop and redirect targets; no XDP verdicts.
	names := listDir(t, pc)
	for _, name := range []string{"pass.pcap", "drop.pcap"} {
		if !slices.Contains(names, name) {
			t.Errorf("no %s among %v", name, names)
		}
	}
	if !hasPrefix(names, "redirect-ifindex-") {
		t.Errorf("no redirect pcap among %v", names)
	}
	total := 0
	for _, name := range names {
		if name == "tx.pcap" || name == "aborted.pcap" {
			t.Errorf("a tc run wrote the XDP verdict pcap %s", name)
		}
		total += countPcap(t, filepath.Join(pc, name))
	}
	if ran := len(lines) - refusedLines(lines); total != ran {
		t.Errorf("the pcaps hold %d packets, want the %d that ran", total, ran)
	}
	// An XDP run's pcaps in the same directory are an earlier run's: a tc run removes them.
	if rc, _, stderr := runCmd(t, "run", objectOf(t, "icmp_echo"), corpus.TracePath("mixed.pcap"), "-w", pc); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	if rc, _, stderr := runCmd(t, "run", tcObjectOf(t, "tc_parser"), corpus.TracePath("mixed.pcap"), "-w", pc); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	if names := listDir(t, pc); slices.Contains(names, "tx.pcap") || slices.Contains(names, "aborted.pcap") {
		t.Errorf("the XDP run's pcaps are still there: %v", names)
	}
}

func refusedLines(lines []map[string]any) int {
	n := 0
	for _, l := range lines {
		if _, refused := l["error"]; refused {
			n++
		}
	}
	return n
}

func TestTCProgramsBehindAnXDPProgram(t *testing.T) {
	dir := t.TempDir()
	obj := tcObjectOf(t, "tc_meta")
	jl, pc := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "pcaps")
	rc, stdout, stderr := runCmd(t, "run", obj, "--prog", "xdp_meta_writer", "--tc", obj+":tc_meta_reader",
		corpus.TracePath("vlan.pcap"), "--jsonl", jl, "-w", pc)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	if !strings.Contains(stdout, "at tc ingress (tc_meta_reader):") {
		t.Errorf("the summary does not say what tc did:\n%s", stdout)
	}
	tagged := 0
	for _, l := range jsonLines(t, jl) {
		if l["verdict"] != "XDP_PASS" {
			continue
		}
		tc, ok := l["tc"].(map[string]any)
		if !ok {
			t.Fatalf("packet %v passed without an outcome at tc", l["packet"])
		}
		if why, dropped := tc["dropped"]; dropped {
			if !strings.Contains(why.(string), "VLAN tag") {
				t.Errorf("packet %v dropped before tc: %v", l["packet"], why)
			}
			continue
		}
		if tc["meta"] != l["meta"] {
			t.Errorf("packet %v: tc saw metadata %v, XDP left %v", l["packet"], tc["meta"], l["meta"])
		}
		if skb := tc["skb"].(map[string]any); skb["vlan_proto"] != nil {
			tagged++
		}
	}
	if tagged == 0 {
		t.Error("no packet reached tc with its VLAN tag beside it")
	}
	if _, err := os.Stat(filepath.Join(pc, "tc-pass.pcap")); err != nil {
		t.Error(err)
	}
	t.Run("--trace follows the packet into the tc program", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", obj, "--prog", "xdp_meta_writer", "--tc", obj, corpus.TracePath("vlan.pcap"), "--trace", "--packet", "1")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		for _, want := range []string{"; program xdp_meta_writer", "; program tc_meta_reader"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the trace lacks %q", want)
			}
		}
	})
}

func TestTCFlagsRefuseWhatCannotWork(t *testing.T) {
	meta := tcObjectOf(t, "tc_meta")
	chain := tcObjectOf(t, "tc_chain")
	trace := corpus.TracePath("mixed.pcap")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--tc behind a tc program", []string{"run", meta, "--prog", "tc_meta_reader", "--tc", meta, trace}, "is a tc program itself"},
		{"--tc naming an XDP program", []string{"run", meta, "--prog", "xdp_meta_writer", "--tc", meta + ":xdp_meta_writer", trace}, "not a tc program"},
		{"--tc on an object with several tc programs and no name", []string{"run", chain, "--prog", "xdp_pass", "--tc", chain, trace}, "holds 3 tc programs"},
		{"--tc with the kernel", []string{"run", meta, "--prog", "xdp_meta_writer", "--tc", meta, "--engine", "kernel", trace}, "--tc needs the simulator"},
		{"--device for a tc program alone", []string{"run", meta, "--prog", "tc_meta_reader", "--device", "veth", trace}, "runs alone as BPF_PROG_TEST_RUN runs it"},
		{"an unknown --type", []string{"run", meta, "--prog", "x", "--type", "kprobe", trace}, "xdp and tc programs are simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if tt.want == "--tc needs the simulator" && kernel.Available() != nil {
				if rc == 0 {
					t.Fatal("exit 0")
				}
				return // without a kernel the run stops earlier, saying so
			}
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
}

func TestDiffATCProgram(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	rc, stdout, stderr := runCmd(t, "diff", tcObjectOf(t, "tc_nat44"), corpus.TracePath("mixed.pcap"))
	if rc != 0 || !strings.Contains(stdout, "agree") {
		t.Errorf("exit %d: %s%s", rc, stdout, stderr)
	}
}

func TestDumpXlatedOfATCProgramHasThePrologue(t *testing.T) {
	rc, stdout, stderr := runCmd(t, "dump", tcObjectOf(t, "tc_meta"), "-p", "tc_meta_reader", "--xlated")
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	// skb->data becomes a load of sk_buff.data (offset 200); data_meta comes from the cb.
	for _, want := range []string{"*(u64 *)(r6 +200)", "*(u64 *)(r6 +72)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the xlated dump lacks %q:\n%s", want, stdout)
		}
	}
}

func TestVerboseLinesSayWhatTheTCHookDid(t *testing.T) {
	host := filepath.Join(corpus.Dir(), "hosts", "router.json")
	_, stdout, stderr := runCmd(t, "run", "-v", tcObjectOf(t, "tc_redirect"), corpus.TracePath("mixed.pcap"), "--host", host)
	for _, want := range []string{"-> TC_ACT_REDIRECT (redirect to ifindex 2 egress)", "-> TC_ACT_REDIRECT (redirect to ifindex 2 ingress)",
		"-> TC_ACT_REDIRECT (drop (redirect: no device with ifindex 3))", "-> TC_ACT_OK\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no line with %q: %s", want, stderr)
		}
	}
	chain := tcObjectOf(t, "tc_chain")
	_, stdout, stderr = runCmd(t, "run", "-v", chain, "--prog", "xdp_pass", "--tc", chain+":chain_classify", "--tc", chain+":chain_police",
		"--tc", chain+":chain_final", corpus.TracePath("vlan.pcap"))
	// Of a chain of several, the line names the program whose return value decided.
	for _, want := range []string{"-> XDP_PASS -> tc ingress: pass (from chain_final)\n", "-> XDP_PASS -> tc ingress: drop (from chain_", "-> XDP_PASS -> tc ingress: dropped before tc: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no line with %q: %s", want, stderr)
		}
	}
}
