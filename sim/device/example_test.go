package device_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/sim/device"
)

// The plan of libxdp's dispatcher for three programs, then for a fourth added later: every program
// after the new one moves to another slot of a new dispatcher.
func ExampleBuild() {
	prog := func(name string, prio uint32, insns int) device.Program {
		return device.Program{Name: name, Insns: insns, Config: device.RunConfig{Priority: prio, Actions: device.DefaultActions}}
	}
	d, err := device.Build([]device.Program{prog("xdp_lb", 60, 200), prog("xdp_fw", 20, 80), prog("xdp_count", 20, 30)}, device.Options{})
	if err != nil {
		panic(err)
	}
	for _, s := range d.Slots {
		fmt.Printf("%s: %s (%s)\n", s.Target, s.Program.Name, s.Why)
	}
	d2, err := d.Add([]device.Program{prog("xdp_ddos", 10, 50)})
	if err != nil {
		panic(err)
	}
	for _, s := range d2.Slots {
		fmt.Printf("then %s: %s\n", s.Target, s.Program.Name)
	}
	// Output:
	// prog0: xdp_count ()
	// prog1: xdp_fw (same priority; by name, xdp_count before xdp_fw)
	// prog2: xdp_lb (priority 20, then 60)
	// then prog0: xdp_ddos
	// then prog1: xdp_count
	// then prog2: xdp_fw
	// then prog3: xdp_lb
}
