package sim_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
)

// missing.o calls three helpers and two kfuncs the simulator lacks; one load names them all.
func TestLoadErrorNamesEveryMissingHelperAndKfunc(t *testing.T) {
	obj := load(t, "missing", sim.LoadOptions{})
	_, err := obj.FindProgram("many_missing")
	var me *sim.MissingError
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want a *sim.MissingError", err)
	}
	want := []struct {
		name   string
		helper int32
		line   string
	}{
		{"bpf_strlen", -1, "missing.c:28:"},
		{"bpf_skb_vlan_push", 18, "missing.c:29:"},
		{"bpf_get_task_stack", 141, "missing.c:31:"},
		{"bpf_find_vma", 180, "missing.c:32:"},
		{"bpf_xdpsim_test_kfunc", -1, "missing.c:33:"},
	}
	t.Run("each callee is named once, in the order of its first call, with its number and line", func(t *testing.T) {
		if len(me.Calls) != len(want) {
			t.Fatalf("got %d missing calls, want %d: %v", len(me.Calls), len(want), err)
		}
		for i, w := range want {
			c := me.Calls[i]
			if c.Name != w.name || c.Helper != w.helper || !strings.HasPrefix(c.Line, w.line) {
				t.Errorf("call %d: got %s (#%d) at %q, want %s (#%d) at %s...", i, c.Name, c.Helper, c.Line, w.name, w.helper, w.line)
			}
		}
	})
	t.Run("the message lists them one per line", func(t *testing.T) {
		wantError(t, err, "program many_missing", "calls 5 helpers and kfuncs",
			"\n  kfunc bpf_strlen at instruction 3 (missing.c:28: r += bpf_strlen(\"xdp\");)",
			"\n  bpf_skb_vlan_push (#18) at instruction 8 (missing.c:29:",
			"\n  bpf_get_task_stack (#141) at instruction",
			"\n  bpf_find_vma (#180) at instruction",
			"\n  kfunc bpf_xdpsim_test_kfunc at instruction")
		if strings.Count(err.Error(), "bpf_skb_vlan_push (#18)") != 1 {
			t.Errorf("bpf_skb_vlan_push is named more than once: %v", err)
		}
	})
	t.Run("a helper says whether Linux offers it to XDP programs, and why the simulator does not", func(t *testing.T) {
		wantError(t, err, "bpf_skb_vlan_push (#18) at instruction 8 (missing.c:29: if (bpf_skb_vlan_push((struct __sk_buff *)ctx, bpf_htons(0x8100), 7))): Linux 6.18 does not offer it to XDP programs either (the kernel: \"program of this type cannot use helper bpf_skb_vlan_push#18\")",
			"bpf_get_task_stack (#141) at instruction 15 (missing.c:31: r += bpf_get_task_stack(0, stack, sizeof(stack), 0);): Linux 6.18 offers it to XDP programs, the simulator does not: it needs a task's kernel stack")
	})
	t.Run("a kfunc says whether Linux has it and why the simulator does not", func(t *testing.T) {
		wantError(t, err, "(missing.c:28: r += bpf_strlen(\"xdp\");): Linux 6.18 offers it to XDP programs, the simulator does not: it is one of the string kfuncs",
			"(missing.c:33: r += bpf_xdpsim_test_kfunc(ctx->data_end - ctx->data);): Linux 6.18 has no kfunc of that name")
	})
	t.Run("errors.Is finds the unknown kfunc", func(t *testing.T) {
		if !errors.Is(err, kfuncs.ErrUnknownKfunc) {
			t.Errorf("%v does not match kfuncs.ErrUnknownKfunc", err)
		}
	})
}

// The README lists every helper and kfunc Linux offers XDP programs that the simulator lacks.
func TestTheREADMEListsWhatTheSimulatorLacks(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skipf("SKIP: no README beside the package: %v", err)
	}
	readme := string(b)
	start := strings.Index(readme, "### What the simulator lacks")
	if start < 0 {
		t.Fatal(`README.md has no "What the simulator lacks" section`)
	}
	section := readme[start:]
	if end := strings.Index(section[4:], "\n## "); end >= 0 {
		section = section[:end+4]
	}
	for id := range sim.NotSimulated(ebpf.XDP) {
		if name := sim.HelperName(id); !strings.Contains(section, fmt.Sprintf("| `%s` | %d |", name, id)) {
			t.Errorf("the README does not list helper %s (#%d)", name, id)
		}
	}
	missing := kfuncs.NotSimulated()
	for name := range missing {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("the README does not list kfunc %s", name)
		}
	}
	if !strings.Contains(section, fmt.Sprintf("that the simulator does not provide (`kfuncs.NotSimulated`), %d:", len(missing))) {
		t.Errorf("the README does not count the %d kfuncs the simulator lacks", len(missing))
	}
}
