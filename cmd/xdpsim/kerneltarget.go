package main

import (
	"fmt"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// kernelTarget is the real kernel as a replay.Target: each packet is one BPF_PROG_TEST_RUN under
// the same conditions the simulator gets (sim never imports kernel; this adapter joins them).
type kernelTarget struct{ p *kernel.Program }

func (k kernelTarget) Run(pkt, meta []byte, c sim.Conditions) sim.Outcome {
	o := sim.Outcome{Packet: k.p.Run(pkt, meta, kernel.Context{IngressIfindex: c.IngressIfindex, RxQueue: c.RxQueue, CPU: c.CPU})}
	if o.Err == "" {
		switch {
		case o.Ret == result.XDPAborted:
			o.Exception = "XDP_ABORTED"
		case o.Ret > result.XDPRedirect:
			o.Exception = fmt.Sprintf("invalid action %d", o.Ret)
		}
	}
	return o
}

// RedirectBlind: BPF_PROG_TEST_RUN returns XDP_REDIRECT but not where to.
func (kernelTarget) RedirectBlind() {}

func (k kernelTarget) DumpMaps() (result.Maps, error) {
	m, err := k.p.DumpMaps()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	return m, nil
}

// kernelTCTarget is the real kernel running a tc program as a replay.Target: each packet is one
// BPF_PROG_TEST_RUN with a __sk_buff in and out, as the simulator's replay.SimTC runs it.
type kernelTCTarget struct{ p *kernel.Program }

func (k kernelTCTarget) Run(pkt, meta []byte, c sim.Conditions) sim.Outcome {
	ctx := sim.SkbContext{Ifindex: c.IngressIfindex}
	return sim.Outcome{Packet: k.p.RunTC(pkt, ctx.Marshal(), kernel.Context{CPU: c.CPU})}
}

// RedirectBlind: BPF_PROG_TEST_RUN returns TC_ACT_REDIRECT but not where to.
func (kernelTCTarget) RedirectBlind() {}

func (k kernelTCTarget) DumpMaps() (result.Maps, error) {
	m, err := k.p.DumpMaps()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	return m, nil
}

// runLoop replays traces through the session's loop. With the kernel in the session it does so on
// the kernel's test thread, where each BPF_PROG_TEST_RUN is one system call with no hand-off
// between threads (a few microseconds per packet instead of tens).
func (s *session) runLoop(traces []string) error {
	if s.kp == nil {
		return s.loop.Run(traces...)
	}
	return s.kp.OnTestThread(func() error { return s.loop.Run(traces...) })
}
