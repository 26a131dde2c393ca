package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// A small generic netlink client, enough to resolve a family and run one request: the package
// already speaks rtnetlink through golang.org/x/sys/unix (createVeth, netlinkDo), and one request
// of one family does not justify a netlink library and its dependencies.

// The netdev family (include/uapi/linux/netdev.h).
const (
	netdevCmdDevGet = 1 // NETDEV_CMD_DEV_GET

	netdevAttrIfindex               = 1 // NETDEV_A_DEV_IFINDEX
	netdevAttrXDPFeatures           = 3 // NETDEV_A_DEV_XDP_FEATURES
	netdevAttrXDPZCMaxSegs          = 4 // NETDEV_A_DEV_XDP_ZC_MAX_SEGS
	netdevAttrXDPRxMetadataFeatures = 5 // NETDEV_A_DEV_XDP_RX_METADATA_FEATURES
	netdevAttrXSKFeatures           = 6 // NETDEV_A_DEV_XSK_FEATURES
)

// genlSocket is a generic netlink socket bound in the calling thread's network namespace.
type genlSocket struct {
	fd  int
	seq uint32
}

func openGenl() (*genlSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &genlSocket{fd: fd}, nil
}

func (g *genlSocket) close() { unix.Close(g.fd) }

// request sends one generic netlink request (family, command, attributes) and returns the
// attributes of every reply message, or the error the kernel answered with.
func (g *genlSocket) request(family uint16, cmd uint8, attrs []byte) ([][]byte, error) {
	g.seq++
	msg := make([]byte, unix.NLMSG_HDRLEN+unix.GENL_HDRLEN, unix.NLMSG_HDRLEN+unix.GENL_HDRLEN+len(attrs))
	msg = append(msg, attrs...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], family)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], g.seq)
	msg[unix.NLMSG_HDRLEN] = cmd
	msg[unix.NLMSG_HDRLEN+1] = 1 // version
	if err := unix.Sendto(g.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var replies [][]byte
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(g.fd, buf, 0)
		if err != nil {
			return nil, err
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			typ := binary.NativeEndian.Uint16(b[4:])
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return nil, errors.New("malformed netlink reply")
			}
			switch {
			case typ == unix.NLMSG_ERROR:
				if l < unix.NLMSG_HDRLEN+4 {
					return nil, errors.New("short netlink error message")
				}
				if code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); code != 0 {
					return nil, unix.Errno(-code)
				}
				return replies, nil // the acknowledgement ends the exchange
			case typ == unix.NLMSG_DONE:
				return replies, nil
			case l >= unix.NLMSG_HDRLEN+unix.GENL_HDRLEN:
				replies = append(replies, append([]byte(nil), b[unix.NLMSG_HDRLEN+unix.GENL_HDRLEN:l]...))
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}

// parseAttrs splits netlink attributes into a map by type (nesting and byte-order flags masked).
func parseAttrs(b []byte) map[uint16][]byte {
	out := map[uint16][]byte{}
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		out[typ] = b[unix.SizeofRtAttr:l]
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}

// family resolves a generic netlink family's id by name (CTRL_CMD_GETFAMILY).
func (g *genlSocket) family(name string) (uint16, error) {
	replies, err := g.request(unix.GENL_ID_CTRL, unix.CTRL_CMD_GETFAMILY, attr(unix.CTRL_ATTR_FAMILY_NAME, cstr(name)))
	if err != nil {
		return 0, fmt.Errorf("generic netlink family %q: %w", name, err)
	}
	for _, r := range replies {
		if id, ok := parseAttrs(r)[unix.CTRL_ATTR_FAMILY_ID]; ok && len(id) >= 2 {
			return binary.NativeEndian.Uint16(id), nil
		}
	}
	return 0, fmt.Errorf("generic netlink family %q: no id in the reply", name)
}

// netdevGet runs the netdev family's dev-get for ifindex in the calling thread's namespace.
func netdevGet(ifindex int) (NetdevFeatures, error) {
	g, err := openGenl()
	if err != nil {
		return NetdevFeatures{}, err
	}
	defer g.close()
	fam, err := g.family("netdev")
	if err != nil {
		return NetdevFeatures{}, err
	}
	replies, err := g.request(fam, netdevCmdDevGet, attr(netdevAttrIfindex, u32(uint32(ifindex))))
	if err != nil {
		return NetdevFeatures{}, fmt.Errorf("netdev dev-get %d: %w", ifindex, err)
	}
	if len(replies) != 1 {
		return NetdevFeatures{}, fmt.Errorf("netdev dev-get %d: %d replies", ifindex, len(replies))
	}
	a := parseAttrs(replies[0])
	u64 := func(t uint16) uint64 {
		if v := a[t]; len(v) >= 8 {
			return binary.NativeEndian.Uint64(v)
		}
		return 0
	}
	f := NetdevFeatures{
		XDPFeatures:           u64(netdevAttrXDPFeatures),
		XDPRxMetadataFeatures: u64(netdevAttrXDPRxMetadataFeatures),
		XSKFeatures:           u64(netdevAttrXSKFeatures),
	}
	if v := a[netdevAttrIfindex]; len(v) >= 4 {
		f.Ifindex = binary.NativeEndian.Uint32(v)
	}
	if v := a[netdevAttrXDPZCMaxSegs]; len(v) >= 4 {
		f.XDPZCMaxSegs = binary.NativeEndian.Uint32(v)
	}
	return f, nil
}

// NetdevGet reads a device's features through the netdev generic netlink family, in the caller's
// network namespace.
func NetdevGet(ifindex int) (NetdevFeatures, error) {
	if err := Available(); err != nil {
		return NetdevFeatures{}, err
	}
	return netdevGet(ifindex)
}

// VethFeatures creates a veth pair as setup describes in a private network namespace, attaches the
// programs it asks for, and reads both ends' features through the netdev generic netlink family,
// their MTUs through rtnetlink and their queues through ethtool.
func VethFeatures(setup VethSetup) (VethReport, error) {
	if err := Available(); err != nil {
		return VethReport{}, err
	}
	type outcome struct {
		r   VethReport
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := inNetns(func() (VethReport, error) { return vethFeatures(setup) })
		done <- outcome{r, err}
	}()
	o := <-done
	return o.r, o.err
}

const (
	featEnd  = "xsveth0"
	featPeer = "xsveth1"
)

func vethFeatures(setup VethSetup) (VethReport, error) {
	var r VethReport
	if err := createVethPair(vethEnd{name: featEnd, mtu: setup.MTU, rxQueues: setup.RxQueues, txQueues: setup.TxQueues},
		vethEnd{name: featPeer, mtu: setup.MTU, rxQueues: setup.PeerRxQueues, txQueues: setup.PeerTxQueues}); err != nil {
		return r, fmt.Errorf("kernel: veth: create the pair: %w", err)
	}
	endIf, err := net.InterfaceByName(featEnd)
	if err != nil {
		return r, err
	}
	peerIf, err := net.InterfaceByName(featPeer)
	if err != nil {
		return r, err
	}
	for _, g := range []struct {
		on   bool
		name string
	}{{setup.GRO, featEnd}, {setup.PeerGRO, featPeer}} {
		if g.on {
			if err := setGRO(g.name); err != nil {
				return r, fmt.Errorf("kernel: veth: GRO on %s: %w", g.name, err)
			}
		}
	}
	for _, x := range []struct {
		on      bool
		ifindex int
	}{{setup.XDP, endIf.Index}, {setup.PeerXDP, peerIf.Index}} {
		if !x.on || r.AttachErr != nil {
			continue
		}
		l, err := attachPassXDP(x.ifindex, setup.Frags)
		if err != nil {
			r.AttachErr = err
			continue
		}
		defer l.Close()
	}
	for _, d := range []struct {
		f       *NetdevFeatures
		name    string
		ifindex int
	}{{&r.End, featEnd, endIf.Index}, {&r.Peer, featPeer, peerIf.Index}} {
		if *d.f, err = netdevGet(d.ifindex); err != nil {
			return r, err
		}
		st, err := getLink(d.ifindex)
		if err != nil {
			return r, fmt.Errorf("kernel: veth: RTM_GETLINK %d: %w", d.ifindex, err)
		}
		d.f.MTU, d.f.MinMTU, d.f.MaxMTU = st.MTU, st.MinMTU, st.MaxMTU
		if d.f.RxQueues, d.f.TxQueues, err = channels(d.name); err != nil {
			return r, fmt.Errorf("kernel: veth: ETHTOOL_GCHANNELS %s: %w", d.name, err)
		}
	}
	return r, nil
}

// ethtool passes one ethtool command (its struct in cmd) for the named interface.
func ethtool(ifname string, cmd []byte) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var ifr [40]byte // struct ifreq: the name, then a pointer to the command
	copy(ifr[:15], ifname)
	binary.NativeEndian.PutUint64(ifr[16:], uint64(uintptr(unsafe.Pointer(&cmd[0]))))
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr[0])))
	runtime.KeepAlive(cmd)
	if errno != 0 {
		return errno
	}
	return nil
}

// setGRO switches GRO on through the legacy ETHTOOL_SGRO.
func setGRO(ifname string) error {
	const ethtoolSGRO = 0x2c
	cmd := make([]byte, 8) // struct ethtool_value
	binary.NativeEndian.PutUint32(cmd[0:], ethtoolSGRO)
	binary.NativeEndian.PutUint32(cmd[4:], 1)
	return ethtool(ifname, cmd)
}

// channels reads the RX and TX queues in use (ETHTOOL_GCHANNELS: rx_count, tx_count).
func channels(ifname string) (rx, tx uint32, err error) {
	cmd := make([]byte, 9*4) // struct ethtool_channels
	binary.NativeEndian.PutUint32(cmd[0:], unix.ETHTOOL_GCHANNELS)
	if err := ethtool(ifname, cmd); err != nil {
		return 0, 0, err
	}
	return binary.NativeEndian.Uint32(cmd[5*4:]), binary.NativeEndian.Uint32(cmd[6*4:]), nil
}

// attachPassXDP attaches a program returning XDP_PASS in native mode, frags-aware if asked.
func attachPassXDP(ifindex int, frags bool) (link.Link, error) {
	var flags uint32
	if frags {
		flags = unix.BPF_F_XDP_HAS_FRAGS
	}
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Flags:        flags,
		Name:         "xdpsim_pass",
		Type:         ebpf.XDP,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
		License:      "GPL",
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return nil, err
	}
	defer prog.Close() // the link holds its own reference
	return link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: link.XDPDriverMode})
}

// LoopbackFeatures reads lo's features and MTU as a fresh network namespace has it.
func LoopbackFeatures() (NetdevFeatures, error) {
	if err := Available(); err != nil {
		return NetdevFeatures{}, err
	}
	type outcome struct {
		f   NetdevFeatures
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		f, err := inNetns(func() (NetdevFeatures, error) {
			f, err := netdevGet(1)
			if err != nil {
				return f, err
			}
			st, err := getLink(1)
			f.MTU, f.MinMTU, f.MaxMTU = st.MTU, st.MinMTU, st.MaxMTU
			return f, err
		})
		done <- outcome{f, err}
	}()
	o := <-done
	return o.f, o.err
}
