//go:build linux

package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

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

// OnTestThread runs fn on the thread the program's test runs use: the one in the program's private
// network namespace, pinned to each packet's CPU as the packet's Context asks. Every Run of this
// program that fn makes is then a single system call on that thread, with no hand-off between
// threads, so replaying a trace inside fn costs little more per packet than the kernel's own test
// run; outside, each Run hands its packet to that thread and waits. fn runs while the thread
// serves nothing else: it must not wait for other goroutines that use programs of the same
// namespace.
func (p *Program) OnTestThread(fn func() error) error {
	if p.prog == nil {
		return errClosed
	}
	h, err := p.testHost()
	if err != nil {
		return err
	}
	return h.inThread(fn)
}

// RunTime runs the program repeat times over pkt in one BPF_PROG_TEST_RUN and returns the average
// time of a run as the kernel measures it: the cost of the program itself (the kernel's JIT) and
// of the frame set-up between runs, without system call, copy or thread hand-off.
func (p *Program) RunTime(pkt []byte, repeat uint32) (time.Duration, error) {
	if p.prog == nil {
		return 0, errClosed
	}
	h, err := p.testHost()
	if err != nil {
		return 0, err
	}
	var per time.Duration
	err = h.do(0, func() error {
		_, d, err := p.prog.Benchmark(pkt, int(repeat), nil)
		per = d
		return err
	})
	return per, err
}

// testHost is the host the program's test runs happen on: its own, or the package's bare one.
func (p *Program) testHost() (*testHost, error) {
	if p.host != nil {
		return p.host, nil
	}
	return host()
}

// run is Run with the kernel's error as it came.
func (p *Program) run(pkt []byte, meta []byte, ctx Context) (ret uint32, metaOut, dataOut []byte, err error) {
	if p.prog == nil {
		return 0, nil, nil, errClosed
	}
	h, err := p.testHost()
	if err != nil {
		return 0, nil, nil, err
	}
	r := p.runner()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fd = uint32(p.prog.FD()) // ResetMaps loads the program anew
	r.in = append(append(r.in[:0], meta...), pkt...)
	r.md = xdpMD{
		Data:           uint32(len(meta)),
		DataEnd:        uint32(len(r.in)),
		IngressIfindex: ctx.ifindex(),
		RxQueueIndex:   ctx.RxQueue,
	}
	// Room for everything the program can add: the whole headroom at the front, and a page of
	// tail growth for the linear part and for every fragment.
	frags := 0
	if len(pkt) > MaxLinear {
		frags = (len(pkt) - MaxLinear + 4095) / 4096
	}
	if need := len(r.in) + 256 + 4096*(1+frags); cap(r.out) < need {
		r.out = make([]byte, need)
	}
	r.out = r.out[:cap(r.out)]
	if err = h.do(ctx.CPU, r.testRun); err != nil {
		return 0, nil, nil, err
	}
	if int(r.mdOut.Data) > int(r.outLen) {
		return 0, nil, nil, fmt.Errorf("kernel returned %d bytes of output but %d bytes of metadata", r.outLen, r.mdOut.Data)
	}
	// The results outlive the next run, which reuses the buffers: one copy, both slices in it.
	got := bytes.Clone(r.out[:r.outLen])
	return r.ret, got[:r.mdOut.Data:r.mdOut.Data], got[r.mdOut.Data:], nil
}

// testRunner holds one program's test-run buffers, reused from packet to packet.
type testRunner struct {
	mu        sync.Mutex
	fd        uint32
	in, out   []byte
	md, mdOut xdpMD
	ret       uint32
	outLen    uint32
	testRun   func() error // bound to this runner once, so a run allocates no closure
}

// runner returns the program's test runner, making it on first use.
func (p *Program) runner() *testRunner {
	if p.tr == nil {
		r := &testRunner{}
		r.testRun = r.run
		p.tr = r
	}
	return p.tr
}

// bpfProgTestRun is the test member of union bpf_attr (BPF_PROG_TEST_RUN).
type bpfProgTestRun struct {
	progFD      uint32
	retval      uint32
	dataSizeIn  uint32
	dataSizeOut uint32
	dataIn      uint64
	dataOut     uint64
	repeat      uint32
	duration    uint32
	ctxSizeIn   uint32
	ctxSizeOut  uint32
	ctxIn       uint64
	ctxOut      uint64
	flags       uint32
	cpu         uint32
	batchSize   uint32
	_           uint32
}

const bpfProgTestRunCmd = 10 // BPF_PROG_TEST_RUN

// run makes one BPF_PROG_TEST_RUN with repeat 1 on the calling thread, from the runner's buffers.
func (r *testRunner) run() error {
	attr := bpfProgTestRun{
		progFD:      r.fd,
		dataSizeIn:  uint32(len(r.in)),
		dataSizeOut: uint32(len(r.out)),
		dataIn:      uint64(uintptr(unsafe.Pointer(unsafe.SliceData(r.in)))),
		dataOut:     uint64(uintptr(unsafe.Pointer(unsafe.SliceData(r.out)))),
		repeat:      1,
		ctxSizeIn:   uint32(unsafe.Sizeof(r.md)),
		ctxSizeOut:  uint32(unsafe.Sizeof(r.mdOut)),
		ctxIn:       uint64(uintptr(unsafe.Pointer(&r.md))),
		ctxOut:      uint64(uintptr(unsafe.Pointer(&r.mdOut))),
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgTestRunCmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(r)
	// Older kernels can report EINTR for a run of repeat 1 that did complete (they look for a
	// pending signal before counting the run); as cilium/ebpf does, take it as a completed run.
	if errno != 0 && errno != unix.EINTR {
		return errno
	}
	r.ret, r.outLen = attr.retval, min(attr.dataSizeOut, uint32(len(r.out)))
	return nil
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
