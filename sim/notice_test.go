package sim_test

import (
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/sim"
)

func TestProgramsOfOtherTypesAreSkippedWithANotice(t *testing.T) {
	obj, err := sim.Load("testdata/mixed.o", sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notices := strings.Join(obj.Notices, "\n")
	for _, want := range []string{
		"program kprobe_open (section kprobe/do_sys_openat2) is a Kprobe program: not simulated, skipped",
	} {
		if !strings.Contains(notices, want) {
			t.Errorf("no notice %q in:\n%s", want, notices)
		}
	}
	if strings.Contains(notices, "tc_count") {
		t.Errorf("the tc program, which the simulator runs, has a notice:\n%s", notices)
	}
	if _, err := obj.FindProgram(""); err != nil {
		t.Errorf("the XDP program beside them does not load: %v", err)
	}
}
