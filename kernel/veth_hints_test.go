package kernel_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/result"
)

// The packet classes of corpus/hints.c (enum C_*), the index of its hint_classes map.
const (
	classIPv4TCP = iota
	classIPv4UDP
	classIPv4Frag
	classIPv4Other
	classIPv6TCP
	classIPv6UDP
	classIPv6Other
	classARP
	classVLAN
	classOther
	numClasses
)

var classNames = [numClasses]string{"IPv4 TCP", "IPv4 UDP", "IPv4 fragment", "IPv4 other", "IPv6 TCP", "IPv6 UDP",
	"IPv6 other", "ARP", "VLAN-tagged", "other"}

// hintClass is struct hint_class of corpus/hints.c.
type hintClass struct {
	Packets     uint64
	Rets        [3][4]uint64 // [timestamp, hash, vlan][0, -ENODATA, -EOPNOTSUPP, other]
	TsLast      uint64
	RSSTypes    uint32
	RSSTypeLast uint32
	HashFirst   uint32
	HashNonzero uint32
	VLANTCILast uint16
	VLANProtoBE uint16 // as the bytes in memory, read little-endian
	MetaFailed  uint32
}

const hintClassSize = 8 + 3*4*8 + 8 + 4*4 + 2 + 2 + 4

func decodeHintClass(t testing.TB, hexValue string) hintClass {
	t.Helper()
	b, err := hex.DecodeString(hexValue)
	if err != nil || len(b) != hintClassSize {
		t.Fatalf("hint_class value %q: %d bytes (%v), want %d", hexValue, len(b), err, hintClassSize)
	}
	le := binary.LittleEndian
	var c hintClass
	c.Packets = le.Uint64(b)
	off := 8
	for k := range c.Rets {
		for r := range c.Rets[k] {
			c.Rets[k][r] = le.Uint64(b[off:])
			off += 8
		}
	}
	c.TsLast = le.Uint64(b[off:])
	c.RSSTypes = le.Uint32(b[off+8:])
	c.RSSTypeLast = le.Uint32(b[off+12:])
	c.HashFirst = le.Uint32(b[off+16:])
	c.HashNonzero = le.Uint32(b[off+20:])
	c.VLANTCILast = le.Uint16(b[off+24:])
	c.VLANProtoBE = le.Uint16(b[off+26:])
	c.MetaFailed = le.Uint32(b[off+28:])
	return c
}

// Frames built by hand for the veth comparison, one per class of hints.c.

var (
	vethSrcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	vethDstMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	vethSrc4   = net.IP{10, 0, 0, 2}
	vethDst4   = net.IP{198, 51, 100, 7}
	vethSrc6   = net.ParseIP("2001:db8:1::2")
	vethDst6   = net.ParseIP("2001:db8:2::7")
)

func vethSerialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func vethEther(typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: vethSrcMAC, DstMAC: vethDstMAC, EthernetType: typ}
}

func vethIP4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Protocol: proto, SrcIP: vethSrc4, DstIP: vethDst4}
}

func vethIP6(next layers.IPProtocol, flow uint32) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, FlowLabel: flow, SrcIP: vethSrc6, DstIP: vethDst6}
}

func vethPayload(n int) gopacket.Payload {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

type vethFrame struct {
	name  string
	class int
	data  []byte
}

func vethUDP(t testing.TB, ip gopacket.NetworkLayer, sport, dport layers.UDPPort) *layers.UDP {
	t.Helper()
	u := &layers.UDP{SrcPort: sport, DstPort: dport}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return u
}

func vethTCP(t testing.TB, ip gopacket.NetworkLayer, sport, dport layers.TCPPort) *layers.TCP {
	t.Helper()
	tc := &layers.TCP{SrcPort: sport, DstPort: dport, Seq: 1, SYN: true, Window: 1024}
	if err := tc.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return tc
}

// vethFrames are the frames the veth comparison sends: UDP, TCP, ARP and an 802.1Q-tagged UDP
// frame (what the issue asks for), and one frame of each other class of hints.c.
func vethFrames(t testing.TB) []vethFrame {
	u4 := vethIP4(layers.IPProtocolUDP)
	t4 := vethIP4(layers.IPProtocolTCP)
	v4 := vethIP4(layers.IPProtocolUDP)
	i4 := vethIP4(layers.IPProtocolICMPv4)
	f4 := vethIP4(layers.IPProtocolUDP)
	f4.Flags = layers.IPv4MoreFragments
	u6 := vethIP6(layers.IPProtocolUDP, 0)
	t6 := vethIP6(layers.IPProtocolTCP, 0)
	i6 := vethIP6(layers.IPProtocolICMPv6, 0)
	icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	if err := icmp6.SetNetworkLayerForChecksum(i6); err != nil {
		t.Fatal(err)
	}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: vethSrcMAC, SourceProtAddress: vethSrc4, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 1}}
	return []vethFrame{
		{"IPv4 UDP", classIPv4UDP, vethSerialize(t, vethEther(layers.EthernetTypeIPv4), u4, vethUDP(t, u4, 40000, 53), vethPayload(32))},
		{"IPv4 TCP", classIPv4TCP, vethSerialize(t, vethEther(layers.EthernetTypeIPv4), t4, vethTCP(t, t4, 40001, 443), vethPayload(20))},
		{"ARP request", classARP, vethSerialize(t, vethEther(layers.EthernetTypeARP), arp, vethPayload(18))},
		{"802.1Q-tagged IPv4 UDP (VID 100, PCP 3)", classVLAN, vethSerialize(t, vethEther(layers.EthernetTypeDot1Q),
			&layers.Dot1Q{Priority: 3, VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, v4, vethUDP(t, v4, 40002, 53), vethPayload(32))},
		{"IPv6 UDP", classIPv6UDP, vethSerialize(t, vethEther(layers.EthernetTypeIPv6), u6, vethUDP(t, u6, 40003, 53), vethPayload(32))},
		{"IPv6 TCP", classIPv6TCP, vethSerialize(t, vethEther(layers.EthernetTypeIPv6), t6, vethTCP(t, t6, 40004, 443), vethPayload(20))},
		{"ICMP echo", classIPv4Other, vethSerialize(t, vethEther(layers.EthernetTypeIPv4), i4,
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1}, vethPayload(32))},
		{"ICMPv6 echo", classIPv6Other, vethSerialize(t, vethEther(layers.EthernetTypeIPv6), i6, icmp6, vethPayload(32))},
		{"IPv4 first fragment of a UDP datagram", classIPv4Frag, vethSerialize(t, vethEther(layers.EthernetTypeIPv4), f4,
			vethUDP(t, f4, 40005, 53), vethPayload(32))},
		{"unknown EtherType 0x88b5", classOther, vethSerialize(t, vethEther(0x88b5), vethPayload(46))},
	}
}

// simVethClasses runs hints.v4.o in the simulator on its veth profile over frames, in order, and
// returns its hint_classes map.
func simVethClasses(t *testing.T, obj string, frames [][]byte) result.Maps {
	t.Helper()
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("xdp_hints")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	veth, err := device.LookupProfile("veth")
	if err != nil {
		t.Fatal(err)
	}
	x.SetDevice(&device.Netdev{Profile: veth})
	for i, f := range frames {
		if out := x.Run(f, nil, sim.Conditions{IngressIfindex: 1, TimeNs: uint64(i+1) * 1000}); out.Err != "" || out.Ret != result.XDPPass {
			t.Fatalf("simulator, frame %d: ret %d, err %q", i+1, out.Ret, out.Err)
		}
	}
	m, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// vethClasses runs hints.v4.o on a real veth pair over frames and returns what both sides recorded
// in hint_classes, decoded.
func vethClasses(t *testing.T, cpu string, frames []vethFrame) (kern, simu [numClasses]hintClass) {
	t.Helper()
	p, ok := corpus.Lookup("hints")
	if !ok {
		t.Fatal("no corpus program hints")
	}
	var data [][]byte
	for _, f := range frames {
		data = append(data, f.data)
	}
	res, err := kernel.RunOnVeth(p.Object(cpu), kernel.Options{Program: p.Entry}, data, kernel.VethOptions{Maps: []string{"hint_classes"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Rets {
		if r != result.XDPPass {
			t.Errorf("kernel, %s: verdict %s, want XDP_PASS", frames[i].name, result.VerdictName(r))
		}
	}
	sm := simVethClasses(t, p.Object(cpu), data)
	km := res.Maps["hint_classes"]
	if len(km) != numClasses || len(sm["hint_classes"]) != numClasses {
		t.Fatalf("hint_classes has %d entries in the kernel, %d in the simulator, want %d", len(km), len(sm["hint_classes"]), numClasses)
	}
	for c := range numClasses {
		kern[c] = decodeHintClass(t, km[c].Value)
		simu[c] = decodeHintClass(t, sm["hint_classes"][c].Value)
	}
	return kern, simu
}

// compareClass lists how the simulator's record of one class differs from the kernel's: every
// field, except that hash values are compared only for being non-zero (the kernel's skb hash is
// seeded at random per boot).
func compareClass(k, s hintClass) []string {
	var d []string
	diff := func(what string, kv, sv any) {
		if kv != sv {
			d = append(d, fmt.Sprintf("%s: kernel %v, simulator %v", what, kv, sv))
		}
	}
	diff("packets", k.Packets, s.Packets)
	for i, name := range []string{"rx_timestamp", "rx_hash", "rx_vlan_tag"} {
		diff(name+" returns [0 -ENODATA -EOPNOTSUPP other]", k.Rets[i], s.Rets[i])
	}
	diff("timestamp", k.TsLast, s.TsLast)
	diff("rss_types seen", fmt.Sprintf("%#x", k.RSSTypes), fmt.Sprintf("%#x", s.RSSTypes))
	diff("last rss_type", fmt.Sprintf("%#x", k.RSSTypeLast), fmt.Sprintf("%#x", s.RSSTypeLast))
	diff("packets with a non-zero hash", k.HashNonzero, s.HashNonzero)
	diff("hash sample is non-zero", k.HashFirst != 0, s.HashFirst != 0)
	diff("vlan tci", k.VLANTCILast, s.VLANTCILast)
	diff("vlan proto", k.VLANProtoBE, s.VLANProtoBE)
	diff("adjust_meta failures", k.MetaFailed, s.MetaFailed)
	return d
}

// TestHintsOnARealVethAgreeWithTheSimulatorsVethProfile runs corpus/hints.v4.o device-bound on a
// real veth pair (kernel.RunOnVeth: frames sent as skbs through the peer) and in the simulator
// on its veth profile, over the same frames, one per packet class of hints.c, and compares what
// the program recorded: the return codes of the three hint kfuncs, the RSS types, the timestamps
// and VLAN tags; hash values only for being non-zero.
func TestHintsOnARealVethAgreeWithTheSimulatorsVethProfile(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: the veth comparison needs the kernel: %v", err)
	}
	frames := vethFrames(t)
	kern, simu := vethClasses(t, "v4", frames)
	t.Run("the -mcpu=v3 build records the same in the kernel", func(t *testing.T) {
		k3, _ := vethClasses(t, "v3", frames)
		for c := range numClasses {
			a, b := kern[c], k3[c]
			a.HashFirst, b.HashFirst = 0, 0 // hash values are not compared
			if a != b {
				t.Errorf("%s: v4 %+v, v3 %+v", classNames[c], kern[c], k3[c])
			}
		}
	})
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			k, s := kern[f.class], simu[f.class]
			if k.Packets != 1 {
				t.Fatalf("the kernel counted %d packets in class %s, want 1", k.Packets, classNames[f.class])
			}
			d := compareClass(k, s)
			if f.class == classARP || f.class == classOther {
				// Known, documented divergence (kfuncs profile veth, note "frames that are not IP
				// get hash 0"): the kernel's flow hash of a non-IP skb is not 0.
				d = slices.DeleteFunc(d, func(s string) bool { return strings.Contains(s, "non-zero") })
				if k.HashNonzero != 1 || s.HashNonzero != 0 {
					t.Logf("the known divergence on the hash of non-IP frames changed: kernel %d, simulator %d non-zero hashes", k.HashNonzero, s.HashNonzero)
				}
			}
			for _, line := range d {
				t.Error(line)
			}
		})
	}
	t.Run("what veth gives, as measured on 6.18", func(t *testing.T) {
		for _, f := range frames {
			k := kern[f.class]
			// Timestamp 0 with value 0, a hash (0), no VLAN tag (-ENODATA) for every skb.
			if k.Rets[0] != [4]uint64{1, 0, 0, 0} || k.Rets[1] != [4]uint64{1, 0, 0, 0} || k.Rets[2] != [4]uint64{0, 1, 0, 0} || k.TsLast != 0 {
				t.Errorf("%s: returns %v, timestamp %d", f.name, k.Rets, k.TsLast)
			}
			want := uint32(0) // XDP_RSS_TYPE_NONE
			switch f.class {
			case classIPv4TCP, classIPv4UDP, classIPv6TCP, classIPv6UDP:
				want = 0x8 // XDP_RSS_TYPE_L4_ANY: the skb's hash covers the ports
			}
			if k.RSSTypeLast != want || k.HashNonzero != 1 {
				t.Errorf("%s: rss_type %#x, %d non-zero hashes; want %#x and a non-zero hash", f.name, k.RSSTypeLast, k.HashNonzero, want)
			}
		}
	})
}

// TestVethHashTypesBeyondTCPAndUDP: the kernel's flow dissector reports XDP_RSS_TYPE_L4_ANY
// whenever the skb's flow hash is an L4 hash (flow_keys_have_l4: ports, or an IPv6 flow label),
// which covers more than TCP, UDP and SCTP; the simulator's veth profile must say the same.
func TestVethHashTypesBeyondTCPAndUDP(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: the veth comparison needs the kernel: %v", err)
	}
	i6 := vethIP6(layers.IPProtocolICMPv6, 0x12345)
	icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	if err := icmp6.SetNetworkLayerForChecksum(i6); err != nil {
		t.Fatal(err)
	}
	outer, inner := vethIP4(layers.IPProtocolIPv4), vethIP4(layers.IPProtocolUDP)
	esp := vethIP4(layers.IPProtocolESP)
	cases := []vethFrame{
		{"ICMPv6 with flow label 0x12345", classIPv6Other, vethSerialize(t, vethEther(layers.EthernetTypeIPv6), i6, icmp6, vethPayload(32))},
		{"IPIP carrying UDP", classIPv4Other, vethSerialize(t, vethEther(layers.EthernetTypeIPv4), outer, inner, vethUDP(t, inner, 40006, 4789), vethPayload(32))},
		{"ESP over IPv4", classIPv4Other, vethSerialize(t, vethEther(layers.EthernetTypeIPv4), esp, vethPayload(48))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kern, simu := vethClasses(t, "v4", []vethFrame{c})
			k, s := kern[c.class], simu[c.class]
			if k.RSSTypeLast != 0x8 || k.HashNonzero != 1 {
				t.Errorf("kernel: rss_type %#x, %d non-zero hashes; measured before: 0x8 (L4_ANY) and a hash", k.RSSTypeLast, k.HashNonzero)
			}
			if s.RSSTypeLast != k.RSSTypeLast {
				t.Errorf("kernel rss_type %#x, simulator %#x", k.RSSTypeLast, s.RSSTypeLast)
			}
		})
	}
}
