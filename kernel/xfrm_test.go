package kernel_test

import (
	"path/filepath"
	"testing"

	"github.com/xdpsim/xdpsim/kernel"
)

// A namespace without security associations answers every lookup with NULL; opts->error says why,
// unless opts__sz leaves no room for it (net/xfrm/xfrm_state_bpf.c).
func TestXfrmStateLookupsAgreeWithTheKernel(t *testing.T) {
	obj := filepath.Join("testdata", "xdp_xfrm.o")
	want := [5]int64{-2, -22, -22, -64, 12345} // ENOENT, EINVAL (size), EINVAL (netns), ENONET, untouched
	simRun, kernRun := probeSides(t, obj, "xfrm_probe", kernel.Options{OwnNamespace: true})
	s, sm := simRun(make([]byte, 64), nil)
	if s.Err != "" || s.Ret != 2 {
		t.Fatalf("simulator: %d %s", s.Ret, s.Err)
	}
	got := resultsOf(t, sm)
	if [5]int64(got[:5]) != want {
		t.Errorf("simulator: %v, want %v", got[:5], want)
	}
	if kernRun == nil {
		return
	}
	k, km := kernRun(make([]byte, 64), nil)
	if k.Err != "" || k.Ret != 2 {
		t.Fatalf("kernel: %d %s", k.Ret, k.Err)
	}
	if kgot := resultsOf(t, km); [5]int64(kgot[:5]) != want {
		t.Errorf("kernel: %v, want %v", kgot[:5], want)
	}
}
