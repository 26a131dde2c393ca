package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

func dispObjects(t *testing.T, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		out = append(out, objectOf(t, n))
	}
	return out
}

func TestRunSeveralObjectsThroughTheDispatcher(t *testing.T) {
	dir := t.TempDir()
	objs := dispObjects(t, "disp_last", "disp_verdict")
	jl := filepath.Join(dir, "out.jsonl")
	mp := filepath.Join(dir, "maps.json")
	args := append(append([]string{"run"}, objs...), "--jsonl", jl, "--maps", mp, "--", corpus.TracePath("mixed.pcap"))
	rc, stdout, stderr := runCmd(t, args...)
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	t.Run("the status comes before the summary, slots in libxdp's order", func(t *testing.T) {
		iVerdict, iLast := strings.Index(stdout, " =>              10     xdp_verdict"), strings.Index(stdout, " =>              90     xdp_last")
		if iVerdict < 0 || iLast < iVerdict || !strings.Contains(stdout, "libxdp's dispatcher of 2 programs: 4000 packets (simulator)") {
			t.Errorf("stdout:\n%s", stdout)
		}
		if !strings.Contains(stderr, "xdpsim: attached as libxdp 1.3.1 attaches them: 2 programs in slots 0..1") {
			t.Errorf("stderr: %s", stderr)
		}
	})
	t.Run("every JSON line says which slots ran", func(t *testing.T) {
		f, err := os.Open(jl)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		ran := map[int]int{}
		for sc.Scan() {
			var m struct {
				Error    string
				Dispatch []struct {
					Slot      int
					Program   string
					Continued bool
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m.Error == "" && (len(m.Dispatch) == 0 || m.Dispatch[0].Program != "xdp_verdict") {
				t.Fatalf("line %s", sc.Text())
			}
			ran[len(m.Dispatch)]++
		}
		if ran[1] == 0 || ran[2] == 0 {
			t.Errorf("packets by number of slots run: %v; want some stopped after slot 0 and some through both", ran)
		}
	})
	t.Run("each slot's maps are dumped under its slot", func(t *testing.T) {
		b, err := os.ReadFile(mp)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["slot0/verdict_tried"]; !ok {
			t.Errorf("maps %v", m)
		}
		if _, ok := m["slot1/last_reached"]; !ok {
			t.Errorf("maps %v", m)
		}
	})
}

func TestRunDispatcherFlags(t *testing.T) {
	trace := corpus.TracePath("mixed.pcap")
	objs := dispObjects(t, "disp_last", "disp_verdict")
	for _, tc := range []struct {
		name   string
		args   []string
		rc     int
		stdout string
		stderr string
	}{
		{"a priority for one program, by function name, reorders the slots", []string{"--run-prio", "xdp_last=5"}, 0,
			" =>              5      xdp_last", ""},
		{"a priority for every program, as xdp-loader --prio, makes names decide", []string{"--run-prio", "7"}, 0,
			"1     prog1     xdp_verdict  " + objs[1], ""},
		{"chain-call actions by object file", []string{"--chain-actions", filepath.Base(objs[1]) + "=XDP_DROP"}, 0,
			" =>              10     xdp_verdict               2    be348b52b1f57da7  XDP_DROP", ""},
		{"an unknown program is an error naming the choices", []string{"--run-prio", "xdp_nope=1"}, 2,
			"", `--run-prio xdp_nope=...: no program or object "xdp_nope" among xdp_last`},
		{"a bad action is an error", []string{"--chain-actions", "XDP_BOUNCE"}, 2, "", `unknown XDP action "XDP_BOUNCE"`},
		{"the kernel engine cannot run a tc chain behind the dispatcher", []string{"--engine", "kernel", "--tc", objectOf(t, "udp_echo")}, 2, "", "--tc needs the simulator: BPF_PROG_TEST_RUN runs the dispatcher"},
		{"libxdp versions other than the two modelled are refused", []string{"--libxdp", "1.4"}, 2, "", `--libxdp "1.4": 1.3.1 or 1.5.5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{"run"}, tc.args...), objs...), "--", trace)
			rc, stdout, stderr := runCmd(t, args...)
			if rc != tc.rc || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", rc, stdout, stderr)
			}
		})
	}
	t.Run("the dispatcher flags need several objects", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", "--run-prio", "3", objs[0], trace)
		if rc != 2 || !strings.Contains(stderr, "--run-prio: only for objects attached through libxdp's dispatcher") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
	t.Run("programs that change packet data need libxdp 1.5.5's stubs", func(t *testing.T) {
		meta := dispObjects(t, "disp_meta", "disp_vlanpop")
		args := append(append([]string{"run"}, meta...), "--", corpus.TracePath("vlan.pcap"))
		rc, _, stderr := runCmd(t, args...)
		if rc != 2 || !strings.Contains(stderr, "xdp_meta calls bpf_xdp_adjust_meta") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
		rc, stdout, stderr := runCmd(t, append([]string{"run", "--libxdp", "1.5.5"}, args[1:]...)...)
		if rc != 0 || !strings.Contains(stdout, "400 packets") {
			t.Errorf("exit %d: %s\n%s", rc, stdout, stderr)
		}
	})
}

func TestStatusShowsWhatAddingAProgramChanges(t *testing.T) {
	objs := dispObjects(t, "disp_last", "disp_verdict", "disp_fw")
	rc, stdout, stderr := runCmd(t, "status", objs[0], objs[1], "--add", objs[2], "--fixed-slots", "100")
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	for _, want := range []string{
		"Interface        Prio  Program name      Mode     ID   Tag               Chain actions\n",
		"sim0                   xdp_dispatcher    native   1",
		"After adding 1 program(s), libxdp builds a new dispatcher",
		"xdp_fw (" + objs[2] + "): new, slot 0",
		"xdp_verdict (" + objs[1] + "): slot 0 -> 1",
		"2 of the 2 already there moved",
		"same priority; by name, xdp_fw before xdp_verdict",
		"slot 10 is taken by xdp_verdict",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in:\n%s", want, stdout)
		}
	}
	t.Run("as JSON", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "status", "--json", objs[0], objs[1])
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		var m struct {
			Dispatcher struct {
				Slots []struct {
					Program, Tag string
					Priority     uint32
				}
				Config string
			}
		}
		if err := json.Unmarshal([]byte(stdout), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Dispatcher.Slots) != 2 || m.Dispatcher.Slots[0].Program != "xdp_verdict" || len(m.Dispatcher.Config) != 248 {
			t.Errorf("%+v", m)
		}
	})
	t.Run("an eleventh program is refused as libxdp refuses it", func(t *testing.T) {
		args := []string{"status"}
		for range 11 {
			args = append(args, objs[0])
		}
		rc, _, stderr := runCmd(t, args...)
		if rc != 2 || !strings.Contains(stderr, "11 programs on one interface: libxdp's dispatcher has 10 slots: argument list too long (E2BIG)") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
}
