package sim_test

import (
	"bytes"
	"testing"

	"github.com/xdpsim/xdpsim/sim"
)

// TestZeroConditionsAreTheTestRunsDefaults holds sim.Conditions to its promise: the zero value is
// BPF_PROG_TEST_RUN's default context, in which the packet arrives on the loopback device
// (ingress_ifindex 1; spec: xdp_convert_md_to_buff leaves the test run's loopback rxq in place
// when the context has no ifindex).
func TestZeroConditionsAreTheTestRunsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		cond sim.Conditions
		want uint32
	}{
		{"an empty Conditions arrives on ifindex 1", sim.Conditions{}, 1},
		{"an explicit ifindex is kept", sim.Conditions{IngressIfindex: 7}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := load(t, "globals", sim.LoadOptions{})
			p, err := obj.FindProgram("")
			if err != nil {
				t.Fatal(err)
			}
			x, err := sim.NewXDP(p)
			if err != nil {
				t.Fatal(err)
			}
			if o := x.Run(rawFrame(mac(2), mac(0x10), 0x0800, 60), nil, tc.cond); o.Err != "" {
				t.Fatal(o.Err)
			}
			if got := variable(t, obj, "last_ifindex"); !bytes.Equal(got, u32(tc.want)) {
				t.Errorf("the program read ingress_ifindex %x, want %x", got, u32(tc.want))
			}
		})
	}
}
