package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

// mixed.o holds xdp_count (SEC("xdp")), tc_count (SEC("tc")), a tracepoint, a kprobe and
// custom_section in SEC("foo"), which carries no program type.
var mixedObject = filepath.Join("..", "..", "sim", "testdata", "mixed.o")

func TestLoadFlagsMeanTheSameInEveryCommand(t *testing.T) {
	trace := corpus.TracePath("vlan.pcap")
	missing := filepath.Join(t.TempDir(), "none.btf")
	// Each command with what it needs besides the object and the flags under test.
	commands := []struct {
		name string
		args func(obj string, flags ...string) []string
	}{
		{"run", func(obj string, flags ...string) []string {
			return append(append([]string{"run"}, flags...), obj, trace)
		}},
		{"show", func(obj string, flags ...string) []string {
			return append(append([]string{"show", "--packet", "1"}, flags...), obj, trace)
		}},
		{"dump", func(obj string, flags ...string) []string { return append(append([]string{"dump"}, flags...), obj) }},
		{"verify", func(obj string, flags ...string) []string { return append(append([]string{"verify"}, flags...), obj) }},
	}
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"an unknown --type names the simulated types", []string{"-p", "custom_section", "--type", "kprobe"}, `--type "kprobe": xdp and tc programs are simulated`},
		{"--type without --prog says it needs one", []string{"--type", "xdp"}, "--type needs --prog"},
		{"--type contradicting the section's type is refused, not ignored", []string{"-p", "xdp_count", "--type", "tc"}, `--type tc: program xdp_count's section "xdp" already gives it type XDP`},
		{"a --set without a value shows the form", []string{"--set", "x"}, `--set "x": want NAME=VALUE`},
		{"a --resize to zero entries shows the form", []string{"--resize", "hits=0"}, `--resize "hits=0": want MAP=N with N > 0`},
		{"a --set of a variable the object lacks names the object", []string{"-p", "xdp_count", "--set", "nope=1"}, "mixed.o: variable nope"},
		{"a missing --btf file names it", []string{"-p", "xdp_count", "--btf", missing}, "none.btf"},
		{"a program of an unsimulated type names it and its section", []string{"-p", "kprobe_open"}, "kprobe_open"},
		{"an untyped section asks for --type", []string{"-p", "custom_section"}, `section "foo" carries no program type: give one with --type xdp or --type tc`},
	}
	for _, c := range commands {
		for _, tt := range tests {
			t.Run("xdpsim "+c.name+": "+tt.name+", exit 2", func(t *testing.T) {
				rc, _, stderr := runCmd(t, c.args(mixedObject, tt.flags...)...)
				if rc != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
					t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
				}
			})
		}
	}
	t.Run("--type xdp makes the untyped section a program every command takes", func(t *testing.T) {
		for _, c := range commands {
			rc, stdout, stderr := runCmd(t, c.args(mixedObject, "-p", "custom_section", "--type", "xdp")...)
			if rc != 0 || !strings.Contains(stdout, "custom_section") {
				t.Errorf("%s: exit %d, stdout %.200q, stderr %q", c.name, rc, stdout, stderr)
			}
		}
	})
}

func TestPacketSelectingNothingIsAnError(t *testing.T) {
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	netkit := corpus.NetkitSetups()[0]
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"run -v", []string{"run", "-v", obj, trace}, "the traces hold 400 packets"},
		{"run --jsonl", []string{"run", "--jsonl", "OUT", obj, trace}, "the traces hold 400 packets"},
		{"run --topology --jsonl", []string{"run", "--topology", corpus.NetkitPath(netkit.Topology), "--jsonl", "OUT", corpus.NetkitPath(netkit.Traces[0])}, "the traces hold"},
	} {
		t.Run(tt.name+" with --packet past the last packet exits 2 and writes nothing", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.jsonl")
			var args []string
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "OUT", out))
			}
			args = append(args, "--packet", "100000-100001")
			rc, _, stderr := runCmd(t, args...)
			if rc != 2 || !strings.Contains(stderr, "--packet 100000-100001: "+tt.want) {
				t.Errorf("exit %d, stderr %q", rc, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
	t.Run("a selection that holds one packet still runs", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", "-v", "--packet", "400-500", obj, trace)
		if rc != 0 || !strings.Contains(stdout, "400 packets") {
			t.Errorf("exit %d, stdout %.300q, stderr %q", rc, stdout, stderr)
		}
	})
}
