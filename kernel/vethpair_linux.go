//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// RunVethPair creates, in a private network namespace, a veth pair whose receiving end may move
// into a second private namespace, loads the object, attaches the programs, sends each frame out
// of the sending end with an AF_PACKET socket (the transmit path: tc egress, then veth_xmit, which
// hands the frame to the other end's receive path), waits until Done says the receiving end saw
// it, and returns the maps. Both namespaces and all they hold are gone when it returns.
func RunVethPair(v VethPair) (*VethPairResult, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if v.Timeout == 0 {
		v.Timeout = 5 * time.Second
	}
	return onPrivateNetns("veth pair", func() (*VethPairResult, error) { return runVethPair(v) })
}

func runVethPair(v VethPair) (_ *VethPairResult, err error) {
	quietIPv6()
	if err := createVeth(vethInject, vethProg, 1500); err != nil {
		return nil, fmt.Errorf("kernel: veth pair: %w", err)
	}
	nl, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	defer unix.Close(nl)
	if err := unix.Bind(nl, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	send, err := net.InterfaceByName(vethInject)
	if err != nil {
		return nil, err
	}
	recv, err := net.InterfaceByName(vethProg)
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		ifi *net.Interface
		mac net.HardwareAddr
	}{{send, v.SendMAC}, {recv, v.RecvMAC}} {
		if err := netlinkDo(nl, unix.RTM_NEWLINK, 0, append(ifinfomsg(int32(x.ifi.Index), 0, 0), attr(unix.IFLA_ADDRESS, x.mac)...)); err != nil {
			return nil, fmt.Errorf("kernel: veth pair: set %s's address: %w", x.ifi.Name, err)
		}
	}
	res := &VethPairResult{SendIfindex: send.Index, RecvIfindex: recv.Index}

	spec, err := ebpf.LoadCollectionSpec(v.Object)
	if err != nil {
		return nil, fmt.Errorf("kernel: read %s: %w", v.Object, err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return nil, fmt.Errorf("kernel: load %s: %w", v.Object, err)
	}
	defer coll.Close()
	if v.Preload != nil {
		if err := loadMaps(coll, v.Preload); err != nil {
			return nil, err
		}
	}
	attach := func(names []string, ifindex int, t ebpf.AttachType) ([]link.Link, error) {
		var ls []link.Link
		for _, n := range names {
			p := coll.Programs[n]
			if p == nil {
				return ls, fmt.Errorf("kernel: no program %q in %s", n, v.Object)
			}
			l, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: p, Attach: t})
			if err != nil {
				return ls, fmt.Errorf("kernel: attach %s: %w", n, err)
			}
			ls = append(ls, l)
		}
		return ls, nil
	}
	closeAll := func(ls []link.Link) {
		for _, l := range ls {
			l.Close()
		}
	}
	egress, err := attach(v.Egress, send.Index, ebpf.AttachTCXEgress)
	defer closeAll(egress)
	if err != nil {
		return nil, err
	}

	var ingress []link.Link
	if v.CrossNS {
		var ns int
		ingress, res.RecvIfindex, ns, err = moveAndAttach(nl, recv, func(ifindex int) ([]link.Link, error) {
			return attach(v.Ingress, ifindex, ebpf.AttachTCXIngress)
		})
		if ns > 0 {
			defer unix.Close(ns)
		}
		if err != nil {
			closeAll(ingress)
			return nil, err
		}
	} else if ingress, err = attach(v.Ingress, recv.Index, ebpf.AttachTCXIngress); err != nil {
		closeAll(ingress)
		return nil, err
	}
	defer closeAll(ingress)

	if err := waitRunning(vethInject, v.Timeout); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("kernel: veth pair: packet socket: %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: send.Index, Protocol: htons(unix.ETH_P_ALL)}
	for i, f := range v.Frames {
		if err := unix.Sendto(fd, f, 0, to); err != nil {
			return nil, fmt.Errorf("kernel: veth pair: send frame %d: %w", i+1, err)
		}
		deadline := time.Now().Add(v.Timeout)
		for {
			m, err := dumpMaps(coll, nil)
			if err != nil {
				return nil, err
			}
			if v.Done == nil || v.Done(m, i+1) {
				res.Maps = m
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("kernel: veth pair: frame %d did not arrive within %v", i+1, v.Timeout)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return res, nil
}

// quietIPv6 turns IPv6 off in the thread's network namespace, for the devices there and those that
// come: its autoconfiguration would send router solicitations and MLD reports of its own through
// the programs.
func quietIPv6() {
	for _, f := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
		_ = os.WriteFile(f, []byte("1"), 0)
	}
}

// moveAndAttach moves a device into a new network namespace, brings it up there and runs attach
// with its ifindex inside that namespace; the thread returns to the namespace it was in. It
// returns the new namespace's descriptor (0 when there is none), which keeps the namespace and
// its device alive until the caller closes it.
func moveAndAttach(nl int, dev *net.Interface, attach func(ifindex int) ([]link.Link, error)) (links []link.Link, ifindex, there int, err error) {
	here, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	defer unix.Close(here)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return nil, 0, 0, fmt.Errorf("kernel: second namespace: %w", err)
	}
	quietIPv6()
	there, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if serr := unix.Setns(here, unix.CLONE_NEWNET); serr != nil {
		return nil, 0, there, errors.Join(err, fmt.Errorf("kernel: return to the first namespace: %w", serr))
	}
	if err != nil {
		return nil, 0, 0, err
	}
	const iflaNetNSFD = 28 // IFLA_NET_NS_FD
	if err := netlinkDo(nl, unix.RTM_NEWLINK, 0, append(ifinfomsg(int32(dev.Index), 0, 0), attr(iflaNetNSFD, u32(uint32(there)))...)); err != nil {
		return nil, 0, there, fmt.Errorf("kernel: move %s: %w", dev.Name, err)
	}
	if err := unix.Setns(there, unix.CLONE_NEWNET); err != nil {
		return nil, 0, there, err
	}
	defer func() {
		if serr := unix.Setns(here, unix.CLONE_NEWNET); serr != nil {
			err = errors.Join(err, fmt.Errorf("kernel: return to the first namespace: %w", serr))
		}
	}()
	moved, err := net.InterfaceByName(dev.Name)
	if err != nil {
		return nil, 0, there, err
	}
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, 0, there, err
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, 0, there, err
	}
	if err := netlinkDo(s, unix.RTM_NEWLINK, 0, ifinfomsg(int32(moved.Index), unix.IFF_UP, unix.IFF_UP)); err != nil {
		return nil, 0, there, fmt.Errorf("kernel: set %s up: %w", dev.Name, err)
	}
	links, err = attach(moved.Index)
	if err == nil {
		err = waitRunning(dev.Name, 5*time.Second)
	}
	return links, moved.Index, there, err
}

// waitRunning waits until a device of the thread's namespace is up with its carrier on
// (IFF_RUNNING): a veth end whose peer just came up drops what it is given before.
func waitRunning(name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		if ifi.Flags&net.FlagRunning != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kernel: veth pair: %s is not running after %v", name, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}
