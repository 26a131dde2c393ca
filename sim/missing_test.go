package sim_test

import (
	"errors"
	"strings"
	"testing"

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
		{"bpf_rcu_read_lock", -1, "missing.c:28:"},
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
			"\n  kfunc bpf_rcu_read_lock at instruction 1 (missing.c:28: bpf_rcu_read_lock();)",
			"\n  bpf_skb_vlan_push (#18) at instruction 5 (missing.c:29:",
			"\n  bpf_get_task_stack (#141) at instruction",
			"\n  bpf_find_vma (#180) at instruction",
			"\n  kfunc bpf_xdpsim_test_kfunc at instruction")
		if strings.Count(err.Error(), "bpf_skb_vlan_push (#18)") != 1 {
			t.Errorf("bpf_skb_vlan_push is named more than once: %v", err)
		}
	})
	t.Run("errors.Is finds the unknown kfunc", func(t *testing.T) {
		if !errors.Is(err, kfuncs.ErrUnknownKfunc) {
			t.Errorf("%v does not match kfuncs.ErrUnknownKfunc", err)
		}
	})
}
