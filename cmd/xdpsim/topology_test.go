package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
)

// pcapFrames reads a pcap's frames.
func pcapFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("%s: link type %v", path, r.LinkType())
	}
	var out [][]byte
	for {
		d, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		out = append(out, d)
	}
	return out
}

func TestRunATopologyShowsEachPacketsPathAndWritesWhatLeftEachDevice(t *testing.T) {
	dir := t.TempDir()
	jl, pc := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "pcaps")
	s := corpus.NetkitSetups()[0]
	rc, stdout, stderr := runCmd(t, "run", "--topology", corpus.NetkitPath(s.Topology), corpus.NetkitPath(s.Traces[0]), corpus.NetkitPath(s.Traces[1]),
		"-v", "--jsonl", jl, "-w", pc, "--maps", filepath.Join(dir, "maps.json"))
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	for _, want := range []string{
		"pod-egress.json: 10 packets (simulator)",
		"-> dropped at nk0p\n      pod1 route output (to nk0p) -> nk0p netkit [pod_egress=2] NETKIT_DROP\n      netkit: pod_egress returned NETKIT_DROP",
		"nk0p netkit [pod_egress=7] redirect (to eth0 (bpf_redirect_neigh)) -> eth0 xmit sent",
		"  sent out of eth0   2\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the output lacks %q:\n%s", want, stdout)
		}
	}
	lines := jsonLines(t, jl)
	if len(lines) != 10 {
		t.Fatalf("%d JSON lines, want 10", len(lines))
	}
	first := lines[0]
	path, _ := first["path"].([]any)
	end, _ := first["end"].(map[string]any)
	if first["verdict"] != "sent out of eth0" || len(path) != 3 || end["kind"] != "sent" || end["device"] != "eth0" {
		t.Errorf("first line %v", first)
	}
	hop, _ := path[1].(map[string]any)
	progs, _ := hop["programs"].([]any)
	if hop["device"] != "nk0p" || hop["hook"] != "netkit" || len(progs) != 1 {
		t.Errorf("second hop %v, want nk0p's netkit programs", hop)
	}
	var names []string
	entries, _ := os.ReadDir(pc)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"delivered-host.pcap", "delivered-pod1.pcap", "delivered-pod2.pcap", "tx-eth0.pcap", "tx-nk0.pcap", "tx-nk0p.pcap", "tx-nk1.pcap", "tx-nk1p.pcap"}
	if !slices.Equal(names, want) {
		t.Fatalf("pcaps %v, want %v", names, want)
	}
	// Out of eth0: the two redirected pod packets; the second's destination is 10.0.0.7's MAC.
	out := pcapFrames(t, filepath.Join(pc, "tx-eth0.pcap"))
	if len(out) != 2 || string(out[1][:6]) != "\x02\x00\x00\x00\x00\x07" || string(out[1][6:12]) != "\x02\x00\x00\x00\x00\x01" {
		t.Errorf("tx-eth0.pcap: %d frames, want 2, the second to 02:00:00:00:00:07 from eth0", len(out))
	}
	// nk1 passed two packets to pod2 (one from pod1, one from the wire) and dropped one.
	if n := len(pcapFrames(t, filepath.Join(pc, "tx-nk1.pcap"))); n != 2 {
		t.Errorf("tx-nk1.pcap holds %d frames, want 2", n)
	}
	if n := len(pcapFrames(t, filepath.Join(pc, "tx-nk1p.pcap"))); n != 0 {
		t.Errorf("tx-nk1p.pcap holds %d frames, want none: pod2 sent nothing", n)
	}
	b, err := os.ReadFile(filepath.Join(dir, "maps.json"))
	if err != nil || !strings.Contains(string(b), `"nk_stats"`) {
		t.Errorf("maps dump %s (%v), want pod_egress.o's maps", b, err)
	}
}

func TestATopologyRefusesTheSingleDeviceFlagsAndBadFiles(t *testing.T) {
	s := corpus.NetkitSetups()[0]
	topo, trace := corpus.NetkitPath(s.Topology), corpus.NetkitPath(s.Traces[0])
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"devices": [{"name": "eth0", "kind": "bridge", "ifindex": 2}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"--device names a single device", []string{"--device", "mlx5"}, "--device: with --topology the file names"},
		{"--tc names a single chain", []string{"--tc", "x.o"}, "--tc: with --topology"},
		{"the kernel runs one program", []string{"--engine", "kernel"}, "a topology runs in the simulator"},
		{"an unknown --fail-on", []string{"--fail-on", "pass"}, "with --topology want a list of fault, refused, snapped, drop, loop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, _, stderr := runCmd(t, append([]string{"run", "--topology", topo, trace}, c.args...)...)
			if rc != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, c.want)
			}
		})
	}
	rc, _, stderr := runCmd(t, "run", "--topology", bad, trace)
	if rc != 2 || !strings.Contains(stderr, bad+`: devices[0] (eth0): kind "bridge": want nic, veth or netkit`) {
		t.Errorf("exit %d, stderr %q", rc, stderr)
	}
	rc, _, stderr = runCmd(t, "diff", "--topology", topo, trace, trace)
	if rc != 2 || !strings.Contains(stderr, "only xdpsim run takes a topology") {
		t.Errorf("diff: exit %d, stderr %q", rc, stderr)
	}
	rc, _, stderr = runCmd(t, "run", "--topology", topo, trace, "--fail-on", "drop")
	if rc != 1 || !strings.Contains(stderr, "--fail-on drop: 2 drop") {
		t.Errorf("--fail-on drop: exit %d, stderr %q; want 1 and the two drops", rc, stderr)
	}
}

// tcxAttached lists the programs a topology file attaches through tcx ("tcx/ingress", ...).
func tcxAttached(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Attach []struct{ Hook, Program string }
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range f.Attach {
		if strings.HasPrefix(a.Hook, "tcx/") {
			_, fn, _ := strings.Cut(a.Program, ":")
			out[fn] = true
		}
	}
	return out
}

// The trace of a topology names every program where it runs and what it returned by the names
// of its hook (NETKIT_*, TCX_*, TC_ACT_*, XDP_*), in the order the packet's path records them,
// and ends with that path and how the packet ended.
func TestTheTraceOfATopologyNamesEachProgramsReturnByItsHook(t *testing.T) {
	ret := regexp.MustCompile(`^; (\S+) returned (-?\d+) \((.*)\)$`)
	start := regexp.MustCompile(`^; program (\S+) \((.*)\)$`)
	for _, s := range corpus.NetkitSetups() {
		t.Run(s.Name, func(t *testing.T) {
			jl := filepath.Join(t.TempDir(), "out.jsonl")
			args := []string{"run", "--topology", corpus.NetkitPath(s.Topology), "--trace", "--jsonl", jl}
			for _, tr := range s.Traces {
				args = append(args, corpus.NetkitPath(tr))
			}
			rc, stdout, stderr := runCmd(t, args...)
			if rc != 0 {
				t.Fatalf("exit %d: %s", rc, stderr)
			}
			traces := strings.Split(stdout, "--- packet ")[1:]
			lines := jsonLines(t, jl)
			if len(traces) != len(lines) || len(lines) == 0 {
				t.Fatalf("%d packets traced, %d JSON lines", len(traces), len(lines))
			}
			tcx := tcxAttached(t, corpus.NetkitPath(s.Topology))
			// include/uapi/linux/bpf.h's enum tcx_action_base.
			tcxNames := map[int32]string{-1: "TCX_NEXT", 0: "TCX_PASS", 2: "TCX_DROP", 7: "TCX_REDIRECT"}
			names := map[string]int{}
			for i, tr := range traces {
				// What the path says ran, in order: "program=ret (NAME) at DEVICE HOOK".
				var want []string
				for _, h := range lines[i]["path"].([]any) {
					hop := h.(map[string]any)
					progs, _ := hop["programs"].([]any)
					for _, p := range progs {
						r := p.(map[string]any)
						n := int32(r["ret"].(float64))
						name := result.TCVerdictName(uint32(n))
						switch {
						case hop["hook"] == "netkit":
							name = device.NetkitAction(n).String()
						case hop["hook"] == "xdp":
							name = result.VerdictName(uint32(n))
						case tcx[r["program"].(string)]:
							name = tcxNames[n]
						}
						want = append(want, fmt.Sprintf("%s=%d (%s) at %s %s", r["program"], n, name, hop["device"], hop["hook"]))
					}
				}
				var got []string
				where := ""
				for _, l := range strings.Split(tr, "\n") {
					if m := start.FindStringSubmatch(l); m != nil {
						where = m[2]
					}
					if m := ret.FindStringSubmatch(l); m != nil {
						got = append(got, fmt.Sprintf("%s=%s (%s) at %s", m[1], m[2], m[3], where))
						names[m[3]]++
					}
				}
				if len(got) != len(want) {
					t.Errorf("packet %d: the trace says %q, the path %q", i+1, got, want)
					continue
				}
				for j := range got {
					// A program attached to several devices is named by all of them.
					g, w := got[j], want[j]
					at := strings.Index(w, " at ")
					if !strings.HasPrefix(g, w[:at+4]) || !strings.Contains(g[at:], w[at+4:]) {
						t.Errorf("packet %d: the trace says %q, the path %q", i+1, g, w)
					}
				}
				if v := lines[i]["verdict"].(string); !strings.Contains(tr, "\n; the path: ") || !strings.Contains(tr, "\n; "+v) {
					t.Errorf("packet %d: the trace does not end with the path and %q:\n%s", i+1, v, tr)
				}
			}
			t.Logf("returns named: %v", names)
		})
	}
}
