//go:build linux

package kernel

import (
	"encoding/binary"
	"net"
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

func TestParseLinkReadsTheQdiscAndTransmitDrops(t *testing.T) {
	stats := make([]byte, 8*24) // struct rtnl_link_stats64
	binary.NativeEndian.PutUint64(stats[7*8:], 3)
	for _, tc := range []struct {
		name    string
		msg     []byte
		want    linkState
		wantIdx int
		wantOK  bool
	}{
		{"a device before activation has the noop qdisc", newlink(7, attr(unix.IFLA_QDISC, cstr("noop"))), linkState{Qdisc: "noop"}, 7, true},
		{"an active veth has noqueue and its drops", newlink(2, attr(unix.IFLA_STATS64, stats), attr(unix.IFLA_QDISC, cstr("noqueue"))), linkState{Qdisc: "noqueue", TxDropped: 3}, 2, true},
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

// A new veth's sending end has the "noop" qdisc until the kernel's linkwatch work activates it,
// after which it has "noqueue". Under load that work waits for the RTNL lock, and a frame sent
// before is dropped (seen on 6.18 as kfree_skb with SKB_DROP_REASON_QDISC_DROP in
// __dev_queue_xmit) while the socket reports success: the veth tests then timed out.
func TestWaitQdiscSeesTheVethActivated(t *testing.T) {
	requireKernel(t)
	type seen struct {
		qdisc   string
		dropped uint64
		waited  time.Duration
	}
	var got seen
	_, err := inNetns(func() (*VethResult, error) {
		if err := createVeth("xdpsimA", "xdpsimB", 1500); err != nil {
			return nil, err
		}
		ifi, err := net.InterfaceByName("xdpsimB")
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if err := waitQdisc(ifi.Index, linkUpTimeout); err != nil {
			return nil, err
		}
		got.waited = time.Since(start)
		st, err := getLink(ifi.Index)
		got.qdisc, got.dropped = st.Qdisc, st.TxDropped
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.qdisc != "noqueue" || got.dropped != 0 {
		t.Errorf("qdisc %q with %d drops after the wait, want noqueue and none", got.qdisc, got.dropped)
	}
	t.Logf("the qdisc was active after %v", got.waited)
}

func TestGetLinkOfAMissingDeviceIsENODEV(t *testing.T) {
	requireKernel(t)
	_, err := getLink(1 << 30)
	if errnoName(err) != "ENODEV" {
		t.Errorf("got %v, want ENODEV", err)
	}
}
