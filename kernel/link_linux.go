//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// linkUpTimeout bounds the wait for a new device to become operational. The kernel activates
// the transmit queues of a veth end whose peer comes up from its linkwatch work, which needs the
// RTNL lock: while other network namespaces are being torn down (every veth run ends one), that
// work can wait for seconds on a loaded machine.
const linkUpTimeout = time.Minute

// ifOperUp is IF_OPER_UP, the operational state linkwatch gives a device with a carrier.
const ifOperUp = 6

// linkState is what RTM_GETLINK reports about a device that matters for sending through it.
type linkState struct {
	// OperState is the RFC 2863 operational state (IF_OPER_*). Linkwatch sets it to up, then
	// activates the transmit queues (until then they hold the "noop" qdisc, which drops every
	// frame while the sending socket sees success), then announces the device: a notification
	// that says up comes after the activation.
	OperState uint8
	// Qdisc is the kind of the root queueing discipline. It is no sign of activation: a veth end
	// brought up before its peer has "noqueue" here while its queues still drop.
	Qdisc string
	// RxPackets and TxDropped count frames received, and dropped on transmit (by the noop
	// qdisc among others).
	RxPackets, TxDropped uint64
	// MTU, MinMTU and MaxMTU are the MTU and its limits (IFLA_MTU, IFLA_MIN_MTU, IFLA_MAX_MTU).
	MTU, MinMTU, MaxMTU uint32
}

// getLink asks rtnetlink, in the calling thread's network namespace, for the state of a device.
func getLink(ifindex int) (linkState, error) {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return linkState{}, err
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return linkState{}, err
	}
	body := ifinfomsg(int32(ifindex), 0, 0)
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	msg = append(msg, body...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], unix.RTM_GETLINK)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	if err := unix.Sendto(s, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return linkState{}, err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(s, buf, 0)
		if err != nil {
			return linkState{}, err
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return linkState{}, errors.New("malformed netlink reply")
			}
			switch binary.NativeEndian.Uint16(b[4:]) {
			case unix.NLMSG_ERROR:
				if l >= unix.NLMSG_HDRLEN+4 {
					if code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); code != 0 {
						return linkState{}, unix.Errno(-code)
					}
				}
				return linkState{}, errors.New("RTM_GETLINK: acknowledged without an answer")
			case unix.RTM_NEWLINK:
				if idx, st, ok := parseLink(b[:l]); ok && idx == ifindex {
					return st, nil
				}
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}

// parseLink reads the device index, root qdisc, transmit drops and MTUs from an RTM_NEWLINK
// message.
func parseLink(msg []byte) (ifindex int, st linkState, ok bool) {
	if len(msg) < unix.NLMSG_HDRLEN+unix.SizeofIfInfomsg {
		return 0, st, false
	}
	ifindex = int(int32(binary.NativeEndian.Uint32(msg[unix.NLMSG_HDRLEN+4:])))
	for a := msg[unix.NLMSG_HDRLEN+unix.SizeofIfInfomsg:]; len(a) >= unix.SizeofRtAttr; {
		l := int(binary.NativeEndian.Uint16(a[0:]))
		if l < unix.SizeofRtAttr || l > len(a) {
			break
		}
		data := a[unix.SizeofRtAttr:l]
		switch binary.NativeEndian.Uint16(a[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER) {
		case unix.IFLA_OPERSTATE:
			if len(data) >= 1 {
				st.OperState = data[0]
			}
		case unix.IFLA_QDISC:
			st.Qdisc = cString(data)
		case unix.IFLA_MTU:
			st.MTU = attrU32(data)
		case unix.IFLA_MIN_MTU:
			st.MinMTU = attrU32(data)
		case unix.IFLA_MAX_MTU:
			st.MaxMTU = attrU32(data)
		case unix.IFLA_STATS64:
			// struct rtnl_link_stats64: rx/tx packets, rx/tx bytes, rx/tx errors, rx/tx dropped.
			if len(data) >= 8*8 {
				st.RxPackets = binary.NativeEndian.Uint64(data[0:])
				st.TxDropped = binary.NativeEndian.Uint64(data[7*8:])
			}
		}
		a = a[min((l+3)&^3, len(a)):]
	}
	return ifindex, st, true
}

// attrU32 reads a u32 attribute (0 when it is short).
func attrU32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.NativeEndian.Uint32(b)
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// waitOperUp waits until the device is operational: until the kernel's linkwatch work has
// activated its transmit queues, so that frames sent through it reach the driver. It listens for
// the link notifications rtnetlink sends when the device's state changes, so it returns as soon
// as the device is ready.
func waitOperUp(ifindex int, timeout time.Duration) error {
	w, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(w)
	// Subscribe first, then look: a change after the look is then never missed.
	if err := unix.Bind(w, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		return err
	}
	st, err := getLink(ifindex)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 1<<16)
	for st.OperState != ifOperUp {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("not operational after %v (operstate %d): the kernel's linkwatch work did not activate it", timeout, st.OperState)
		}
		fds := []unix.PollFd{{Fd: int32(w), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(min(left, time.Second)/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			continue
		}
		n, _, err := unix.Recvfrom(w, buf, unix.MSG_DONTWAIT)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ENOBUFS) {
				// Notifications were lost: ask again.
				if st, err = getLink(ifindex); err != nil {
					return err
				}
				continue
			}
			return err
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				break
			}
			if binary.NativeEndian.Uint16(b[4:]) == unix.RTM_NEWLINK {
				if idx, s, ok := parseLink(b[:l]); ok && idx == ifindex {
					st = s
				}
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
	return nil
}

// sendFrame sends pkt through the AF_PACKET socket fd to the device ifindex and makes sure the
// device took it: a frame its queues drop (a sign that they were not active yet, the send
// returning success all the same) is sent again once the device is operational, up to three
// times. A dropped frame never reached the driver, so sending it again changes nothing the
// program sees.
func sendFrame(fd, ifindex int, pkt []byte) error {
	to := &unix.SockaddrLinklayer{Ifindex: ifindex, Protocol: htons(unix.ETH_P_ALL)}
	for try := 1; ; try++ {
		before, err := getLink(ifindex)
		if err != nil {
			return err
		}
		if err := unix.Sendto(fd, pkt, 0, to); err != nil {
			return err
		}
		after, err := getLink(ifindex)
		if err != nil {
			return err
		}
		if after.TxDropped == before.TxDropped {
			return nil
		}
		if try == 3 {
			return fmt.Errorf("the device dropped the frame %d times (operstate %d)", try, after.OperState)
		}
		if err := waitOperUp(ifindex, linkUpTimeout); err != nil {
			return err
		}
	}
}
