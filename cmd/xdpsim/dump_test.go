package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

const ctxTestdata = "../../sim/testdata/ctx/"

func dump(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := cmdDump(args, &out, &errb); err != nil {
		t.Fatalf("xdpsim dump %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// hasRow reports whether a line of out has exactly these whitespace-separated fields.
func hasRow(out string, fields ...string) bool {
	want := strings.Join(fields, " ")
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(l), " ") == want {
			return true
		}
	}
	return false
}

// hasLines reports whether want appear in out as consecutive lines.
func hasLines(out string, want ...string) bool {
	return strings.Contains("\n"+out, "\n"+strings.Join(want, "\n")+"\n")
}

func TestDumpListsProgramsMapsAndVariables(t *testing.T) {
	// listing.c: its maps and variables as declared; instruction counts as llvm-objdump shows them.
	out := dump(t, ctxTestdata+"listing.o")
	for _, row := range [][]string{
		{"ID", "FUNCTION", "SECTION", "TYPE", "ATTACH", "INSNS"},
		// IDs number the programs by function name.
		{"3", "xdp_listing", "xdp", "XDP", "XDP", "27"},
		{"2", "xdp_hints", "xdp", "XDP", "XDP", "13"},
		{"1", "tc_listing", "tc", "SchedCLS", "None", "2"},
		{"MAP", "TYPE", "KEY", "VALUE", "MAX_ENTRIES", "FLAGS", "PINNING"},
		{"seen", "Hash", "4", "8", "64", "0x1", "by-name"},
		{"counters", "Array", "4", "8", "4", "0x0", "none"},
		{".rodata", "Array", "4", "4", "1", "0x80", "none"},
		{"VARIABLE", "SECTION", "SIZE", "CONST", "VALUE"},
		{"verdict", ".rodata", "4", "yes", "02000000"},
		{"packets", ".data", "8", "no", "0700000000000000"},
		{"last_len", ".bss", "4", "no", "00000000"},
	} {
		if !hasRow(out, row...) {
			t.Errorf("no row %q in\n%s", row, out)
		}
	}
	t.Run("--set changes a variable's value before it is listed", func(t *testing.T) {
		out := dump(t, "--set", "verdict=1", ctxTestdata+"listing.o")
		if !hasRow(out, "verdict", ".rodata", "4", "yes", "01000000") {
			t.Errorf("verdict not set in\n%s", out)
		}
	})
}

func TestDumpPrintsAProgramAsLoaded(t *testing.T) {
	out := dump(t, "-p", "xdp_listing", ctxTestdata+"listing.o")
	// The C line above the first instruction of its line-info record, as bpftool prog dump
	// xlated interleaves them; the function's BTF signature first, as bpftool prints it.
	if !strings.HasPrefix(out, "int xdp_listing(struct xdp_md * ctx):\n; int xdp_listing(struct xdp_md *ctx) @ listing.c:31\n   0: (bf) r6 = r1\n") {
		t.Errorf("does not start with the signature, line and first instruction:\n%s", out)
	}
	for _, lines := range [][]string{
		{"; __u32 key = ctx->rx_queue_index & 3; @ listing.c:33", "   1: (61) r1 = *(u32 *)(r6 +16)"},
		{"; __u64 *c = bpf_map_lookup_elem(&counters, &key); @ listing.c:34", "   6: (18) r1 = map[counters]", "   8: (85) call bpf_map_lookup_elem#1"},
		{"; packets++; @ listing.c:38", "  12: (18) r1 = map[.data][0]+0", "  14: (79) r2 = *(u64 *)(r1 +0)"},
		{"; return verdict; @ listing.c:40", "  26: (95) exit"},
	} {
		if !hasLines(out, lines...) {
			t.Errorf("no lines %q in\n%s", lines, out)
		}
	}
	t.Run("a kfunc call is named", func(t *testing.T) {
		out := dump(t, "-p", "xdp_hints", ctxTestdata+"listing.o")
		if !hasLines(out, "; if (bpf_xdp_metadata_rx_hash(ctx, &hash, &type)) @ listing.c:52", "   4: (85) call bpf_xdp_metadata_rx_hash#0") {
			t.Errorf("kfunc call not named:\n%s", out)
		}
	})
}

func TestDumpXlatedPrintsTheRewrittenProgram(t *testing.T) {
	// The same instructions as the kernel's xlated program (see sim/xlated_test.go), with the
	// comments where bpftool prog dump xlated printed them for it.
	out := dump(t, "-p", "xdp_fields", "--xlated", ctxTestdata+"fields.o")
	for _, lines := range [][]string{
		{"; void *data = (void *)(long)ctx->data; @ fields.c:24", "   1: (79) r2 = *(u64 *)(r1 +0)"},
		{"; sum += ctx->rx_queue_index; @ fields.c:37", "  11: (79) r4 = *(u64 *)(r1 +32)", "  12: (61) r4 = *(u32 *)(r4 +8)"},
		{"; for (i = 0; i < 4; i++) { @ fields.c:35", "  15: (56) if w3 != 0x0 goto pc-5"},
		{"; if (ctx->ingress_ifindex == 1) @ fields.c:39", "  17: (79) r3 = *(u64 *)(r1 +32)", "  18: (79) r3 = *(u64 *)(r3 +0)", "  19: (61) r3 = *(u32 *)(r3 +224)"},
		{"  26: (85) call pc+9"},
		{"  29: (85) call pc+10"},
		{"; } @ fields.c:46", "  35: (95) exit", "int ifindex_of(struct xdp_md * ctx):", "; return ctx->ingress_ifindex; @ fields.c:18", "  36: (79) r0 = *(u64 *)(r1 +32)"},
		{"int queue_of(struct xdp_md * ctx):", "; return ctx->rx_queue_index; @ fields.c:13", "  40: (79) r0 = *(u64 *)(r1 +32)", "  41: (61) r0 = *(u32 *)(r0 +8)"},
	} {
		if !hasLines(out, lines...) {
			t.Errorf("no lines %q in\n%s", lines, out)
		}
	}
	t.Run("map references keep their names", func(t *testing.T) {
		out := dump(t, "-p", "xdp_listing", "--xlated", ctxTestdata+"listing.o")
		if !hasLines(out, "; __u32 key = ctx->rx_queue_index & 3; @ listing.c:33", "   1: (79) r1 = *(u64 *)(r6 +32)", "   2: (61) r1 = *(u32 *)(r1 +8)") ||
			!hasLines(out, "   7: (18) r1 = map[counters]") || !hasLines(out, "  27: (95) exit") {
			t.Errorf("unexpected listing:\n%s", out)
		}
	})
	t.Run("a callback's signature and its context loads", func(t *testing.T) {
		out := dump(t, "-p", "xdp_callback", "--xlated", ctxTestdata+"callback.o")
		if !hasLines(out, "int add_queue(__u32 index, void * data):", "; lc->sum += lc->ctx->rx_queue_index + index; @ callback.c:20", "  21: (79) r3 = *(u64 *)(r2 +0)",
			"; lc->sum += lc->ctx->rx_queue_index + index; @ callback.c:20", "  22: (79) r3 = *(u64 *)(r3 +32)", "  23: (61) r3 = *(u32 *)(r3 +8)") {
			t.Errorf("unexpected listing:\n%s", out)
		}
	})
}

func TestDumpFailsClearly(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int    // exit code carried by an exitError, 0 for a plain error
		want string // in the message
	}{
		{"a program the kernel would refuse for its context access", []string{"-p", "narrow", "--xlated", ctxTestdata + "bad.o"}, 0, "invalid bpf_context access off=12 size=1"},
		{"--xlated without a program", []string{"--xlated", ctxTestdata + "fields.o"}, 2, "--xlated needs --prog"},
		{"no object", nil, 2, "need exactly one object"},
		{"an unknown program", []string{"-p", "nosuch", ctxTestdata + "fields.o"}, 0, `no program named "nosuch"`},
		{"a bad --set", []string{"--set", "verdict", ctxTestdata + "listing.o"}, 2, "want NAME=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := cmdDump(tt.args, &out, &errb)
			if err == nil {
				t.Fatalf("no error; stdout:\n%s", out.String())
			}
			var ee *exitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.code
			}
			if code != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got exit code %d, %q; want %d, %q", code, err, tt.code, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote to stdout on failure:\n%s", out.String())
			}
		})
	}
}

func TestDumpMaps(t *testing.T) {
	obj := objectOf(t, "globals")
	t.Run("prints global variables as their C types with --maps-format btf", func(t *testing.T) {
		rc, out, stderr := runCmd(t, "dump", obj, "--maps", "--maps-format", "btf")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		// globals.c: __u32 frame_budget = 3000; char banner[] = "xdpsim globals";
		for _, want := range []string{`"frame_budget": 3000`, `"banner": "xdpsim globals"`, `".data": [`} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
	})
	t.Run("reads --maps-in in the same form and prints it back as hex", func(t *testing.T) {
		in := filepath.Join(t.TempDir(), "in.json")
		os.WriteFile(in, []byte(`{".data": [{"value": {".data": [{"frame_budget": 5}]}}]}`), 0o644)
		rc, out, stderr := runCmd(t, "dump", obj, "--maps", "--maps-format", "btf", "--maps-in", in)
		if rc != 0 || !strings.Contains(out, `"frame_budget": 5`) {
			t.Fatalf("exit %d: %s\n%s", rc, stderr, out)
		}
		rc, out, _ = runCmd(t, "dump", obj, "--maps", "--maps-in", hexBudget(t, obj))
		if rc != 0 || !strings.Contains(out, `"value": "0500000000000000`) {
			t.Errorf("hex dump after a hex preload: exit %d\n%s", rc, out)
		}
	})
	t.Run("a value that does not fit names the map and the member", func(t *testing.T) {
		in := filepath.Join(t.TempDir(), "in.json")
		os.WriteFile(in, []byte(`{".data": [{"value": {".data": [{"frame_budget": 99999999999999999999}]}}]}`), 0o644)
		rc, _, stderr := runCmd(t, "dump", obj, "--maps", "--maps-format", "btf", "--maps-in", in)
		if rc != 2 || !strings.Contains(stderr, "map .data") || !strings.Contains(stderr, "frame_budget") {
			t.Errorf("exit %d, stderr %q", rc, stderr)
		}
	})
	t.Run("an unknown form is refused", func(t *testing.T) {
		if rc, _, stderr := runCmd(t, "dump", obj, "--maps", "--maps-format", "yaml"); rc != 2 || !strings.Contains(stderr, "want hex or btf") {
			t.Errorf("exit %d, stderr %q", rc, stderr)
		}
	})
}

// hexBudget writes a hex-form maps file that sets globals.c's 64-bit frame_budget to 5.
func hexBudget(t *testing.T, obj string) string {
	rc, out, stderr := runCmd(t, "dump", obj, "--maps")
	if rc != 0 {
		t.Fatal(stderr)
	}
	var m map[string][]map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	m[".data"][0]["value"] = "0500000000000000" + m[".data"][0]["value"][16:]
	b, _ := json.Marshal(map[string]any{".data": m[".data"]})
	p := filepath.Join(t.TempDir(), "hex.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunMapsFormatBTF(t *testing.T) {
	obj := objectOf(t, "globals")
	trace := corpus.TracePath("mixed.pcap")
	dir := t.TempDir()
	out := filepath.Join(dir, "maps.json")
	t.Run("--maps writes the maps as their C types", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", obj, trace, "--maps", out, "--maps-format", "btf")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		b, _ := os.ReadFile(out)
		// globals.c counts down frame_budget from 3000 by one per frame: 4000 frames spend it.
		for _, want := range []string{`"banner": "xdpsim globals"`, `"class_counts": [`, `"frame_budget": `} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the dump lacks %s:\n%s", want, b)
			}
		}
	})
	t.Run("--maps-in reads that form back and the run goes on from it", func(t *testing.T) {
		again := filepath.Join(dir, "again.json")
		rc, _, stderr := runCmd(t, "run", obj, corpus.TracePath("vlan.pcap"), "--maps-in", out, "--maps", again, "--maps-format", "btf")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		a, _ := os.ReadFile(out)
		b, _ := os.ReadFile(again)
		if bytes.Equal(a, b) {
			t.Error("400 more packets changed nothing in the maps")
		}
	})
	t.Run("after --jsonl - the typed dump is one last line", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", obj, corpus.TracePath("vlan.pcap"), "--jsonl", "-", "--maps", "-", "--maps-format", "btf")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		last := lines[len(lines)-1]
		var v map[string]any
		if err := json.Unmarshal([]byte(last), &v); err != nil || v["maps"] == nil || !strings.Contains(last, `"banner":"xdpsim globals"`) {
			t.Errorf("last line %q: %v", last, err)
		}
	})
	t.Run("a hex file read as btf says which map and what it wanted", func(t *testing.T) {
		hexOut := filepath.Join(dir, "hex.json")
		runCmd(t, "run", obj, trace, "--maps", hexOut)
		rc, _, stderr := runCmd(t, "run", obj, trace, "--maps-in", hexOut, "--maps-format", "btf")
		if rc != 2 || !strings.Contains(stderr, "map .bss") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
		if rc, _, stderr := runCmd(t, "run", obj, trace, "--maps-in", hexOut, "--maps-in-format", "hex", "--maps-format", "btf"); rc != 0 {
			t.Errorf("--maps-in-format hex: exit %d: %s", rc, stderr)
		}
	})
}
