//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
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
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("kernel: read %s: %w", path, err)
	}
	name, err := prepare(path, spec, opts)
	if err != nil {
		return nil, err
	}

	type outcome struct {
		res *VethResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if r := recover(); r != nil {
				o = outcome{nil, fmt.Errorf("kernel: veth: panic: %v", r)}
			}
			done <- o
		}()
		o.res, o.err = inNetns(func() (*VethResult, error) {
			return vethRun(path, spec, name, pkts, vopts, mtu, timeout, hook)
		})
	}()
	o := <-done
	return o.res, o.err
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
func vethRun(path string, spec *ebpf.CollectionSpec, name string, pkts [][]byte, vopts VethOptions, mtu int, timeout time.Duration, hook vethHook) (*VethResult, error) {
	// No IPv6 autoconfiguration: it would send packets through the program by itself.
	for _, f := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
		_ = os.WriteFile(f, []byte("1"), 0)
	}
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

	p := &Program{path: path, name: name, spec: spec, ifindex: uint32(progIf.Index)}
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
	exc, err := newExceptionCounter()
	if err != nil {
		res.VerdictNote = "XDP_ABORTED cannot be told from XDP_DROP: no raw tracepoint on xdp_exception: " + firstLine(err.Error())
	} else {
		defer exc.close()
	}

	l, err := link.AttachXDP(link.XDPOptions{Program: p.prog, Interface: progIf.Index, Flags: link.XDPDriverMode})
	if err != nil {
		if errors.Is(err, unix.ERANGE) && !p.HasFrags() {
			return nil, fmt.Errorf("kernel: veth: attach %s in native mode to %s: the MTU %d is too large for a program without frags support (use SEC(\"xdp.frags\")): %w", name, vethProg, mtu, err)
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
	to := &unix.SockaddrLinklayer{Ifindex: injectIf.Index, Protocol: htons(unix.ETH_P_ALL)}
	stats, err := newDriverStats(fd, vethProg)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth: driver counters of %s: %w", vethProg, err)
	}

	for i, pkt := range pkts {
		before, err := stats.settled()
		if err != nil {
			return nil, fmt.Errorf("kernel: veth: %w", err)
		}
		var excBefore exceptionState
		if exc != nil {
			excBefore = exc.read()
		}
		if err := unix.Sendto(fd, pkt, 0, to); err != nil {
			return nil, fmt.Errorf("kernel: veth: send packet %d: %w", i+1, err)
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
// the events, slot 1 holds the last one's action. The tracepoint is system-wide, so another XDP
// program's exception at the same moment would be taken for this one's.
type exceptionCounter struct {
	prog *ebpf.Program
	m    *ebpf.Map
	link link.Link
}

type exceptionState struct {
	count uint64
	act   uint32
}

func newExceptionCounter() (_ *exceptionCounter, err error) {
	e := &exceptionCounter{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	e.m, err = ebpf.NewMap(&ebpf.MapSpec{Name: "xdpsim_exc", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	if err != nil {
		return nil, err
	}
	insns := asm.Instructions{
		// xdp_exception(const struct net_device *dev, const struct bpf_prog *xdp, u32 act)
		asm.LoadMem(asm.R6, asm.R1, 16, asm.DWord),
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
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}

	// RTM_NEWLINK name, mtu, linkinfo{kind "veth", data{peer{ifinfomsg, name, mtu}}}
	peerInfo := append(ifinfomsg(0, 0, 0), attr(unix.IFLA_IFNAME, cstr(peer))...)
	peerInfo = append(peerInfo, attr(unix.IFLA_MTU, u32(uint32(mtu)))...)
	const vethInfoPeer = 1 // VETH_INFO_PEER
	linkInfo := append(attr(unix.IFLA_INFO_KIND, cstr("veth")),
		attr(unix.IFLA_INFO_DATA, attr(vethInfoPeer, peerInfo))...)
	body := append(ifinfomsg(0, 0, 0), attr(unix.IFLA_IFNAME, cstr(name))...)
	body = append(body, attr(unix.IFLA_MTU, u32(uint32(mtu)))...)
	body = append(body, attr(unix.IFLA_LINKINFO, linkInfo)...)
	if err := netlinkDo(s, unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body); err != nil {
		return fmt.Errorf("RTM_NEWLINK veth: %w", err)
	}
	for _, n := range []string{peer, name} {
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
