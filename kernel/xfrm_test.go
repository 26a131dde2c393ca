package kernel_test

import (
	"path/filepath"
	"testing"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
)

// A namespace without security associations answers every lookup with NULL; opts->error says why,
// unless opts__sz leaves no room for it (net/xfrm/xfrm_state_bpf.c).
func TestXfrmStateLookupsAgreeWithTheKernel(t *testing.T) {
	obj := filepath.Join("testdata", "xdp_xfrm.o")
	want := [5]int64{-2, -22, -22, -64, 12345} // ENOENT, EINVAL (size), EINVAL (netns), ENONET, untouched
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("xfrm_probe")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	if s := x.Run(make([]byte, 64), nil, sim.Conditions{}); s.Err != "" || s.Ret != 2 {
		t.Fatalf("simulator: %d %s", s.Ret, s.Err)
	}
	sm, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	got := resultsOf(t, sm)
	if [5]int64(got[:5]) != want {
		t.Errorf("simulator: %v, want %v", got[:5], want)
	}
	if err := kernel.Available(); err != nil {
		t.Skipf("kernel side skipped: %v", err)
	}
	kp, err := kernel.Load(obj, kernel.Options{OwnNamespace: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kp.Close()
	if k := kp.Run(make([]byte, 64), nil, kernel.Context{}); k.Err != "" || k.Ret != 2 {
		t.Fatalf("kernel: %d %s", k.Ret, k.Err)
	}
	km, err := kp.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	if kgot := resultsOf(t, km); [5]int64(kgot[:5]) != want {
		t.Errorf("kernel: %v, want %v", kgot[:5], want)
	}
}
