package sim_test

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
)

// The expected values of these tests come from the kernel's source (Linux 6.18: net/core/dev.c,
// net/core/filter.c, net/core/skbuff.c, drivers/net/netkit.c, drivers/net/veth.c,
// net/ipv4/ip_forward.c), named in each case: the machine package kernel's tests run on has no
// netkit, so these paths cannot be measured there.

// probes loads testdata/netkit_probe.o: probe0..probe2 and setter (SCHED_CLS), xdp_probe.
type probes struct {
	t   *testing.T
	obj *sim.Object
}

func loadProbes(t *testing.T) *probes {
	t.Helper()
	o, err := sim.Load("testdata/netkit_probe.o", sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &probes{t, o}
}

func (p *probes) prog(name string) *sim.Program {
	p.t.Helper()
	pr, err := p.obj.FindProgram(name)
	if err != nil {
		p.t.Fatal(err)
	}
	return pr
}

// set writes cfg[k] = v.
func (p *probes) set(k uint32, v int64) {
	p.t.Helper()
	key, val := make([]byte, 4), make([]byte, 8)
	binary.LittleEndian.PutUint32(key, k)
	binary.LittleEndian.PutUint64(val, uint64(v))
	if err := p.obj.Maps["cfg"].Update(key, val, 0, 0); err != nil {
		p.t.Fatal(err)
	}
}

// Fields a probe records, at seen[probe*16 + field].
const (
	fRuns = iota
	fMark
	fPriority
	fIngressIfindex
	fIfindex
	fPktType
	fProtocol
	fLen
	fTstamp
	fLinear
)

func (p *probes) seen(probe, field uint32) uint64 {
	p.t.Helper()
	key := make([]byte, 4)
	binary.LittleEndian.PutUint32(key, probe*16+field)
	v, err := p.obj.Maps["seen"].Lookup(key, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(v)
}

var (
	nicMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	gwMAC  = net.HardwareAddr{2, 0, 0, 0, 0, 0xfe}
)

// podNet is a host with eth0 (ifindex 2, 10.0.0.1/24, gateway 10.0.0.254) and a netkit pair nk0
// (10, host) / nk0p (11, namespace pod, 10.1.0.2/32), forwarding between them.
type podNet struct {
	mode       device.NetkitMode
	policy     device.NetkitAction
	peerPolicy device.NetkitAction
	scrub      device.NetkitScrub
	sameNS     bool   // the peer stays in the host's namespace (without an address)
	podNeigh   string // L2: the host's neighbour entry for 10.1.0.2
}

func (c podNet) build(t *testing.T) *sim.Network {
	t.Helper()
	n := sim.NewNetwork()
	host := sim.NamespaceConfig{Name: "host", Forwarding: true,
		Routes:     []sim.HostRoute{{Dst: "0.0.0.0/0", Via: "10.0.0.254", Dev: "eth0"}, {Dst: "10.1.0.2/32", Dev: "nk0"}},
		Neighbours: []sim.HostNeigh{{IP: "10.0.0.254", MAC: gwMAC.String(), Dev: "eth0"}, {IP: "10.0.0.9", MAC: "02:00:00:00:00:09", Dev: "eth0"}}}
	if c.podNeigh != "" {
		host.Neighbours = append(host.Neighbours, sim.HostNeigh{IP: "10.1.0.2", MAC: c.podNeigh, Dev: "nk0"})
	}
	must(t, n.AddNamespace(host))
	peer := sim.DeviceConfig{Name: "nk0p", Ifindex: 11, Namespace: "pod", Addresses: []string{"10.1.0.2/32"}}
	if c.sameNS {
		peer.Namespace, peer.Addresses = "", nil
	} else {
		must(t, n.AddNamespace(sim.NamespaceConfig{Name: "pod", Routes: []sim.HostRoute{{Dst: "0.0.0.0/0", Dev: "nk0p"}},
			Neighbours: []sim.HostNeigh{{IP: "10.0.0.9", MAC: "02:00:00:00:00:a0", Dev: "nk0p"}}}))
	}
	must(t, n.AddNIC(sim.DeviceConfig{Name: "eth0", Ifindex: 2, MAC: nicMAC.String(), Addresses: []string{"10.0.0.1/24"}}, nil))
	cfg := device.DefaultNetkitConfig()
	cfg.Mode, cfg.Scrub = c.mode, c.scrub
	if c.policy != 0 || c.peerPolicy != 0 {
		cfg.Policy, cfg.PeerPolicy = c.policy, c.peerPolicy
	}
	primary := sim.DeviceConfig{Name: "nk0", Ifindex: 10}
	if c.mode == device.NetkitL2 {
		primary.MAC, peer.MAC = "02:00:00:00:00:b0", "02:00:00:00:00:b1"
	}
	must(t, n.AddNetkit(primary, peer, cfg))
	return n
}

func defaultPod() podNet {
	return podNet{mode: device.NetkitL3, policy: device.NetkitPass, peerPolicy: device.NetkitPass, scrub: device.NetkitScrubDefault}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ipv4 builds an Ethernet frame with a TCP SYN from src to dst.
func ipv4(srcMAC, dstMAC net.HardwareAddr, src, dst string, ttl, tos uint8, dport uint16) []byte {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: ttl, TOS: tos, Protocol: layers.IPProtocolTCP, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4(), Flags: layers.IPv4DontFragment}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(dport), SYN: true, Window: 1000}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// fromWire is a packet from the gateway to dst through eth0.
func fromWire(dst string, ttl, tos uint8) []byte {
	return ipv4(gwMAC, nicMAC, "203.0.113.9", dst, ttl, tos, 80)
}

// fromPod is a packet the pod's stack sends (its Ethernet header is rebuilt).
func fromPod(dst string) []byte {
	return ipv4(make(net.HardwareAddr, 6), make(net.HardwareAddr, 6), "10.1.0.2", dst, 64, 0, 443)
}

var (
	onEth0 = sim.Arrival{Device: "eth0"}
	inPod  = sim.Arrival{Namespace: "pod"}
)

func run(t *testing.T, n *sim.Network, pkt []byte, a sim.Arrival) sim.Outcome {
	t.Helper()
	o := n.Run(pkt, nil, sim.Conditions{}, a)
	if o.Network == nil {
		t.Fatalf("no path: %s", o.Err)
	}
	return o
}

func endOf(o sim.Outcome) string { return o.Network.End.Summary() }

// hook finds the first hop of a hook on a device.
func hook(o sim.Outcome, dev, name string) *sim.Hop {
	for i, h := range o.Network.Path {
		if h.Device == dev && h.Hook == name {
			return &o.Network.Path[i]
		}
	}
	return nil
}

func TestNetkitRunsTheTransmittingDevicesProgramsInMprogOrderWhileTheyReturnNext(t *testing.T) {
	// netkit_run: for each program of the transmitting device's active entry, ret = the
	// program's return value, and the loop ends at the first that is not NETKIT_NEXT.
	p := loadProbes(t)
	n := defaultPod().build(t)
	must(t, n.Attach("nk0", ebpf.AttachNetkitPeer, p.prog("probe1"), sim.MprogOptions{}))
	must(t, n.Attach("nk0", ebpf.AttachNetkitPeer, p.prog("probe0"), sim.MprogOptions{Flags: device.FlagBefore, Relative: p.prog("probe1")}))
	p.set(0, -1) // probe0: NETKIT_NEXT
	p.set(4, 0)  // probe1: NETKIT_PASS
	o := run(t, n, fromPod("10.0.0.9"), inPod)
	h := hook(o, "nk0p", "netkit")
	if h == nil || len(h.Programs) != 2 || h.Programs[0].Program != "probe0" || h.Programs[1].Program != "probe1" || h.Verdict != "NETKIT_PASS" {
		t.Fatalf("netkit hop %+v, want probe0 then probe1, NETKIT_PASS", h)
	}
	if endOf(o) != "sent out of eth0" {
		t.Errorf("end %q, want the host to forward the pod's packet out of eth0", endOf(o))
	}
	p.set(0, 2) // probe0: NETKIT_DROP ends the chain
	o = run(t, n, fromPod("10.0.0.9"), inPod)
	if h := hook(o, "nk0p", "netkit"); h == nil || len(h.Programs) != 1 || h.Verdict != "NETKIT_DROP" {
		t.Fatalf("netkit hop %+v, want probe0 alone, NETKIT_DROP", h)
	}
	if endOf(o) != "dropped at nk0p" || o.Network.End.Reason != "netkit: probe0 returned NETKIT_DROP" {
		t.Errorf("end %+v, want dropped at nk0p by probe0", o.Network.End)
	}
}

func TestNetkitsPolicyDecidesOnlyForADeviceWithoutPrograms(t *testing.T) {
	// netkit_xmit: ret starts as nk->policy and is replaced by netkit_run's result when the
	// device has an active entry; NEXT and PASS hand the packet to the peer, REDIRECT redirects,
	// NETKIT_DROP and every other value drop it.
	cases := []struct {
		name string
		ret  int64 // probe0's return value; 99: no program
		want string
	}{
		{"the DROP policy drops without programs", 99, "dropped at nk0p"},
		{"a program returning NETKIT_NEXT passes despite the DROP policy", -1, "sent out of eth0"},
		{"a program returning NETKIT_PASS passes", 0, "sent out of eth0"},
		{"TC_ACT_RECLASSIFY (1) is no netkit action: dropped", 1, "dropped at nk0p"},
		{"TC_ACT_STOLEN (4) is no netkit action: dropped", 4, "dropped at nk0p"},
		{"NETKIT_REDIRECT without a target is dropped", 7, "dropped at nk0p"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := loadProbes(t)
			pn := defaultPod()
			pn.peerPolicy = device.NetkitDrop
			n := pn.build(t)
			if c.ret != 99 {
				must(t, n.Attach("nk0", ebpf.AttachNetkitPeer, p.prog("probe0"), sim.MprogOptions{}))
				p.set(0, c.ret)
			}
			o := run(t, n, fromPod("10.0.0.9"), inPod)
			if endOf(o) != c.want {
				t.Errorf("end %q (%s), want %q", endOf(o), o.Network.End.Reason, c.want)
			}
		})
	}
}

func TestNetkitScrubsWhatCrossesNamespaces(t *testing.T) {
	// A packet from the wire to the pod: host_mark-like setter on eth0 marks it 0x42;
	// ip_forward gives it priority rt_tos2priority(0x10) = ip_tos2prio[8] = 6 and clears the
	// timestamp. netkit_prep_forward (6.18): skb_scrub_packet(skb, false) sets pkt_type
	// PACKET_HOST and skb_iif 0 but keeps the mark; across namespaces skb_clear_tstamp, and with
	// NETKIT_SCRUB_DEFAULT mark = priority = 0. skb->dev is the peer while the program runs.
	cases := []struct {
		name           string
		sameNS         bool
		scrub          device.NetkitScrub
		mark, priority uint64
	}{
		{"across namespaces, scrub default clears mark and priority", false, device.NetkitScrubDefault, 0, 0},
		{"across namespaces, scrub none keeps them", false, device.NetkitScrubNone, 0x42, 6},
		{"in one namespace, scrub default keeps them", true, device.NetkitScrubDefault, 0x42, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := loadProbes(t)
			pn := defaultPod()
			pn.sameNS, pn.scrub = c.sameNS, c.scrub
			n := pn.build(t)
			p.set(32, 0x42) // setter: mark
			p.set(33, 3)    // priority (ip_forward overwrites it)
			must(t, n.Attach("eth0", ebpf.AttachTCXIngress, p.prog("setter"), sim.MprogOptions{}))
			must(t, n.Attach("nk0", ebpf.AttachNetkitPrimary, p.prog("probe0"), sim.MprogOptions{}))
			p.set(0, 0)
			ttl := uint8(64)
			if c.sameNS {
				ttl = 2 // the peer hands it back to the host, which forwards it to nk0 again
			}
			o := run(t, n, fromWire("10.1.0.2", ttl, 0x10), onEth0)
			if got := p.seen(0, fMark); got != c.mark {
				t.Errorf("mark %#x at the netkit program, want %#x", got, c.mark)
			}
			if got := p.seen(0, fPriority); got != c.priority {
				t.Errorf("priority %d at the netkit program, want %d", got, c.priority)
			}
			if got := p.seen(0, fIngressIfindex); got != 0 {
				t.Errorf("ingress_ifindex %d, want 0 (skb_scrub_packet clears skb_iif)", got)
			}
			if got := p.seen(0, fIfindex); got != 11 {
				t.Errorf("ifindex %d, want 11: skb->dev is the peer while the programs run", got)
			}
			if got := p.seen(0, fPktType); got != 0 {
				t.Errorf("pkt_type %d, want PACKET_HOST: an L3 frame's all-zero destination is the peer's address", got)
			}
			if c.sameNS {
				if o.Network.End.Reason != "TTL exceeded (the kernel sends ICMP time exceeded; the simulator does not)" {
					t.Errorf("end %+v, want the TTL to end the loop through the host", o.Network.End)
				}
			} else if endOf(o) != "delivered to pod" {
				t.Errorf("end %q (%s), want delivered to pod", endOf(o), o.Network.End.Reason)
			}
		})
	}
}

func TestAnL2NetkitPeerTellsItsOwnAddressFromAnothers(t *testing.T) {
	// eth_skb_pkt_type(skb, peer) against the peer's address; ip_rcv drops PACKET_OTHERHOST.
	cases := []struct {
		name    string
		neigh   string
		pktType uint64
		end     string
	}{
		{"the peer's address is PACKET_HOST", "02:00:00:00:00:b1", 0, "delivered to pod"},
		{"another unicast address is PACKET_OTHERHOST", "02:00:00:00:00:c1", 3, "dropped at pod"},
		{"the broadcast address is PACKET_BROADCAST", "ff:ff:ff:ff:ff:ff", 1, "delivered to pod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := loadProbes(t)
			pn := defaultPod()
			pn.mode, pn.podNeigh = device.NetkitL2, c.neigh
			n := pn.build(t)
			must(t, n.Attach("nk0", ebpf.AttachNetkitPrimary, p.prog("probe0"), sim.MprogOptions{}))
			o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0)
			if got := p.seen(0, fPktType); got != c.pktType {
				t.Errorf("pkt_type %d, want %d", got, c.pktType)
			}
			if endOf(o) != c.end {
				t.Errorf("end %q (%s), want %q", endOf(o), o.Network.End.Reason, c.end)
			}
		})
	}
	// Without a neighbour entry an L2 device cannot send (IFF_NOARP is cleared in L2 mode).
	n := podNet{mode: device.NetkitL2, policy: device.NetkitPass, peerPolicy: device.NetkitPass, scrub: device.NetkitScrubDefault}.build(t)
	if o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0); !strings.HasPrefix(o.Network.End.Reason, "no neighbour entry for 10.1.0.2 on nk0") {
		t.Errorf("end %+v, want no neighbour", o.Network.End)
	}
}

func TestNetkitRedirectsFromThePeersNamespace(t *testing.T) {
	// skb_do_redirect looks the target up in dev_net(skb->dev), and netkit_xmit set skb->dev to
	// the peer: a peer program (the pod's egress) redirects within the host's namespace, a
	// primary program within the pod's. bpf_redirect_peer needs tc ingress.
	p := loadProbes(t)
	n := defaultPod().build(t)
	must(t, n.Attach("nk0", ebpf.AttachNetkitPeer, p.prog("probe0"), sim.MprogOptions{}))
	must(t, n.Attach("nk0", ebpf.AttachNetkitPrimary, p.prog("probe1"), sim.MprogOptions{}))
	p.set(1, 1) // probe0: bpf_redirect(2, 0)
	p.set(2, 2)
	o := run(t, n, fromPod("10.0.0.9"), inPod)
	if endOf(o) != "sent out of eth0" {
		t.Fatalf("end %q (%s), want the redirect to take it out of eth0", endOf(o), o.Network.End.Reason)
	}
	if f := o.Network.Frames[len(o.Network.Frames)-1]; f.Device != "eth0" || string(f.Data[:12]) != string(make([]byte, 12)) {
		t.Errorf("frame out of eth0 %x: an L3 netkit's frame keeps its all-zero addresses through bpf_redirect", f.Data[:14])
	}
	if hook(o, "eth0", "tc-egress") != nil || len(o.Network.Path) != 3 {
		t.Errorf("path %+v: route, netkit, eth0's transmit", o.Network.Path)
	}
	p.set(5, 1) // probe1 (primary, host to pod): bpf_redirect(2, 0) from the pod's namespace
	p.set(6, 2)
	o = run(t, n, fromWire("10.1.0.2", 64, 0), onEth0)
	if o.Network.End.Reason != "redirect: no device with ifindex 2 in namespace pod" {
		t.Errorf("end %+v, want no ifindex 2 in the pod's namespace", o.Network.End)
	}
	p.set(1, 2) // probe0: bpf_redirect_peer
	o = run(t, n, fromPod("10.0.0.9"), inPod)
	if o.Network.End.Reason != "bpf_redirect_peer outside tc ingress: skb_do_redirect drops the packet" {
		t.Errorf("end %+v, want redirect_peer refused outside tc ingress", o.Network.End)
	}
	p.set(1, 3) // probe0: bpf_redirect_neigh(2): the host's route and neighbour for 10.0.0.9
	o = run(t, n, fromPod("10.0.0.9"), inPod)
	f := o.Network.Frames[len(o.Network.Frames)-1]
	if endOf(o) != "sent out of eth0" || net.HardwareAddr(f.Data[:6]).String() != "02:00:00:00:00:09" || net.HardwareAddr(f.Data[6:12]).String() != nicMAC.String() {
		t.Errorf("end %q, frame %x: want out of eth0 to 10.0.0.9's MAC from eth0's", endOf(o), f.Data[:14])
	}
}

func TestRedirectPeerFromTCIngressEntersThePeerInItsNamespace(t *testing.T) {
	// bpf_redirect_peer: skb_do_redirect sets skb->dev to the peer, scrubs without xnet, and
	// __netif_receive_skb_core takes another round on the peer: its tc ingress hook runs with
	// skb_iif the peer's ifindex.
	p := loadProbes(t)
	n := defaultPod().build(t)
	must(t, n.Attach("eth0", ebpf.AttachTCXIngress, p.prog("probe0"), sim.MprogOptions{}))
	must(t, n.Attach("nk0p", ebpf.AttachTCXIngress, p.prog("probe1"), sim.MprogOptions{}))
	p.set(1, 2)  // probe0: bpf_redirect_peer(10)
	p.set(2, 10) //
	p.set(4, 0)  // probe1: TCX_PASS
	o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0)
	if endOf(o) != "delivered to pod" || hook(o, "eth0", "route") != nil {
		t.Fatalf("end %q, path %+v: want delivered to pod without the host's stack", endOf(o), o.Network.Path)
	}
	if got := p.seen(1, fIngressIfindex); got != 11 {
		t.Errorf("ingress_ifindex at nk0p's tc ingress %d, want 11", got)
	}
	if got := p.seen(1, fPktType); got != 0 {
		t.Errorf("pkt_type %d, want PACKET_HOST (the scrub's)", got)
	}
	p.set(2, 2) // to eth0's peer: a NIC has none
	if o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0); !strings.Contains(o.Network.End.Reason, "eth0 has no peer") {
		t.Errorf("end %+v, want eth0 to have no peer", o.Network.End)
	}
}

func TestXDPRedirectsIntoDevicesThatCanTakeFrames(t *testing.T) {
	// ndo_xdp_xmit: a NIC sends; veth_xdp_xmit needs the peer's NAPI (an XDP program on it),
	// else ENXIO; netkit has no ndo_xdp_xmit.
	build := func(t *testing.T, peerXDP bool) (*probes, *sim.Network) {
		p := loadProbes(t)
		n := defaultPod().build(t)
		must(t, n.AddVeth(sim.DeviceConfig{Name: "veth0", Ifindex: 20, MAC: "02:00:00:00:01:01"},
			sim.DeviceConfig{Name: "veth0p", Ifindex: 21, Namespace: "pod", MAC: "02:00:00:00:01:02", Addresses: []string{"10.1.0.9/32"}}))
		must(t, n.AttachXDP("eth0", device.Options{}, sim.Attachment{Program: p.prog("xdp_probe")}))
		if peerXDP {
			o2, err := sim.Load("testdata/netkit_probe.o", sim.LoadOptions{})
			must(t, err)
			x2, err := o2.FindProgram("xdp_probe")
			must(t, err)
			k, v := make([]byte, 4), make([]byte, 8)
			binary.LittleEndian.PutUint32(k, 40)
			binary.LittleEndian.PutUint64(v, 2) // XDP_PASS
			must(t, o2.Maps["cfg"].Update(k, v, 0, 0))
			must(t, n.AttachXDP("veth0p", device.Options{}, sim.Attachment{Program: x2}))
		}
		return p, n
	}
	p, n := build(t, false)
	p.set(41, 20)
	if o := run(t, n, fromWire("10.1.0.9", 64, 0), onEth0); !strings.Contains(o.Network.End.Reason, "veth_xdp_xmit fails with ENXIO") {
		t.Errorf("end %+v, want ENXIO without the peer's NAPI", o.Network.End)
	}
	p.set(41, 10)
	if o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0); !strings.Contains(o.Network.End.Reason, "netkit has no ndo_xdp_xmit") {
		t.Errorf("end %+v, want netkit to refuse the frame", o.Network.End)
	}
	p, n = build(t, true)
	p.set(41, 20)
	o := run(t, n, ipv4(gwMAC, net.HardwareAddr{2, 0, 0, 0, 1, 2}, "203.0.113.9", "10.1.0.9", 64, 0, 80), onEth0)
	if endOf(o) != "delivered to pod" || hook(o, "veth0p", "xdp") == nil {
		t.Errorf("end %q, path %+v: want veth0p's XDP to pass it into the pod", endOf(o), o.Network.Path)
	}
}

func TestTheHopBoundStopsAPacketThatLoopsThroughAReceiveQueue(t *testing.T) {
	// bpf_redirect(eth0, BPF_F_INGRESS) at eth0's tc ingress: __bpf_rx_skb queues it to eth0's
	// backlog, whose receive runs the hook again: the kernel never ends this loop. With a bound
	// of 10 steps, the frame's arrival from the wire is the first and each receive one more: the
	// hook runs 9 times.
	p := loadProbes(t)
	n := defaultPod().build(t)
	n.MaxHops = 10
	must(t, n.Attach("eth0", ebpf.AttachTCXIngress, p.prog("probe0"), sim.MprogOptions{}))
	p.set(1, 1)
	p.set(2, 2)
	p.set(3, 1) // BPF_F_INGRESS
	o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0)
	if o.Network.End.Kind != "loop" || p.seen(0, fRuns) != 9 {
		t.Errorf("end %+v after %d runs, want the bound of 10 steps to stop it after 9", o.Network.End, p.seen(0, fRuns))
	}
}

func TestNestedTransmitsStopAtTheRecursionLimit(t *testing.T) {
	// bpf_redirect(eth0, 0) at eth0's tc egress: each __bpf_tx_skb nests a dev_queue_xmit, and
	// dev_xmit_recursion() refuses the tenth (the counter is above XMIT_RECURSION_LIMIT, 8).
	p := loadProbes(t)
	n := defaultPod().build(t)
	must(t, n.Attach("eth0", ebpf.AttachTCXEgress, p.prog("probe0"), sim.MprogOptions{}))
	p.set(1, 1)
	p.set(2, 2)
	o := run(t, n, ipv4(nicMAC, gwMAC, "10.0.0.1", "10.0.0.9", 64, 0, 80), sim.Arrival{Namespace: "host"})
	if o.Network.End.Reason != "bpf: recursion limit reached on datapath" || p.seen(0, fRuns) != 10 {
		t.Errorf("end %+v after %d runs, want the recursion limit after 10", o.Network.End, p.seen(0, fRuns))
	}
}

func TestForwardingDecrementsTheTTLAndKeepsTheChecksumRight(t *testing.T) {
	// ip_forward: TTL <= 1 is dropped (ICMP time exceeded); else ip_decrease_ttl with an
	// incremental checksum update.
	n := defaultPod().build(t)
	o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0)
	f := o.Network.Frames[len(o.Network.Frames)-1]
	if f.Kind != "delivered" || f.Namespace != "pod" {
		t.Fatalf("last frame %+v, want delivered to pod", f)
	}
	ip := f.Data[14:34]
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if ip[8] != 63 || sum != 0xffff {
		t.Errorf("TTL %d, checksum sum %#x: want 63 and a valid checksum", ip[8], sum)
	}
	if o := run(t, n, fromWire("10.1.0.2", 1, 0), onEth0); !strings.HasPrefix(o.Network.End.Reason, "TTL exceeded") {
		t.Errorf("end %+v, want TTL 1 dropped", o.Network.End)
	}
}

func TestAttachingToANetworkAnswersAsTheKernelDoes(t *testing.T) {
	p := loadProbes(t)
	n := defaultPod().build(t)
	cases := []struct {
		name string
		err  error
	}{
		{"a netkit program through the peer is refused", n.Attach("nk0p", ebpf.AttachNetkitPeer, p.prog("probe0"), sim.MprogOptions{})},
		{"a netkit program on a NIC is refused", n.Attach("eth0", ebpf.AttachNetkitPrimary, p.prog("probe0"), sim.MprogOptions{})},
	}
	want := []error{errno.EACCES, errno.ENXIO}
	for i, c := range cases {
		if !errors.Is(c.err, want[i]) {
			t.Errorf("%s: %v, want %v", c.name, c.err, want[i])
		}
	}
	if err := n.AttachXDP("nk0", device.Options{}, sim.Attachment{Program: p.prog("xdp_probe")}); err == nil || !strings.Contains(err.Error(), "no native XDP hook") {
		t.Errorf("XDP on netkit: %v, want refused", err)
	}
	must(t, n.Attach("nk0", ebpf.AttachNetkitPrimary, p.prog("probe0"), sim.MprogOptions{Link: "l"}))
	if err := n.Attach("nk0", ebpf.AttachNetkitPrimary, p.prog("probe0"), sim.MprogOptions{}); !errors.Is(err, errno.EEXIST) {
		t.Errorf("the same program again: %v, want EEXIST", err)
	}
	if err := n.Detach("nk0", ebpf.AttachNetkitPrimary, p.prog("probe0"), sim.MprogOptions{}); !errors.Is(err, errno.EBUSY) {
		t.Errorf("detaching a link's program: %v, want EBUSY", err)
	}
	must(t, n.Detach("nk0", ebpf.AttachNetkitPrimary, nil, sim.MprogOptions{Link: "l"}))
	if q, _ := n.Registry().ProgQuery(10, ebpf.AttachNetkitPrimary); len(q.Items) != 0 {
		t.Errorf("programs left after closing the link: %v", q.Items)
	}
}

func TestAHookRunsAProgramByWhereItIsAttachedNotByItsSection(t *testing.T) {
	// The probes sit in section "tc". Attached to tcx, they run as tcx_run runs programs: a
	// return value other than TCX_NEXT ends the tcx chain (TC_ACT_PIPE, 3, counts as TCX_NEXT
	// for what follows, but the tcx programs after it do not run). Attached as classic cls_bpf
	// filters, TC_ACT_PIPE becomes TC_ACT_UNSPEC and the next filter runs.
	for _, c := range []struct {
		name    string
		classic bool
		runs    uint64
	}{{"on tcx, the program after a TC_ACT_PIPE does not run", false, 0}, {"as cls_bpf filters, it does", true, 1}} {
		t.Run(c.name, func(t *testing.T) {
			p := loadProbes(t)
			n := defaultPod().build(t)
			p.set(0, 3) // probe0: TC_ACT_PIPE
			for _, name := range []string{"probe0", "probe1"} {
				if c.classic {
					must(t, n.AttachTC("eth0", true, p.prog(name)))
				} else {
					must(t, n.Attach("eth0", ebpf.AttachTCXIngress, p.prog(name), sim.MprogOptions{}))
				}
			}
			o := run(t, n, fromWire("10.1.0.2", 64, 0), onEth0)
			if got := p.seen(1, fRuns); got != c.runs {
				t.Errorf("probe1 ran %d times, want %d", got, c.runs)
			}
			if endOf(o) != "delivered to pod" {
				t.Errorf("end %q, want the packet to pass on", endOf(o))
			}
		})
	}
}
