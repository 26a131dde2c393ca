package kernel

import (
	"errors"
	"time"

	"github.com/xdpsim/xdpsim/sim/result"
)

// ErrNoKernel is matched (with errors.Is) by the error every entry point returns when the kernel side
// cannot be used at all: not Linux, no bpf() system call, or missing CAP_BPF/CAP_NET_ADMIN. The
// returned error's message is one line that says why.
var ErrNoKernel = errors.New("kernel: the kernel side cannot be used")

// noKernelError is the one-line error that matches ErrNoKernel.
type noKernelError struct{ reason string }

func (e *noKernelError) Error() string { return ErrNoKernel.Error() + ": " + e.reason }

func (e *noKernelError) Is(target error) bool { return target == ErrNoKernel }

// Limits of BPF_PROG_TEST_RUN for XDP, as measured on Linux 6.18 (see the package tests).
const (
	// MinPacket is the shortest packet the kernel accepts (an Ethernet header), not counting
	// metadata; shorter ones are refused with EINVAL.
	MinPacket = 14
	// MaxLinear is how much of a packet sits in the linear buffer, whatever the metadata length;
	// the rest goes to fragments of up to 4096 bytes each: 4096 - 256 bytes of headroom - 320
	// bytes of skb_shared_info.
	MaxLinear = 3520
	// MaxPacket is the longest packet accepted: the linear part and 17 full fragments
	// (MAX_SKB_FRAGS); longer ones are refused with ENOMEM.
	MaxPacket = MaxLinear + 17*4096
	// MaxMeta is the longest metadata accepted (256 bytes of headroom - 40 bytes of xdp_frame);
	// longer metadata, or a length that is not a multiple of 4, is refused with EINVAL.
	MaxMeta = 216
)

// SkbCtxSize is sizeof(struct __sk_buff), the context of a tc program.
const SkbCtxSize = 192

// MaxTCPacket is the longest packet BPF_PROG_TEST_RUN takes for a tc program (measured on 6.18): a
// page less 64 bytes of headroom and 320 of skb_shared_info.
const MaxTCPacket = 4096 - 64 - 320

// Options control how [Load] turns an object file into a loaded program.
type Options struct {
	// Program names the program to run: its function name or its ELF section name (for example
	// "xdp.frags"). Empty means the only XDP program of the object; when there are several, Load
	// fails with an error listing them.
	Program string

	// Variables sets global variables before loading, typically the "const volatile" ones that
	// the verifier then treats as constants (but .data and .bss variables work too). A value is a
	// []byte of exactly the variable's size, or any Go integer (int, uint64, int32, ...), which
	// is written in the host's byte order at the variable's size and must fit in it.
	Variables map[string]any

	// MapSizes sets max_entries of maps by name, for maps declared with max_entries 0 (any map
	// may be resized).
	MapSizes map[string]uint32

	// HostSetup configures the network namespace the program's test runs see: each entry is a
	// command (["ip", "route", "add", ...], ["sysctl", "-w", ...]) run inside that namespace.
	// With any, the program gets a namespace of its own; without, it shares the package's bare
	// one (only a loopback device, nothing forwarded).
	HostSetup [][]string

	// OwnNamespace gives the program a network namespace of its own even without HostSetup, so
	// that state kept per namespace (the conntrack table) starts empty and stays its own.
	OwnNamespace bool
}

// Context is the part of the xdp_md context a caller chooses for [Program.Run].
type Context struct {
	// IngressIfindex is the interface the packet arrives on, in the caller's network namespace;
	// 0 means 1 (the loopback device, as the kernel's own default).
	IngressIfindex uint32
	// RxQueue is the receive queue index; it must exist on the interface (loopback has only 0).
	RxQueue uint32
	// CPU is the CPU the program runs on (the calling thread is pinned to it for the run).
	CPU int
}

// ifindex is the ingress interface with the default applied.
func (c Context) ifindex() uint32 {
	if c.IngressIfindex == 0 {
		return 1
	}
	return c.IngressIfindex
}

// VethOptions control [RunOnVeth].
type VethOptions struct {
	// Maps names the maps to dump after all packets went through; nil dumps every map that
	// [Program.DumpMaps] would.
	Maps []string

	// Preload is written into the maps before the program is attached, as by [Program.LoadMaps].
	Preload result.Maps

	// Timeout bounds the wait for the program to see each packet; 0 means five seconds (a
	// loaded machine can take over a second to deliver a frame through the veth pair).
	Timeout time.Duration

	// MTU of both veth ends; 0 means large enough for the longest packet (at least 1500).
	MTU int

	// TCX names tc programs of the same object to attach, in this order, to the tcx ingress
	// hook of the device the XDP program is attached to: the packets XDP passes reach them, as
	// on any device.
	TCX []string

	// Settle, when set, is asked after the last packet whether the maps (dumped as Maps says)
	// show that every program is done with the packets: the tc programs run after XDP, later
	// than the driver's counters move. RunOnVeth dumps the maps again until it says so, or
	// fails after Timeout.
	Settle func(result.Maps) bool
}

// VethResult is what [RunOnVeth] observed.
type VethResult struct {
	// Rets holds the program's return value for every injected packet, in order. The veth
	// driver's own counters tell XDP_PASS, XDP_DROP, XDP_TX and XDP_REDIRECT apart; a raw
	// tracepoint on xdp:xdp_exception adds XDP_ABORTED and illegal values (see VerdictNote when
	// that tracepoint is missing).
	Rets []uint32

	// Frames holds, for every injected packet, the frame the program left when it passed it
	// (read from a packet tap on its veth end) or sent it back (XDP_TX, read at the other end);
	// nil for other verdicts, and for a passed frame the stack drops before its taps (one that
	// says it has a VLAN tag but is too short to take it out). Metadata does not travel with it.
	Frames [][]byte

	// Verdicts counts Rets by result.VerdictName.
	Verdicts map[string]int

	// VerdictNote says what Rets cannot tell on this kernel, if anything.
	VerdictNote string

	// Maps is the dump of the selected maps after the last packet (see VethOptions.Maps).
	Maps result.Maps

	// Ifindex is the index of the veth end the program was bound to and attached to, inside the
	// private network namespace (useful to check ingress_ifindex recorded by the program).
	Ifindex int
}
