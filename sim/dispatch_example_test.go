package sim_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
)

// Several objects attached to one interface through libxdp's dispatcher, as `xdp-loader load
// eth0 disp_echo.o disp_fw.o disp_mon.o` attaches them: each object is loaded on its own (its maps
// are its own), the run configuration comes from each object's BTF, and xdp_fw's priority is
// changed as libxdp's xdp_program__set_run_prio would.
func ExampleNewDispatcher() {
	var atts []sim.Attachment
	for _, name := range []string{"disp_echo", "disp_fw", "disp_mon"} {
		p, _ := corpus.Lookup(name)
		obj, err := sim.Load(p.Object("v4"), sim.LoadOptions{})
		if err != nil {
			panic(err)
		}
		prog, err := obj.FindProgram(p.Entry)
		if err != nil {
			panic(err)
		}
		atts = append(atts, sim.Attachment{Program: prog})
	}
	prio := uint32(40)
	atts[1].Override.Priority = &prio
	x, err := sim.NewDispatcher(atts, device.Options{})
	if err != nil {
		panic(err)
	}
	for _, s := range x.Dispatcher().Slots {
		fmt.Printf("slot %d: %s, priority %d, chains on %s\n", s.Index, s.Program.Name, s.Program.Config.Priority, s.Program.Config.Actions)
	}

	// An ICMP echo request: xdp_mon counts it and chains on, xdp_echo answers it with XDP_TX.
	pkt := make([]byte, 60)
	copy(pkt, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45, 0, 0, 46, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 8})
	out := x.Run(pkt, nil, sim.Conditions{})
	fmt.Println("verdict:", out.Ret)
	for _, r := range out.Dispatch {
		fmt.Printf("  slot %d %s returned %d, continued %v\n", r.Slot, r.Program, r.Ret, r.Continued)
	}
	// Output:
	// slot 0: xdp_mon, priority 1, chains on XDP_DROP,XDP_PASS
	// slot 1: xdp_echo, priority 30, chains on XDP_PASS
	// slot 2: xdp_fw, priority 40, chains on XDP_PASS
	// verdict: 3
	//   slot 0 xdp_mon returned 2, continued true
	//   slot 1 xdp_echo returned 3, continued false
}
