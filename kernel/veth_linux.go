//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/xdpsim/xdpsim/sim/result"
)

// Names of the veth ends inside the private network namespace.
const (
	vethProg   = "xdpsim0" // the end the program is bound and attached to
	vethInject = "xdpsim1" // the end packets are sent from
)

// RunOnVeth runs the program chosen by opts on real packets: in a private network namespace it
// creates a veth pair, loads the object with the program device-bound to one end
// (BPF_F_XDP_DEV_BOUND_ONLY, so the bpf_xdp_metadata_rx_* kfuncs work), attaches it in native
// (driver) mode, sends each packet from the other end with an AF_PACKET socket and waits until the
// program has run on it. It then returns the verdict of every packet and a dump of the maps,
// where the program can record what it saw.
//
// The namespace, the veth pair, the sockets, the links and the loaded objects are all gone when
// RunOnVeth returns, whatever happened. Packets travel as socket buffers, so the veth driver's
// hints describe an skb: see the measured table in the spec. Packets must be at least 14 bytes
// long (the socket would pad them otherwise), and a program without frags support cannot be
// attached when a packet needs an MTU above what the veth driver allows for it.
func RunOnVeth(path string, opts Options, pkts [][]byte, vopts VethOptions) (*VethResult, error) {
	return runOnVeth(path, opts, pkts, vopts, nil)
}

// vethHook lets tests look at the loaded program inside the namespace.
type vethHook func(p *Program) error

func runOnVeth(path string, opts Options, pkts [][]byte, vopts VethOptions, hook vethHook) (*VethResult, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("kernel: read %s: %w", path, err)
	}
	name, err := prepare(path, spec, opts)
	if err != nil {
		return nil, err
	}
	return runSpecOnVeth(path, spec, name, true, pkts, vopts, hook)
}

// runSpecOnVeth runs program name of spec on a veth pair; bind loads it device-bound to the veth
// end it is attached to.
func runSpecOnVeth(path string, spec *ebpf.CollectionSpec, name string, bind bool, pkts [][]byte, vopts VethOptions, hook vethHook) (*VethResult, error) {
	longest := 0
	for i, pkt := range pkts {
		if len(pkt) < MinPacket {
			return nil, fmt.Errorf("kernel: veth: packet %d has %d bytes, fewer than %d", i+1, len(pkt), MinPacket)
		}
		longest = max(longest, len(pkt))
	}
	mtu := vopts.MTU
	if mtu == 0 {
		mtu = max(1500, longest-14)
	}
	if longest-14 > mtu {
		return nil, fmt.Errorf("kernel: veth: a packet of %d bytes does not fit the MTU %d", longest, mtu)
	}
	timeout := vopts.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}

	return onPrivateNetns("veth", func() (*VethResult, error) {
		return vethRun(path, spec, name, bind, pkts, vopts, mtu, timeout, hook)
	})
}

// inNetns runs fn on a locked OS thread moved into a new, private network namespace, and moves the
// thread back afterwards. If the thread cannot be moved back, it stays locked, so that the Go
// runtime ends it with the goroutine instead of reusing it. The namespace disappears with its
// last user: the thread and the sockets fn opened and closed.
func inNetns[T any](fn func() (T, error)) (_ T, err error) {
	var zero T
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return zero, fmt.Errorf("kernel: veth: open the current network namespace: %w", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		runtime.UnlockOSThread()
		return zero, fmt.Errorf("kernel: veth: create a network namespace: %w", err)
	}
	defer func() {
		if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
			err = errors.Join(err, fmt.Errorf("kernel: veth: return to the original network namespace: %w", serr))
		} else {
			runtime.UnlockOSThread()
		}
		unix.Close(orig)
	}()
	return fn()
}

// vethRun does the work inside the private namespace.
func vethRun(path string, spec *ebpf.CollectionSpec, name string, bind bool, pkts [][]byte, vopts VethOptions, mtu int, timeout time.Duration, hook vethHook) (*VethResult, error) {
	// No IPv6 autoconfiguration: it would send packets through the program by itself.
	quietIPv6()
	if err := createVeth(vethProg, vethInject, mtu); err != nil {
		return nil, fmt.Errorf("kernel: veth: create the pair: %w", err)
	}
	progIf, err := net.InterfaceByName(vethProg)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: %w", err)
	}
	injectIf, err := net.InterfaceByName(vethInject)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: %w", err)
	}

	p := &Program{path: path, name: name, spec: spec}
	if bind {
		p.ifindex = uint32(progIf.Index)
	}
	if err := p.load(); err != nil {
		return nil, err
	}
	defer p.Close()
	if vopts.Preload != nil {
		if err := p.LoadMaps(vopts.Preload); err != nil {
			return nil, err
		}
	}
	if hook != nil {
		if err := hook(p); err != nil {
			return nil, err
		}
	}

	res := &VethResult{Ifindex: progIf.Index}
	exc, err := newExceptionCounter(p.prog)
	if err != nil {
		res.VerdictNote = "XDP_ABORTED cannot be told from XDP_DROP: no raw tracepoint on xdp_exception: " + firstLine(err.Error())
	} else {
		defer exc.close()
	}

	l, err := link.AttachXDP(link.XDPOptions{Program: p.prog, Interface: progIf.Index, Flags: link.XDPDriverMode})
	if err != nil {
		if errors.Is(err, unix.ERANGE) && !p.HasFrags() {
			hint := "use SEC(\"xdp.frags\")"
			if !bind {
				hint = "loaded without BPF_F_XDP_HAS_FRAGS"
			}
			return nil, fmt.Errorf("kernel: veth: attach %s in native mode to %s: the MTU %d is too large for a program without frags support (%s): %w", name, vethProg, mtu, hint, err)
		}
		return nil, fmt.Errorf("kernel: veth: attach %s in native mode to %s: %w", name, vethProg, err)
	}
	defer l.Close()
	for _, name := range vopts.TCX {
		tp := p.coll.Programs[name]
		if tp == nil {
			return nil, fmt.Errorf("kernel: veth: no tc program %q in %s", name, path)
		}
		tl, err := link.AttachTCX(link.TCXOptions{Interface: progIf.Index, Program: tp, Attach: ebpf.AttachTCXIngress})
		if err != nil {
			return nil, fmt.Errorf("kernel: veth: attach %s to the tcx ingress hook of %s: %w", name, vethProg, err)
		}
		defer tl.Close()
	}

	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: packet socket: %w", err)
	}
	defer unix.Close(fd)
	stats, err := newDriverStats(fd, vethProg)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: driver counters of %s: %w", vethProg, err)
	}
	// A frame sent before the kernel has activated the sending end is dropped by its "noop"
	// queueing discipline while the socket reports success: wait for the activation.
	if err := waitOperUp(injectIf.Index, linkUpTimeout); err != nil {
		return nil, fmt.Errorf("kernel: veth: %s: %w", vethInject, err)
	}
	// What the program passes arrives at its end's packet taps; what it sends back (XDP_TX)
	// arrives at the other end.
	passed, err := tapSocket(progIf.Index)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: packet socket on %s: %w", vethProg, err)
	}
	defer unix.Close(passed)
	returned, err := tapSocket(injectIf.Index)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: packet socket on %s: %w", vethInject, err)
	}
	defer unix.Close(returned)
	// A veth end takes frames its peer sends back with XDP_TX only when it runs NAPI itself,
	// which an XDP program gives it: attach one that passes everything to the stack.
	back, err := passEverything()
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: %w", err)
	}
	defer back.Close()
	lb, err := link.AttachXDP(link.XDPOptions{Program: back, Interface: injectIf.Index, Flags: link.XDPDriverMode})
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: attach a pass-through program to %s: %w", vethInject, err)
	}
	defer lb.Close()
	frame := make([]byte, 1<<17)

	for i, pkt := range pkts {
		before, err := stats.settled()
		if err != nil {
			return nil, fmt.Errorf("kernel: veth: %w", err)
		}
		var excBefore exceptionState
		if exc != nil {
			excBefore = exc.read()
		}
		drainTap(passed, frame)
		drainTap(returned, frame)
		if err := sendFrame(fd, injectIf.Index, pkt); err != nil {
			return nil, fmt.Errorf("kernel: veth: send packet %d through %s: %w", i+1, vethInject, err)
		}
		after, err := stats.waitRun(before["xdp_packets"]+1, timeout)
		if err != nil {
			return nil, fmt.Errorf("kernel: veth: packet %d: %w", i+1, err)
		}
		if n := after["xdp_packets"] - before["xdp_packets"]; n != 1 {
			return nil, fmt.Errorf("kernel: veth: the program ran %d times for packet %d", n, i+1)
		}
		ret := verdictFromCounters(before, after)
		if exc != nil {
			if e := exc.read(); e.count != excBefore.count {
				ret = e.act
			}
		}
		res.Rets = append(res.Rets, ret)
		// The driver delivers a passed frame to the taps in the same softirq that counted the
		// run, and the counters have settled since: what is not there within tapGrace is not
		// coming (the stack dropped it before the taps).
		var out []byte
		switch ret {
		case result.XDPPass:
			out, err = readTap(passed, frame, tapGrace)
		case result.XDPTX:
			out, err = readTap(returned, frame, tapGrace)
		}
		if err != nil {
			return nil, fmt.Errorf("kernel: veth: packet %d: the frame the program left: %w", i+1, err)
		}
		res.Frames = append(res.Frames, out)
	}
	res.Verdicts = map[string]int{}
	for _, r := range res.Rets {
		res.Verdicts[result.VerdictName(r)]++
	}
	deadline := time.Now().Add(timeout)
	for {
		res.Maps, err = dumpMaps(p.coll, vopts.Maps)
		if err != nil {
			return nil, err
		}
		if vopts.Settle == nil || vopts.Settle(res.Maps) {
			return res, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kernel: veth: the maps did not settle within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// passEverything loads a frags-aware XDP program that returns XDP_PASS.
func passEverything() (*ebpf.Program, error) {
	return ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name:         "xdpsim_pass",
		Type:         ebpf.XDP,
		Flags:        flagXDPHasFrags,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
		License:      "GPL",
	}, ebpf.ProgramOptions{LogDisabled: true})
}

// tapSocket opens a packet socket that receives every frame arriving at the device.
func tapSocket(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<22)
	// The stack takes a VLAN tag out of the frame before the taps see it; the auxiliary data
	// gives it back.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// drainTap throws away what the tap holds.
func drainTap(fd int, buf []byte) {
	for {
		if _, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT); err != nil {
			return
		}
	}
}

// tapGrace bounds the wait for a frame the program passed or sent back at a packet tap.
const tapGrace = 100 * time.Millisecond

// readTap returns the next frame that arrived at the tap's device (not one it sent), waiting up
// to timeout for it; nil when none came.
func readTap(fd int, buf []byte, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			return nil, err
		}
		var oob [64]byte
		n, oobn, _, from, err := unix.Recvmsg(fd, buf, oob[:], unix.MSG_DONTWAIT)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, err
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		return withVLANTag(buf[:n], oob[:oobn]), nil
	}
}

// withVLANTag is the frame a packet tap read, with the VLAN tag the stack took out of it (which
// the auxiliary data oob holds) back in its place.
func withVLANTag(frame, oob []byte) []byte {
	out := bytes.Clone(frame)
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return out
	}
	for _, m := range msgs {
		// struct tpacket_auxdata: status, len, snaplen (u32), mac, net, vlan_tci, vlan_tpid (u16).
		if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA || len(m.Data) < 20 {
			continue
		}
		status := binary.NativeEndian.Uint32(m.Data[0:])
		if status&unix.TP_STATUS_VLAN_VALID == 0 || len(out) < 12 {
			continue
		}
		tpid := uint16(0x8100)
		if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = binary.NativeEndian.Uint16(m.Data[18:])
		}
		tag := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tpid), binary.NativeEndian.Uint16(m.Data[16:]))
		out = slices.Concat(out[:12], tag, out[12:])
	}
	return out
}

// verdictFromCounters tells the program's return value from how the veth driver's counters for
// one packet moved: XDP_DROP (and XDP_ABORTED, and illegal values, which the xdp_exception
// tracepoint tells apart) count as xdp_drops, XDP_TX as xdp_tx (or xdp_tx_errors), XDP_REDIRECT as
// xdp_redirect (or drops when the redirect fails); XDP_PASS moves none of them.
func verdictFromCounters(before, after map[string]uint64) uint32 {
	moved := func(name string) bool { return after[name] != before[name] }
	switch {
	case moved("xdp_drops"):
		return result.XDPDrop
	case moved("xdp_tx"), moved("xdp_tx_errors"):
		return result.XDPTX
	case moved("xdp_redirect"), moved("drops"):
		return result.XDPRedirect
	}
	return result.XDPPass
}

// driverStats reads the veth driver's ethtool counters, summed over the receive queues and named
// without their "rx_queue_<n>_" prefix (xdp_packets, xdp_drops, xdp_tx, ...).
type driverStats struct {
	fd    int
	ifr   [40]byte // struct ifreq: the name, then a pointer
	names []string
}

// ethtoolIoctl passes one ethtool command for the interface named in s.ifr.
func (s *driverStats) ethtoolIoctl(cmd []byte) error {
	binary.NativeEndian.PutUint64(s.ifr[16:], uint64(uintptr(unsafe.Pointer(&cmd[0]))))
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&s.ifr[0])))
	runtime.KeepAlive(cmd)
	if errno != 0 {
		return errno
	}
	return nil
}

func newDriverStats(fd int, ifname string) (*driverStats, error) {
	s := &driverStats{fd: fd}
	copy(s.ifr[:15], ifname)
	const ethSSStats = 1 // ETH_SS_STATS
	info := make([]byte, 16+4)
	binary.NativeEndian.PutUint32(info[0:], unix.ETHTOOL_GSSET_INFO)
	binary.NativeEndian.PutUint64(info[8:], 1<<ethSSStats)
	if err := s.ethtoolIoctl(info); err != nil {
		return nil, fmt.Errorf("ETHTOOL_GSSET_INFO: %w", err)
	}
	n := int(binary.NativeEndian.Uint32(info[16:]))
	const strLen = 32 // ETH_GSTRING_LEN
	strs := make([]byte, 12+n*strLen)
	binary.NativeEndian.PutUint32(strs[0:], unix.ETHTOOL_GSTRINGS)
	binary.NativeEndian.PutUint32(strs[4:], ethSSStats)
	binary.NativeEndian.PutUint32(strs[8:], uint32(n))
	if err := s.ethtoolIoctl(strs); err != nil {
		return nil, fmt.Errorf("ETHTOOL_GSTRINGS: %w", err)
	}
	for i := range n {
		b := strs[12+i*strLen : 12+(i+1)*strLen]
		if j := bytes.IndexByte(b, 0); j >= 0 {
			b = b[:j]
		}
		name := string(b)
		// rx_queue_<n>_<counter>: keep the counter's name.
		if rest, ok := strings.CutPrefix(name, "rx_queue_"); ok {
			if _, after, ok := strings.Cut(rest, "_"); ok {
				name = after
			}
		} else {
			name = "other:" + name // device-wide and transmit counters are not used
		}
		s.names = append(s.names, name)
	}
	if !slices.Contains(s.names, "xdp_packets") || !slices.Contains(s.names, "xdp_drops") {
		return nil, fmt.Errorf("the driver has no per-queue XDP counters (it reports %d counters)", n)
	}
	return s, nil
}

func (s *driverStats) read() (map[string]uint64, error) {
	buf := make([]byte, 8+8*len(s.names))
	binary.NativeEndian.PutUint32(buf[0:], unix.ETHTOOL_GSTATS)
	binary.NativeEndian.PutUint32(buf[4:], uint32(len(s.names)))
	if err := s.ethtoolIoctl(buf); err != nil {
		return nil, fmt.Errorf("ETHTOOL_GSTATS: %w", err)
	}
	m := map[string]uint64{}
	for i, n := range s.names {
		m[n] += binary.NativeEndian.Uint64(buf[8+8*i:])
	}
	return m, nil
}

// settled reads the counters until two reads a millisecond apart agree: the driver adds some of
// them (xdp_tx) only when it flushes, after the run is counted.
func (s *driverStats) settled() (map[string]uint64, error) {
	prev, err := s.read()
	if err != nil {
		return nil, err
	}
	for range 100 {
		time.Sleep(time.Millisecond)
		cur, err := s.read()
		if err != nil {
			return nil, err
		}
		if maps.Equal(prev, cur) {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

// waitRun waits until the driver has counted n runs of the program, then lets the counters settle.
func (s *driverStats) waitRun(n uint64, timeout time.Duration) (map[string]uint64, error) {
	deadline := time.Now().Add(timeout)
	for {
		cur, err := s.read()
		if err != nil {
			return nil, err
		}
		if cur["xdp_packets"] >= n {
			return s.settled()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the program did not run on it within %v", timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// exceptionCounter is a raw tracepoint program on xdp:xdp_exception, which the veth driver fires
// for XDP_ABORTED, for illegal return values and for a failed XDP_TX: slot 0 of its array counts
// the events of one XDP program, slot 1 holds the last one's action. The tracepoint is
// system-wide, so the program compares the ID of the event's program (bpf_prog->aux->id, read
// with offsets from the kernel's BTF) with the one it watches: another XDP program's exception at
// the same moment (another test run's, say) is not taken for this one's.
type exceptionCounter struct {
	prog *ebpf.Program
	m    *ebpf.Map
	link link.Link
}

type exceptionState struct {
	count uint64
	act   uint32
}

func newExceptionCounter(watch *ebpf.Program) (_ *exceptionCounter, err error) {
	e := &exceptionCounter{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	info, err := watch.Info()
	if err != nil {
		return nil, err
	}
	id, ok := info.ID()
	if !ok {
		return nil, errors.New("the kernel does not say the program's ID")
	}
	auxOff, idOff, err := progIDOffsets()
	if err != nil {
		return nil, err
	}
	e.m, err = ebpf.NewMap(&ebpf.MapSpec{Name: "xdpsim_exc", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	if err != nil {
		return nil, err
	}
	insns := asm.Instructions{
		// xdp_exception(const struct net_device *dev, const struct bpf_prog *xdp, u32 act)
		asm.LoadMem(asm.R6, asm.R1, 16, asm.DWord),
		asm.LoadMem(asm.R7, asm.R1, 8, asm.DWord),
		// xdp->aux->id, through two reads of kernel memory.
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, -16),
		asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, int32(auxOff)),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R3, asm.R10, -16, asm.DWord),
		asm.Add.Imm(asm.R3, int32(idOff)),
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, -8),
		asm.Mov.Imm(asm.R2, 4),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R10, -8, asm.Word),
		asm.JNE.Imm32(asm.R1, int32(id), "out"),
		asm.StoreImm(asm.R10, -4, 1, asm.Word),
		asm.LoadMapPtr(asm.R1, e.m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreMem(asm.R0, 0, asm.R6, asm.DWord),
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, e.m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	e.prog, err = ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name:         "xdpsim_exc",
		Type:         ebpf.RawTracepoint,
		Instructions: insns,
		License:      "GPL",
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return nil, err
	}
	e.link, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: "xdp_exception", Program: e.prog})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// progIDOffsets finds, in the kernel's BTF, where struct bpf_prog keeps its aux pointer and where
// struct bpf_prog_aux keeps the program's ID.
func progIDOffsets() (aux, id uint32, err error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return 0, 0, err
	}
	member := func(strct, field string) (uint32, error) {
		var s *btf.Struct
		if err := spec.TypeByName(strct, &s); err != nil {
			return 0, err
		}
		for _, m := range s.Members {
			if m.Name == field {
				return m.Offset.Bytes(), nil
			}
		}
		return 0, fmt.Errorf("struct %s has no member %s", strct, field)
	}
	if aux, err = member("bpf_prog", "aux"); err != nil {
		return 0, 0, err
	}
	id, err = member("bpf_prog_aux", "id")
	return aux, id, err
}

// read returns the event count and the last action; a failed read looks like no new event.
func (e *exceptionCounter) read() exceptionState {
	var st exceptionState
	var act uint64
	_ = e.m.Lookup(uint32(0), &st.count)
	_ = e.m.Lookup(uint32(1), &act)
	st.act = uint32(act)
	return st
}

func (e *exceptionCounter) close() {
	if e.link != nil {
		e.link.Close()
	}
	if e.prog != nil {
		e.prog.Close()
	}
	if e.m != nil {
		e.m.Close()
	}
}

// createVeth creates a veth pair with the given MTU and brings both ends up, through rtnetlink in
// the calling thread's network namespace.
func createVeth(name, peer string, mtu int) error {
	return createVethPair(vethEnd{name: name, mtu: mtu}, vethEnd{name: peer, mtu: mtu})
}

// vethEnd is one end of a veth pair to create: its name, and its MTU and queue counts (0: the
// kernel's defaults).
type vethEnd struct {
	name                    string
	mtu, rxQueues, txQueues int
}

// createVethPair creates a veth pair and brings both ends up (the peer first), through rtnetlink
// in the calling thread's network namespace.
func createVethPair(end, peer vethEnd) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	attrs := func(e vethEnd) []byte {
		b := attr(unix.IFLA_IFNAME, cstr(e.name))
		for _, a := range []struct {
			typ uint16
			v   int
		}{{unix.IFLA_MTU, e.mtu}, {unix.IFLA_NUM_RX_QUEUES, e.rxQueues}, {unix.IFLA_NUM_TX_QUEUES, e.txQueues}} {
			if a.v > 0 {
				b = append(b, attr(a.typ, u32(uint32(a.v)))...)
			}
		}
		return b
	}
	// RTM_NEWLINK name, mtu, linkinfo{kind "veth", data{peer{ifinfomsg, name, mtu}}}
	peerInfo := append(ifinfomsg(0, 0, 0), attrs(peer)...)
	const vethInfoPeer = 1 // VETH_INFO_PEER
	linkInfo := append(attr(unix.IFLA_INFO_KIND, cstr("veth")),
		attr(unix.IFLA_INFO_DATA, attr(vethInfoPeer, peerInfo))...)
	body := append(ifinfomsg(0, 0, 0), attrs(end)...)
	body = append(body, attr(unix.IFLA_LINKINFO, linkInfo)...)
	if err := netlinkDo(s, unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body); err != nil {
		return fmt.Errorf("RTM_NEWLINK veth: %w", err)
	}
	for _, n := range []string{peer.name, end.name} {
		ifi, err := net.InterfaceByName(n)
		if err != nil {
			return err
		}
		if err := netlinkDo(s, unix.RTM_NEWLINK, 0, ifinfomsg(int32(ifi.Index), unix.IFF_UP, unix.IFF_UP)); err != nil {
			return fmt.Errorf("set %s up: %w", n, err)
		}
	}
	return nil
}

// netlinkDo sends one request and waits for its acknowledgement.
func netlinkDo(s int, typ uint16, flags uint16, body []byte) error {
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	msg = append(msg, body...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	binary.NativeEndian.PutUint32(msg[8:], 1) // sequence number
	if err := unix.Sendto(s, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(s, buf, 0)
		if err != nil {
			return err
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			typ := binary.NativeEndian.Uint16(b[4:])
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return errors.New("malformed netlink reply")
			}
			if typ == unix.NLMSG_ERROR {
				if l < unix.NLMSG_HDRLEN+4 {
					return errors.New("short netlink error message")
				}
				if code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); code != 0 {
					return unix.Errno(-code)
				}
				return nil
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}

func ifinfomsg(index int32, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

// attr encodes one netlink attribute, padded to 4 bytes.
func attr(typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b := make([]byte, (l+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], data)
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
