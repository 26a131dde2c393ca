package gentrace

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// The traces of the netkit setups (corpus/netkit): a few packets each, every one chosen to take
// one way through its setup. Addresses follow the setups' topology files: the NIC eth0 is
// 10.0.0.1/24 with MAC 02:00:00:00:00:01, its gateway 10.0.0.254 (02:00:00:00:00:fe); pods are
// 10.1.0.2 and 10.1.0.3.

var (
	nicMAC  = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	peerMAC = net.HardwareAddr{2, 0, 0, 0, 0, 0xfe} // the gateway, sending to eth0
	podMAC  = net.HardwareAddr{0, 0, 0, 0, 0, 0}    // what an L3 pod's stack writes (rebuilt anyway)
)

// NetkitTrace is one trace of a netkit setup.
type NetkitTrace struct {
	Name   string
	Frames [][]byte
	// Why says, per frame, the way it is meant to take.
	Why []string
}

func tcp(sport, dport uint16) l4 {
	return tcpSeg(&layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1, SYN: true, Window: 64240}, nil)
}

// NetkitTraces lists the traces of the netkit setups.
func NetkitTraces() []NetkitTrace {
	pod1, pod2 := ip4(10, 1, 0, 2), ip4(10, 1, 0, 3)
	out := ip4(203, 0, 113, 9)
	fromPod := func(src net.IP, dst net.IP, tos uint8, x l4) []byte {
		return frame4(podMAC, podMAC, v4{src: src, dst: dst, ttl: 64, tos: tos, id: 1, df: true}, x)
	}
	fromWire := func(dst net.IP, tos uint8, x l4) []byte {
		return frame4(peerMAC, nicMAC, v4{src: out, dst: dst, ttl: 60, tos: tos, id: 7, df: true}, x)
	}
	t := func(name string, pairs ...any) NetkitTrace {
		nt := NetkitTrace{Name: name}
		for i := 0; i < len(pairs); i += 2 {
			nt.Frames = append(nt.Frames, pairs[i].([]byte))
			nt.Why = append(nt.Why, pairs[i+1].(string))
		}
		return nt
	}
	payload := []byte("netkit!!")
	return []NetkitTrace{
		t("pod-egress.pod1.pcap",
			fromPod(pod1, ip4(8, 8, 8, 8), 0, udpDgram(40000, 53, payload)), "DNS out: pod_egress redirects it to eth0 through the neighbour table",
			fromPod(pod1, ip4(10, 0, 0, 5), 0, tcp(40001, 22)), "SSH: pod_egress drops it",
			fromPod(pod1, pod2, 0, tcp(40002, 80)), "HTTP to pod2: passed to the host, forwarded to nk1, admitted by pod_ingress",
			fromPod(pod1, ip4(10, 0, 0, 7), 0, icmp4(8, 0, 1, 1, payload)), "ping on eth0's subnet: redirected to eth0, the neighbour is 10.0.0.7",
			fromPod(pod1, pod2, 0, tcp(40003, 5432)), "PostgreSQL to pod2: pod_ingress drops it on nk1",
		),
		t("pod-egress.wire.pcap",
			fromWire(pod1, 0x10, tcp(50000, 80)), "HTTP to pod1, TOS low delay: marked by host_mark, forwarded (priority 6), scrubbed by nk0",
			fromWire(pod2, 0x10, tcp(50001, 80)), "HTTP to pod2: nk1 scrubs nothing (scrub none): the mark and priority reach pod_ingress",
			fromWire(pod1, 0, udpDgram(50002, 9999, payload)), "UDP to pod1: pod_ingress drops it",
			fromWire(ip4(10, 0, 0, 1), 0, tcp(50003, 22)), "SSH to the host itself: delivered to the host's stack",
			frame4(peerMAC, net.HardwareAddr{2, 0, 0, 0, 0, 0x99}, v4{src: out, dst: pod1, ttl: 60, id: 8}, tcp(50004, 80)),
			"addressed to another MAC: the stack drops it (PACKET_OTHERHOST)",
		),
		t("l3-policy.pod.pcap",
			fromPod(pod1, ip4(10, 0, 0, 53), 0, udpDgram(41000, 53, payload)), "DNS: pod_count, then pod_allow passes it; forwarded out of eth0",
			fromPod(pod1, ip4(8, 8, 8, 8), 0, icmp4(8, 0, 2, 1, payload)), "ping: passed, forwarded through the gateway",
			fromPod(pod1, ip4(198, 51, 100, 25), 0, tcp(41001, 25)), "SMTP: pod_allow drops it",
			fromPod(pod1, ip4(198, 51, 100, 80), 0, tcp(41002, 8080)), "TCP 8080: both programs return NETKIT_NEXT, which passes despite the DROP policy",
			fromPod(pod1, ip4(10, 0, 0, 53), 0, udpDgram(41003, 123, payload)), "NTP: NETKIT_NEXT, passed",
		),
		t("l3-policy.wire.pcap",
			fromWire(pod1, 0, tcp(51000, 443)), "HTTPS to the pod: no program on the primary, its NETKIT_DROP policy drops it",
			fromWire(ip4(10, 0, 0, 1), 0, icmp4(8, 0, 3, 1, payload)), "ping to the host: delivered",
		),
	}
}

// WriteNetkit writes the netkit traces into dir, the packets 1 ms apart from Start.
func WriteNetkit(dir string) error {
	for _, t := range NetkitTraces() {
		data, err := t.Pcap()
		if err != nil {
			return err
		}
		if err := writeTrace(dir, t.Name, data); err != nil {
			return err
		}
	}
	return nil
}

// Pcap renders the trace (Ethernet, nanosecond timestamps, 1 ms apart from Start).
func (t NetkitTrace) Pcap() ([]byte, error) {
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(SnapLen, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	for i, f := range t.Frames {
		ci := gopacket.CaptureInfo{Timestamp: Start.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return buf.Bytes(), nil
}
