//go:build linux

package kernel

import (
	"encoding/binary"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newlink builds an RTM_NEWLINK message for ifindex with the given attributes.
func newlink(ifindex int32, attrs ...[]byte) []byte {
	body := ifinfomsg(ifindex, 0, 0)
	for _, a := range attrs {
		body = append(body, a...)
	}
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	msg = append(msg, body...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], unix.RTM_NEWLINK)
	return msg
}

func TestParseLinkReadsTheStateAndCounters(t *testing.T) {
	stats := make([]byte, 8*24) // struct rtnl_link_stats64
	binary.NativeEndian.PutUint64(stats[0:], 9)
	binary.NativeEndian.PutUint64(stats[7*8:], 3)
	for _, tc := range []struct {
		name    string
		msg     []byte
		want    linkState
		wantIdx int
		wantOK  bool
	}{
		{"a new device has the noop qdisc", newlink(7, attr(unix.IFLA_QDISC, cstr("noop"))), linkState{Qdisc: "noop"}, 7, true},
		{"an active veth is up, with noqueue and its counters", newlink(2, attr(unix.IFLA_STATS64, stats), attr(unix.IFLA_OPERSTATE, []byte{6}), attr(unix.IFLA_QDISC, cstr("noqueue"))),
			linkState{OperState: 6, Qdisc: "noqueue", RxPackets: 9, TxDropped: 3}, 2, true},
		{"a message without attributes says nothing", newlink(5), linkState{}, 5, true},
		{"a truncated message is not read", newlink(5)[:unix.NLMSG_HDRLEN+8], linkState{}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, st, ok := parseLink(tc.msg)
			if ok != tc.wantOK || (ok && (idx != tc.wantIdx || st != tc.want)) {
				t.Errorf("got %d %+v %v, want %d %+v %v", idx, st, ok, tc.wantIdx, tc.want, tc.wantOK)
			}
		})
	}
}

// setLinkUp brings a device up or down.
func setLinkUp(t *testing.T, name string, up bool) {
	t.Helper()
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	flags := uint32(0)
	if up {
		flags = unix.IFF_UP
	}
	if err := netlinkDo(s, unix.RTM_NEWLINK, 0, ifinfomsg(int32(ifi.Index), flags, unix.IFF_UP)); err != nil {
		t.Fatal(err)
	}
}

// Measured on 6.18: a veth end whose transmit queues the kernel has not activated (here: its peer
// is down, so it has no carrier) reports the root qdisc "noqueue", yet drops every frame sent
// through it, and the packet socket reports success. Linkwatch activates the queues when the
// device gets its carrier, and says so with the operational state up. Under load that work waits
// for the RTNL lock, and the veth tests' first frame went the same way (kfree_skb with
// SKB_DROP_REASON_QDISC_DROP in __dev_queue_xmit): they then timed out.
func TestFramesSentBeforeActivationAreDroppedSilently(t *testing.T) {
	requireKernel(t)
	type step struct {
		st      linkState
		dropped uint64 // by the send
		sendErr error
		waitErr error
	}
	var down, up step
	var rxBefore uint64
	_, err := inNetns(func() (*VethResult, error) {
		// No IPv6 autoconfiguration: its own frames would be dropped too.
		for _, f := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
			_ = os.WriteFile(f, []byte("1"), 0)
		}
		if err := createVeth("xdpsimA", "xdpsimB", 1500); err != nil {
			return nil, err
		}
		setLinkUp(t, "xdpsimA", false)
		ifB, _ := net.InterfaceByName("xdpsimB")
		ifA, _ := net.InterfaceByName("xdpsimA")
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: ifB.Index, Protocol: htons(unix.ETH_P_ALL)}
		down.waitErr = waitOperUp(ifB.Index, 100*time.Millisecond)
		before, err := getLink(ifB.Index)
		if err != nil {
			return nil, err
		}
		down.sendErr = unix.Sendto(fd, udp4(), 0, to)
		if down.st, err = getLink(ifB.Index); err != nil {
			return nil, err
		}
		down.dropped = down.st.TxDropped - before.TxDropped
		setLinkUp(t, "xdpsimA", true)
		up.waitErr = waitOperUp(ifB.Index, linkUpTimeout)
		a, err := getLink(ifA.Index)
		if err != nil {
			return nil, err
		}
		rxBefore = a.RxPackets
		if before, err = getLink(ifB.Index); err != nil {
			return nil, err
		}
		up.sendErr = sendFrame(fd, ifB.Index, udp4())
		if up.st, err = getLink(ifB.Index); err != nil {
			return nil, err
		}
		up.dropped = up.st.TxDropped - before.TxDropped
		// The frame reached the other end.
		for range 1000 {
			if a, err = getLink(ifA.Index); err != nil || a.RxPackets > rxBefore {
				break
			}
			time.Sleep(time.Millisecond)
		}
		rxBefore = a.RxPackets - rxBefore
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("without a carrier the qdisc says noqueue, the send succeeds and the frame is dropped", func(t *testing.T) {
		if down.st.Qdisc != "noqueue" || down.sendErr != nil || down.dropped != 1 || down.st.OperState == ifOperUp {
			t.Errorf("%+v, send error %v", down.st, down.sendErr)
		}
	})
	t.Run("waiting for the operational state says why it gives up", func(t *testing.T) {
		if down.waitErr == nil || !strings.Contains(down.waitErr.Error(), "not operational after 100ms") {
			t.Errorf("got %v", down.waitErr)
		}
	})
	t.Run("once the peer is up, the wait returns and the frame arrives", func(t *testing.T) {
		if up.waitErr != nil || up.sendErr != nil || up.dropped != 0 || up.st.OperState != ifOperUp || rxBefore != 1 {
			t.Errorf("%+v, wait %v, send %v, %d frames received", up.st, up.waitErr, up.sendErr, rxBefore)
		}
	})
}

func TestGetLinkOfAMissingDeviceIsENODEV(t *testing.T) {
	requireKernel(t)
	_, err := getLink(1 << 30)
	if errnoName(err) != "ENODEV" {
		t.Errorf("got %v, want ENODEV", err)
	}
}
