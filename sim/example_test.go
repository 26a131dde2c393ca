package sim_test

import (
	"encoding/hex"
	"fmt"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
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

// Running a tc program over a packet as BPF_PROG_TEST_RUN runs a SCHED_CLS program: the return
// value is its TC_ACT_ verdict, the outcome says what the tc hook does with the packet, and the
// __sk_buff given in (optional) comes back with the program's changes.
func ExampleTC_Run() {
	obj, err := sim.Load(corpus.Dir()+"/tc_parser.v4.o", sim.LoadOptions{})
	if err != nil {
		panic(err)
	}
	prog, err := obj.FindProgram("tc_parser")
	if err != nil {
		panic(err)
	}
	tc, err := sim.NewTC(prog)
	if err != nil {
		panic(err)
	}
	// Ethernet, IPv4 (UDP), UDP to port 53.
	pkt, _ := hex.DecodeString("02000000000102000000000208004500001c0000000040110000c0a80001c0a80002" +
		"d43100350008" + "0000")
	o := tc.Run(pkt, &sim.SkbContext{Mark: 7}, sim.Conditions{})
	ctx, _ := sim.ParseSkbContext(o.Ctx)
	fmt.Println(o.TC.Verdict(), o.TC.Action)
	// tc_parser puts its L4 class (5: UDP) into the mark and its L3 class (2: IPv4) into priority.
	fmt.Printf("mark %#x, priority %d; given back: mark %#x, priority %d\n", o.TC.Skb.Mark, o.TC.Skb.Priority, ctx.Mark, ctx.Priority)
	// Output:
	// TC_ACT_OK pass
	// mark 0x105, priority 2; given back: mark 0x105, priority 2
}

// Putting a tc program at tc ingress behind an XDP program: what XDP passes becomes an skb, its
// metadata visible to the tc program at data_meta.
func ExampleXDP_SetIngress() {
	obj, err := sim.Load(corpus.Dir()+"/tc_meta.v4.o", sim.LoadOptions{})
	if err != nil {
		panic(err)
	}
	xp, _ := obj.FindProgram("xdp_meta_writer")
	tp, _ := obj.FindProgram("tc_meta_reader")
	x, _ := sim.NewXDP(xp)
	tc, _ := sim.NewTC(tp)
	x.SetIngress(tc)
	pkt, _ := hex.DecodeString("02000000000102000000000208004500001c0000000040110000c0a80001c0a80002" +
		"d43100350008" + "0000")
	o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
	fmt.Println(result.VerdictName(o.Ret), "->", o.TC.Action, "after", o.TC.Programs[0].Program)
	fmt.Printf("metadata %x, mark %#x\n", o.TC.Meta, o.TC.Skb.Mark)
	// Output:
	// XDP_PASS -> pass after tc_meta_reader
	// metadata 577e01002a000000, mark 0xc1a55001
}

// Choosing the engine that runs the program: the jit engine is the default; every engine gives the
// same outcome, instruction for instruction.
func ExampleXDP_Run_engine() {
	pkt, _ := hex.DecodeString("02000000000102000000000208004500001c0000000040110000c0a80001c0a80002" +
		"d43100350008" + "0000")
	for _, name := range []string{"jit", "interp"} {
		obj, _ := sim.Load("testdata/parser.o", sim.LoadOptions{})
		prog, _ := obj.FindProgram("")
		x, _ := sim.NewXDP(prog)
		e, err := vm.EngineByName(name)
		if err != nil {
			panic(err)
		}
		x.Machine().SetEngine(e)
		o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
		fmt.Println(x.Machine().Engine().Name(), result.VerdictName(o.Ret), o.Executed, "instructions")
	}
	// Output:
	// jit XDP_PASS 41 instructions
	// interp XDP_PASS 41 instructions
}
