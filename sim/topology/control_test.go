package topology_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
)

// The control interface reaches a topology's devices: netkit's default policy changed through the
// primary's attributes decides the next packet's fate, as a changelink would.
func TestANetkitPolicySetThroughTheControlInterfaceTakesEffect(t *testing.T) {
	tp := load(t, "l3-policy.json")
	a, err := tp.Arrival("l3-policy.wire.pcap")
	if err != nil {
		t.Fatal(err)
	}
	syn := frames(t, "l3-policy.wire.pcap")[0] // to the pod, through nk0, which has no programs
	run := func() string {
		o := tp.Network.Run(syn, nil, sim.Conditions{}, a)
		if o.Err != "" {
			t.Fatal(o.Err)
		}
		return o.Network.End.Summary()
	}
	if got := run(); got != "dropped at nk0" {
		t.Fatalf("before: %s, want the default policy's drop", got)
	}
	nk0, err := tp.Network.Netdevs().ByName("nk0")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := device.Latest().BTF()
	if err != nil {
		t.Fatal(err)
	}
	c, err := device.NewClient(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetAll(nk0, map[string]string{"netkit_policy": "pass"}); err != nil {
		t.Fatal(err)
	}
	if got := run(); got != "delivered to pod" {
		t.Errorf("after: %s, want the packet delivered to the pod", got)
	}
	t.Run("every device of the topology is there, with the topology's names and indexes", func(t *testing.T) {
		var names []string
		for _, d := range tp.Network.Netdevs().All() {
			names = append(names, d.Name)
		}
		if got := len(names); got != 3 || names[0] != "eth0" || names[1] != "nk0" || names[2] != "nk0p" {
			t.Errorf("devices %v", names)
		}
	})
}
