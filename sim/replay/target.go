package replay

import (
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// Target runs packets: the simulator (Sim), or anything else that produces the same outcomes, such
// as the real kernel through an adapter that lives above this package (sim never imports kernel).
type Target interface {
	// Run runs one packet, with metadata meta in front of it (nil for none), under cond. The
	// outcome may alias the target's buffers until the next Run.
	Run(pkt, meta []byte, cond sim.Conditions) sim.Outcome
	// DumpMaps returns the maps' contents.
	DumpMaps() (result.Maps, error)
}

// TraceTarget is a Target whose packets depend on the trace they come from (a network, where
// each trace arrives on its own device): the loop calls RunTrace instead of Run.
type TraceTarget interface {
	Target
	RunTrace(file string, pkt, meta []byte, cond sim.Conditions) sim.Outcome
}

// RedirectBlind is implemented by targets that cannot tell where an XDP_REDIRECT goes (the kernel's
// test run reports the return value only): outcomes from them carry no Redirect.
type RedirectBlind interface {
	RedirectBlind()
}

// Tracer is a Target whose instructions can be traced (the simulator).
type Tracer interface {
	Machine() *vm.Machine
}

// Sim is the simulator as a Target: an XDP program over packets, maps carrying over.
type Sim struct {
	X *sim.XDP
}

// Run runs one packet through the simulator.
func (s Sim) Run(pkt, meta []byte, cond sim.Conditions) sim.Outcome { return s.X.Run(pkt, meta, cond) }

// RunTo runs one packet through the simulator into *out (see inPlace).
func (s Sim) RunTo(out *sim.Outcome, pkt, meta []byte, cond sim.Conditions) {
	s.X.RunTo(out, pkt, meta, cond)
}

// inPlace is a Target that writes outcomes where the loop keeps them, saving the copies of Run's
// large result.
type inPlace interface {
	RunTo(out *sim.Outcome, pkt, meta []byte, cond sim.Conditions)
}

// DumpMaps dumps the object's maps (a dispatcher's: every slot's, see sim.XDP.DumpMaps).
func (s Sim) DumpMaps() (result.Maps, error) { return s.X.DumpMaps() }

// Machine is the machine the program runs on, for the tracer.
func (s Sim) Machine() *vm.Machine { return s.X.Machine() }

// SimTC is the simulator running a tc program alone as a Target, as BPF_PROG_TEST_RUN runs it: each
// packet in an skb on the device the conditions name (loopback by default), with a __sk_buff
// passed in whose ifindex that is.
type SimTC struct {
	T *sim.TC
}

// Run runs one packet through the tc program.
func (s SimTC) Run(pkt, meta []byte, cond sim.Conditions) sim.Outcome {
	ctx := sim.SkbContext{Ifindex: cond.IngressIfindex}
	return s.T.Run(pkt, &ctx, cond)
}

// DumpMaps dumps the object's maps.
func (s SimTC) DumpMaps() (result.Maps, error) { return s.T.Programs()[0].Object().DumpMaps() }

// Machine is the machine the program runs on, for the tracer.
func (s SimTC) Machine() *vm.Machine { return s.T.Machine() }
