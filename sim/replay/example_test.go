package replay_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// Replaying a trace through a program, as xdpsim run does: the loop reads the records, gives each
// packet its conditions (the zero Conditions are BPF_PROG_TEST_RUN's) and counts the verdicts;
// sinks add outputs (replay.NewJSONL, replay.NewPcapDir, replay.NewVerbose, ...).
func ExampleLoop() {
	obj, err := sim.Load(corpus.Dir()+"/eth_stats.v4.o", sim.LoadOptions{})
	if err != nil {
		panic(err)
	}
	prog, err := obj.FindProgram("")
	if err != nil {
		panic(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		panic(err)
	}
	l := &replay.Loop{Target: replay.Sim{X: x}}
	if err := l.Run(corpus.TracePath("mixed.pcap")); err != nil {
		panic(err)
	}
	for _, v := range l.Stats.Names() {
		fmt.Println(v, l.Stats.Verdicts[v])
	}
	// The kernel's verdicts for these packets (xdpsim run --engine kernel):
	// Output:
	// XDP_DROP 30
	// XDP_PASS 3960
	// refused 10
}

// A sink sees every packet after it ran: here the first packets the program dropped (the kernel
// drops the same ones: xdpsim run --engine kernel --jsonl -).
func ExampleSink() {
	obj, _ := sim.Load(corpus.Dir()+"/eth_stats.v4.o", sim.LoadOptions{})
	prog, _ := obj.FindProgram("")
	x, _ := sim.NewXDP(prog)
	drops := dropped{}
	l := &replay.Loop{Target: replay.Sim{X: x}, Sinks: []replay.Sink{&drops}}
	if err := l.Run(corpus.TracePath("mixed.pcap")); err != nil {
		panic(err)
	}
	fmt.Println(drops[:3])
	// Output:
	// [217 348 631]
}

type dropped []int

func (d *dropped) Packet(p *replay.Packet) error {
	if p.Verdict == "XDP_DROP" {
		*d = append(*d, p.N)
	}
	return nil
}
