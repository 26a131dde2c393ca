package sim_test

import (
	"encoding/hex"
	"fmt"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Running a compiled XDP program over one packet: load the object, pick the program, and run
// packets through it with BPF_PROG_TEST_RUN's conditions. Map state carries over between runs.
func ExampleXDP_Run() {
	obj, err := sim.Load("testdata/parser.o", sim.LoadOptions{})
	if err != nil {
		panic(err)
	}
	prog, err := obj.FindProgram("") // the only XDP program
	if err != nil {
		panic(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		panic(err)
	}
	// Ethernet, IPv4 (UDP), UDP to port 53.
	pkt, _ := hex.DecodeString("02000000000102000000000208004500001c0000000040110000c0a80001c0a80002" +
		"d43100350008" + "0000")
	o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
	fmt.Println(result.VerdictName(o.Ret))

	count, _ := obj.Maps["udp_ports"].Lookup([]byte{53, 0, 0, 0}, 0)
	fmt.Println("port 53 bucket:", count[0])
	// Output:
	// XDP_PASS
	// port 53 bucket: 1
}

// Fuzzing a program: any input must end in a verdict, never a fault (go test -fuzz).
func ExampleXDP_Run_fuzz() {
	obj, _ := sim.Load("testdata/parser.o", sim.LoadOptions{})
	prog, _ := obj.FindProgram("")
	x, _ := sim.NewXDP(prog)
	check := func(data []byte) error { // the body of an f.Fuzz function
		if o := x.Run(data, nil, sim.Conditions{IngressIfindex: 1}); o.Fault != nil {
			return o.Fault
		}
		return nil
	}
	fmt.Println(check([]byte("a frame that is long enough but is not IPv4")))
	// Output:
	// <nil>
}
