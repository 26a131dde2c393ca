//go:build linux

package kernel

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpsim/xdpsim/sim/result"
)

// xdpMD is struct xdp_md as BPF_PROG_TEST_RUN reads and writes it.
type xdpMD struct {
	Data           uint32
	DataEnd        uint32
	DataMeta       uint32
	IngressIfindex uint32
	RxQueueIndex   uint32
	EgressIfindex  uint32
}

// Run runs the program once on pkt with meta as its metadata (nil for none), through a single
// BPF_PROG_TEST_RUN with Repeat 1. Map side effects persist between runs. The returned packet has
// Ret, and Data and Meta as the program left them (Data includes any fragments); Index is left 0
// for the caller to number packets. When the kernel refuses the packet, Err says why in a short
// sentence, e.g. "kernel refused the packet: invalid argument (packet shorter than 14 bytes)".
func (p *Program) Run(pkt []byte, meta []byte, ctx Context) result.Packet {
	ret, metaOut, dataOut, err := p.run(pkt, meta, ctx)
	if err != nil {
		return result.Packet{Err: p.refusal(err, pkt, meta, ctx)}
	}
	return result.Packet{Ret: ret, Meta: metaOut, Data: dataOut}
}

// run is Run with the kernel's error as it came.
func (p *Program) run(pkt []byte, meta []byte, ctx Context) (ret uint32, metaOut, dataOut []byte, err error) {
	if p.prog == nil {
		return 0, nil, nil, errClosed
	}
	in := make([]byte, 0, len(meta)+len(pkt))
	in = append(append(in, meta...), pkt...)
	md := xdpMD{
		Data:           uint32(len(meta)),
		DataEnd:        uint32(len(in)),
		IngressIfindex: ctx.ifindex(),
		RxQueueIndex:   ctx.RxQueue,
	}
	var mdOut xdpMD
	// Room for everything the program can add: the whole headroom at the front, and a page of
	// tail growth for the linear part and for every fragment.
	frags := 0
	if len(pkt) > MaxLinear {
		frags = (len(pkt) - MaxLinear + 4095) / 4096
	}
	out := make([]byte, len(in)+256+4096*(1+frags))
	opts := ebpf.RunOptions{
		Data:       in,
		DataOut:    out,
		Context:    md,
		ContextOut: &mdOut,
		Repeat:     1,
	}
	runOn := onTestHost
	if p.host != nil {
		runOn = p.host.do
	}
	err = runOn(ctx.CPU, func() error {
		var err error
		ret, err = p.prog.Run(&opts)
		return err
	})
	if err != nil {
		return 0, nil, nil, err
	}
	got := opts.DataOut
	if int(mdOut.Data) > len(got) {
		return 0, nil, nil, fmt.Errorf("kernel returned %d bytes of output but %d bytes of metadata", len(got), mdOut.Data)
	}
	return ret, got[:mdOut.Data:mdOut.Data], got[mdOut.Data:], nil
}

// refusal explains a failed test run in one short line, guessing the cause from the input.
func (p *Program) refusal(err error, pkt, meta []byte, ctx Context) string {
	ifindex := ctx.ifindex()
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return "kernel run failed: " + firstLine(err.Error())
	}
	var why string
	ps := p.spec.Programs[p.name]
	switch errno {
	case unix.EINVAL:
		switch {
		case p.ifindex != 0:
			why = "device-bound programs cannot be test-run; use RunOnVeth"
		case !isTestRunnable(ps):
			why = "programs for devmap or cpumap entries cannot be test-run"
		case len(pkt) < MinPacket:
			why = fmt.Sprintf("packet shorter than %d bytes", MinPacket)
		case len(meta)%4 != 0:
			why = fmt.Sprintf("metadata length %d is not a multiple of 4", len(meta))
		case len(meta) > MaxMeta:
			why = fmt.Sprintf("metadata longer than %d bytes", MaxMeta)
		case ctx.RxQueue != 0:
			why = fmt.Sprintf("no rx queue %d on ifindex %d", ctx.RxQueue, ifindex)
		}
	case unix.ENODEV:
		why = fmt.Sprintf("no interface with ifindex %d", ifindex)
	case unix.ENOMEM:
		if len(pkt) > MaxPacket {
			why = fmt.Sprintf("packet longer than %d bytes needs more than 17 fragments", MaxPacket)
		}
	case unix.ENOSPC:
		why = "output larger than the buffer"
	}
	s := "kernel refused the packet: " + errno.Error()
	if why != "" {
		s += " (" + why + ")"
	}
	return s
}

// SkbCtxSize is sizeof(struct __sk_buff), the context of a tc program.
const SkbCtxSize = 192

// MaxTCPacket is the longest packet BPF_PROG_TEST_RUN takes for a tc program (measured on 6.18): a
// page less 64 bytes of headroom and 320 of skb_shared_info.
const MaxTCPacket = 4096 - 64 - 320

// RunTC runs a tc (SCHED_CLS) program once on pkt through BPF_PROG_TEST_RUN with ctx as its struct
// __sk_buff (SkbCtxSize bytes; nil passes none). The returned packet has Type result.TypeTC, Ret,
// Data (from the MAC header) and, when ctx was given, Ctx: the __sk_buff the kernel gives back.
// Map side effects persist between runs. When the kernel refuses the packet or the context, Err
// says why.
func (p *Program) RunTC(pkt []byte, ctx []byte, c Context) result.Packet {
	if p.prog == nil {
		return result.Packet{Type: result.TypeTC, Err: errClosed.Error()}
	}
	out := make([]byte, len(pkt)+16384+256)
	opts := ebpf.RunOptions{Data: pkt, DataOut: out, Repeat: 1}
	var ctxOut []byte
	if ctx != nil {
		ctxOut = make([]byte, SkbCtxSize)
		opts.Context, opts.ContextOut = ctx, ctxOut
	}
	var ret uint32
	runOn := onTestHost
	if p.host != nil {
		runOn = p.host.do
	}
	err := runOn(c.CPU, func() error {
		var err error
		ret, err = p.prog.Run(&opts)
		return err
	})
	if err != nil {
		return result.Packet{Type: result.TypeTC, Err: p.refusalTC(err, pkt)}
	}
	return result.Packet{Type: result.TypeTC, Ret: ret, Data: opts.DataOut, Ctx: ctxOut}
}

// refusalTC explains a failed tc test run in one short line.
func (p *Program) refusalTC(err error, pkt []byte) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return "kernel run failed: " + firstLine(err.Error())
	}
	var why string
	switch errno {
	case unix.EINVAL:
		switch {
		case len(pkt) < MinPacket:
			why = fmt.Sprintf("packet shorter than %d bytes", MinPacket)
		case len(pkt) > MaxTCPacket:
			why = fmt.Sprintf("packet longer than %d bytes", MaxTCPacket)
		}
	case unix.ENODEV:
		why = "no device with the context's ifindex"
	}
	s := "kernel refused the packet: " + errno.Error()
	if why != "" {
		s += " (" + why + ")"
	}
	return s
}
