package sim_test

// Tests of the simulated devices through the corpus programs hints, traits and export_skb: what the
// RX-metadata kfuncs return on every device profile, RSS queues and CPUs, packet traits and the
// export of the hints to the skb. Every expected value is derived here from the spec
// (spec/xdp-kernel.md §4, §5, "Measured on 6.18"), from the profiles' descriptions and from the
// Microsoft RSS verification vectors, through this file's own Toeplitz hash and packet parser,
// never from the simulator's output.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
)

// ---- an independent Toeplitz hash, checked against Microsoft's vectors ----

// msKey is the 40-byte key of Microsoft's "Verifying the RSS Hash Calculation".
var msKey = hintHex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa")

func hintHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// refToeplitz hashes input bit by bit: for each set bit, XOR in the 32 key bits starting at its position.
func refToeplitz(key, input []byte) uint32 {
	keyBit := func(i int) uint32 {
		if i/8 >= len(key) {
			return 0
		}
		return uint32(key[i/8]>>(7-i%8)) & 1
	}
	var window uint32
	for i := range 32 {
		window = window<<1 | keyBit(i)
	}
	var h uint32
	for i := range len(input) * 8 {
		if input[i/8]>>(7-i%8)&1 == 1 {
			h ^= window
		}
		window = window<<1 | keyBit(i+32)
	}
	return h
}

// msVector is one line of Microsoft's tables: addresses, ports, the hash of the addresses and the
// hash of addresses and ports.
type msVector struct {
	src, dst     string
	sport, dport uint16
	l3, l4       uint32
}

var msIPv4 = []msVector{
	{"66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178},
	{"199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea},
	{"24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
	{"38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f},
	{"153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2},
}

var msIPv6 = []msVector{
	{"3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d},
	{"3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c, 0xdde51bbf},
	{"3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024, 0x4b61e985, 0x02d1feef},
}

func (v msVector) input(ports bool) []byte {
	b := append(netip.MustParseAddr(v.src).AsSlice(), netip.MustParseAddr(v.dst).AsSlice()...)
	if ports {
		b = binary.BigEndian.AppendUint16(b, v.sport)
		b = binary.BigEndian.AppendUint16(b, v.dport)
	}
	return b
}

func TestTheTestsToeplitzHashGivesMicrosoftsVectors(t *testing.T) {
	for _, v := range append(slices.Clone(msIPv4), msIPv6...) {
		if got := refToeplitz(msKey, v.input(false)); got != v.l3 {
			t.Errorf("%s -> %s: %#08x, want %#08x", v.src, v.dst, got, v.l3)
		}
		if got := refToeplitz(msKey, v.input(true)); got != v.l4 {
			t.Errorf("%s:%d -> %s:%d: %#08x, want %#08x", v.src, v.sport, v.dst, v.dport, got, v.l4)
		}
	}
}

// ---- frames built by hand ----

var hintMACs = []byte{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2}

// hintFrame builds an Ethernet frame: the MACs, the tags (TPID, TCI pairs), the EtherType, then l3.
func hintFrame(etype uint16, l3 []byte, tags ...uint16) []byte {
	b := slices.Clone(hintMACs)
	for _, tag := range tags {
		b = binary.BigEndian.AppendUint16(b, tag)
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, l3...)
}

// hintIPv4 is an IPv4 header (no options, no checksum: nothing checks it) with the vector's
// addresses, then its ports and 20 bytes of zeros.
func hintIPv4(v msVector, proto uint8, frag uint16) []byte {
	h := make([]byte, 20, 44)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], 44)
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8], h[9] = 64, proto
	copy(h[12:], netip.MustParseAddr(v.src).AsSlice())
	copy(h[16:], netip.MustParseAddr(v.dst).AsSlice())
	h = binary.BigEndian.AppendUint16(h, v.sport)
	h = binary.BigEndian.AppendUint16(h, v.dport)
	return append(h, make([]byte, 20)...)
}

func hintIPv6(v msVector, next uint8) []byte {
	h := make([]byte, 40, 64)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], 24)
	h[6], h[7] = next, 64
	copy(h[8:], netip.MustParseAddr(v.src).AsSlice())
	copy(h[24:], netip.MustParseAddr(v.dst).AsSlice())
	h = binary.BigEndian.AppendUint16(h, v.sport)
	h = binary.BigEndian.AppendUint16(h, v.dport)
	return append(h, make([]byte, 20)...)
}

// ---- loading and running ----

// hintsObject loads a corpus program's v4 object (name) or its v3 object (name + ".v3").
func hintsObject(t testing.TB, name string, f kfuncs.Features, cpus int) (*sim.Object, *sim.Program) {
	t.Helper()
	cpu := "v4"
	if n, ok := strings.CutSuffix(name, ".v3"); ok {
		name, cpu = n, "v3"
	}
	p, ok := corpus.Lookup(name)
	if !ok {
		t.Fatalf("no corpus program %s", name)
	}
	o, err := sim.Load(p.Object(cpu), sim.LoadOptions{Features: f, CPUs: cpus})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := o.FindProgram(p.Entry)
	if err != nil {
		t.Fatal(err)
	}
	return o, prog
}

func hintsXDP(t testing.TB, prog *sim.Program, dev *device.Netdev) *sim.XDP {
	t.Helper()
	x, err := sim.NewXDP(prog)
	if err != nil {
		t.Fatal(err)
	}
	x.SetDevice(dev)
	return x
}

func hintsProfile(t testing.TB, name string) *device.Profile {
	t.Helper()
	p, err := device.LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type hintsRecord struct {
	data []byte
	ts   uint64
}

func hintsTrace(t testing.TB, name string) []hintsRecord {
	t.Helper()
	f, err := os.Open(corpus.TracePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []hintsRecord
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hintsRecord{slices.Clone(data), uint64(ci.Timestamp.UnixNano())})
	}
}

// hintMapValue reads one entry of a map on one CPU.
func hintMapValue(t testing.TB, o *sim.Object, name string, key []byte, cpu int) []byte {
	t.Helper()
	m := o.Maps[name]
	if m == nil {
		t.Fatalf("no map %s", name)
	}
	v, err := m.Lookup(key, cpu)
	if err != nil {
		t.Fatalf("map %s key %x: %v", name, key, err)
	}
	return v
}

func hintKey32(k uint32) []byte { return binary.LittleEndian.AppendUint32(nil, k) }

// ---- what hints.c records ----

// The packet classes of corpus/hints.c.
const (
	hcIPv4TCP = iota
	hcIPv4UDP
	hcIPv4Frag
	hcIPv4Other
	hcIPv6TCP
	hcIPv6UDP
	hcIPv6Other
	hcARP
	hcVLAN
	hcOther
	hcMax
)

// hintsMeta is struct xdp_hints_meta of corpus/hints.c, read from the metadata area.
type hintsMeta struct {
	ts                      uint64
	hash, rssType           uint32
	vlanProto, vlanTCI      uint16
	tsRet, hashRet, vlanRet int16
	valid                   uint16
	class                   uint32
}

func decodeHintsMeta(b []byte) (hintsMeta, bool) {
	if len(b) != 32 {
		return hintsMeta{}, false
	}
	le := binary.LittleEndian
	return hintsMeta{
		ts: le.Uint64(b), hash: le.Uint32(b[8:]), rssType: le.Uint32(b[12:]),
		vlanProto: binary.BigEndian.Uint16(b[16:]), vlanTCI: le.Uint16(b[18:]),
		tsRet: int16(le.Uint16(b[20:])), hashRet: int16(le.Uint16(b[22:])), vlanRet: int16(le.Uint16(b[24:])),
		valid: le.Uint16(b[26:]), class: le.Uint32(b[28:]),
	}, true
}

// hintsClass is struct hint_class of corpus/hints.c, the value of hint_classes.
type hintsClass struct {
	packets                  uint64
	rets                     [3][4]uint64
	tsLast                   uint64
	rssTypes, rssTypeLast    uint32
	hashFirst, hashNonzero   uint32
	vlanTCILast, vlanProtoLE uint16
	metaFailed               uint32
}

func decodeHintsClass(t testing.TB, b []byte) hintsClass {
	t.Helper()
	if len(b) != 136 {
		t.Fatalf("hint_class of %d bytes, want 136", len(b))
	}
	le := binary.LittleEndian
	c := hintsClass{packets: le.Uint64(b)}
	for k := range 3 {
		for r := range 4 {
			c.rets[k][r] = le.Uint64(b[8+8*(4*k+r):])
		}
	}
	c.tsLast = le.Uint64(b[104:])
	c.rssTypes, c.rssTypeLast = le.Uint32(b[112:]), le.Uint32(b[116:])
	c.hashFirst, c.hashNonzero = le.Uint32(b[120:]), le.Uint32(b[124:])
	c.vlanTCILast, c.vlanProtoLE = le.Uint16(b[128:]), le.Uint16(b[130:])
	c.metaFailed = le.Uint32(b[132:])
	return c
}

// hintRetKind is hints.c's ret_kind: 0, -ENODATA, -EOPNOTSUPP, other.
func hintRetKind(ret int16) int {
	switch ret {
	case 0:
		return 0
	case -61:
		return 1
	case -95:
		return 2
	}
	return 3
}

// ---- the model: what each device gives, from the spec and the profiles' descriptions ----

// hintDevice is what a device profile stands for, restated from spec §4 ("Driver support", the
// measured veth table) and the profiles' descriptions.
type hintDevice struct {
	ts, hash, vlan bool // the driver implements rx_timestamp, rx_hash, rx_vlan_tag
	tsZero         bool // veth: an skb without a hardware timestamp gives 0 with 0
	skbHash        bool // veth: the skb's flow hash, type L4_ANY or NONE
	hashNoDataIf0  bool // ice: -ENODATA when it did not hash the frame
	strip          bool // removes an outer 802.1Q tag and reports it
	vlanNoDataIf0  bool // ice: a stripped TCI of 0 is -ENODATA
	rss            bool // the device hashes IPv4 and IPv6 addresses
	tcp, udp, sctp bool // ... and the ports of TCP, UDP, SCTP
}

var hintDevices = map[string]hintDevice{
	"none":       {},
	"veth":       {ts: true, hash: true, vlan: true, tsZero: true, skbHash: true, rss: true, tcp: true, udp: true, sctp: true},
	"mlx5":       {ts: true, hash: true, vlan: true, strip: true, rss: true, tcp: true, udp: true},
	"ice":        {ts: true, hash: true, vlan: true, hashNoDataIf0: true, strip: true, vlanNoDataIf0: true, rss: true, tcp: true, udp: true, sctp: true},
	"igc":        {ts: true, hash: true, rss: true, tcp: true}, // UDP hashed on the addresses, by default
	"virtio_net": {hash: true, rss: true, tcp: true, udp: true},
}

var hintProfiles = []string{"veth", "mlx5", "ice", "igc", "virtio_net", "none"}

// hintWant is what the model expects for one frame.
type hintWant struct {
	out                     []byte // the frame XDP sees (without a stripped tag)
	tsRet, hashRet, vlanRet int16
	ts                      uint64
	hashed                  bool   // the device hashed the frame (IP): the hash is not 0
	typeKnown               bool   // hash and rssType are the model's; else only l3 is
	skbType                 bool   // the type is veth's: L4_ANY or NONE
	hash, rssType           uint32 // with typeKnown
	l3                      uint32 // the L3 bit of the type (1 IPv4, 2 IPv6), when hashed
	vlanProto, vlanTCI      uint16
	class                   int
}

const (
	hintTCP, hintUDP, hintSCTP = 6, 17, 132
)

func hintIPv6Ext(next uint8) bool {
	switch next {
	case 0, 43, 44, 51, 60: // hop-by-hop, routing, fragment, AH, destination options
		return true
	}
	return false
}

// wantHints applies device d (with RSS key key) to frame pkt received at ts.
func wantHints(d hintDevice, key, pkt []byte, ts uint64) hintWant {
	w := hintWant{out: pkt, tsRet: -95, hashRet: -95, vlanRet: -95}
	be := binary.BigEndian
	// VLAN offload: the outer 802.1Q tag leaves the frame.
	stripped := false
	if d.strip && len(pkt) >= 18 && be.Uint16(pkt[12:]) == 0x8100 {
		stripped = true
		w.vlanProto, w.vlanTCI = 0x8100, be.Uint16(pkt[14:])
		w.out = append(slices.Clone(pkt[:12]), pkt[16:]...)
	}
	if d.vlan {
		w.vlanRet = -61
		if stripped && !(d.vlanNoDataIf0 && w.vlanTCI == 0) {
			w.vlanRet = 0
		} else {
			w.vlanProto, w.vlanTCI = 0, 0
		}
	}
	if d.ts {
		w.tsRet = 0
		if !d.tsZero {
			w.ts = ts
		}
	}
	// RSS: past up to two tags, the IPv4 or IPv6 addresses, then the ports the device covers.
	var in []byte
	typ := uint32(0)
	tagged, l4 := false, false
	veth := "" // why the veth type cannot be told here, if it cannot
	if out := w.out; d.rss && len(out) >= 14 {
		off := 12
		etype := be.Uint16(out[off:])
		for i := 0; i < 2 && (etype == 0x8100 || etype == 0x88a8) && len(out) >= off+6; i++ {
			tagged = true
			off += 4
			etype = be.Uint16(out[off:])
		}
		l3 := out[off+2:]
		covered := func(proto uint8) (bool, uint32) {
			switch {
			case proto == hintTCP && d.tcp:
				return true, 0x18
			case proto == hintUDP && d.udp:
				return true, 0x28
			case proto == hintSCTP && d.sctp:
				return true, 0x48
			}
			return false, 0
		}
		switch {
		case etype == 0x0800 && len(l3) >= 20 && l3[0]>>4 == 4 && int(l3[0]&15)*4 >= 20 && len(l3) >= int(l3[0]&15)*4:
			ihl := int(l3[0]&15) * 4
			in, typ, w.l3 = slices.Clone(l3[12:20]), 1, 1
			frag := be.Uint16(l3[6:])&0x3fff != 0
			if ok, bits := covered(l3[9]); ok && !frag && len(l3) >= ihl+4 {
				in, typ, l4 = append(in, l3[ihl:ihl+4]...), typ|bits, true
			}
			switch l3[9] {
			case 4, 41, 47, 50, 51: // IPIP, 6in4, GRE, ESP, AH: the skb's flow hash is an L4 hash
				veth = "the kernel's flow dissector reports an L4 hash (kernel TestVethHashTypesTheSimulatorDoesNotModel)"
			}
		case etype == 0x86dd && len(l3) >= 40 && l3[0]>>4 == 6:
			in, typ, w.l3 = slices.Clone(l3[8:40]), 2, 2
			next := l3[6]
			if hintIPv6Ext(next) {
				w.hashed = true
				return w.finish(d, key, nil, 0, false, "IPv6 extension headers")
			}
			if ok, bits := covered(next); ok && len(l3) >= 44 {
				in, typ, l4 = append(in, l3[40:44]...), typ|bits, true
			}
			if !l4 && be.Uint32(l3[0:])&0xfffff != 0 {
				veth = "an IPv6 flow label makes the skb's hash an L4 hash"
			}
		}
	}
	if d.skbHash {
		typ = 0
		if l4 && !tagged {
			typ = 8 // XDP_RSS_TYPE_L4_ANY
		}
	} else {
		veth = ""
	}
	return w.finish(d, key, in, typ, in != nil, veth)
}

// finish fills the hash results in: in is the hash input (nil: not hashed).
func (w hintWant) finish(d hintDevice, key, in []byte, typ uint32, hashed bool, unknown string) hintWant {
	if hashed {
		w.hashed = true
		w.hash = refToeplitz(key, in)
	}
	w.rssType, w.skbType = typ, d.skbHash
	w.typeKnown = unknown == "" && d.rss
	if !d.rss {
		w.typeKnown, w.hashed = true, false
	}
	if d.hash {
		w.hashRet = 0
		if d.hashNoDataIf0 && !w.hashed {
			w.hashRet = -61
		}
	}
	w.class = hintsClassOf(w.out)
	return w
}

// hintsClassOf is hints.c's classify.
func hintsClassOf(f []byte) int {
	if len(f) < 14 {
		return hcOther
	}
	be := binary.BigEndian
	switch be.Uint16(f[12:]) {
	case 0x8100, 0x88a8:
		return hcVLAN
	case 0x0806:
		return hcARP
	case 0x0800:
		if len(f) < 34 {
			return hcOther
		}
		switch {
		case be.Uint16(f[20:])&0x3fff != 0:
			return hcIPv4Frag
		case f[23] == hintTCP:
			return hcIPv4TCP
		case f[23] == hintUDP:
			return hcIPv4UDP
		}
		return hcIPv4Other
	case 0x86dd:
		if len(f) < 54 {
			return hcOther
		}
		switch f[20] {
		case hintTCP:
			return hcIPv6TCP
		case hintUDP:
			return hcIPv6UDP
		}
		return hcIPv6Other
	}
	return hcOther
}

// checkHints compares what the program wrote into the metadata with the model.
func checkHints(w hintWant, m hintsMeta) []string {
	var d []string
	diff := func(what string, got, want any) {
		if got != want {
			d = append(d, fmt.Sprintf("%s %v, want %v", what, got, want))
		}
	}
	diff("rx_timestamp returned", m.tsRet, w.tsRet)
	diff("rx_hash returned", m.hashRet, w.hashRet)
	diff("rx_vlan_tag returned", m.vlanRet, w.vlanRet)
	diff("timestamp", m.ts, w.ts)
	diff("vlan proto", fmt.Sprintf("%#04x", m.vlanProto), fmt.Sprintf("%#04x", w.vlanProto))
	diff("vlan tci", fmt.Sprintf("%#04x", m.vlanTCI), fmt.Sprintf("%#04x", w.vlanTCI))
	diff("class", int(m.class), w.class)
	valid := uint16(0)
	for i, r := range []int16{w.tsRet, w.hashRet, w.vlanRet} {
		if r == 0 {
			valid |= 1 << i
		}
	}
	diff("valid bits", m.valid, valid)
	if w.hashRet == 0 {
		switch {
		case w.typeKnown:
			diff("hash", fmt.Sprintf("%#08x", m.hash), fmt.Sprintf("%#08x", w.hash))
			diff("rss_type", fmt.Sprintf("%#x", m.rssType), fmt.Sprintf("%#x", w.rssType))
		case w.hashed:
			if m.hash == 0 {
				d = append(d, "hash 0 for a frame the device hashes")
			}
			switch {
			case w.skbType && m.rssType != 0 && m.rssType != 8:
				d = append(d, fmt.Sprintf("rss_type %#x, want L4_ANY (0x8) or NONE (0)", m.rssType))
			case !w.skbType && m.rssType&w.l3 == 0:
				d = append(d, fmt.Sprintf("rss_type %#x lacks the L3 bit %#x", m.rssType, w.l3))
			}
		}
	}
	return d
}

// ---- hand-built frames against values written out from the spec ----

func TestHintsOfHandBuiltFramesOnEveryDevice(t *testing.T) {
	v4, v6 := msIPv4[0], msIPv6[0]
	tcp4 := hintFrame(0x0800, hintIPv4(v4, hintTCP, 0))
	udp4 := hintFrame(0x0800, hintIPv4(v4, hintUDP, 0))
	icmp4 := hintFrame(0x0800, hintIPv4(v4, 1, 0))
	frag4 := hintFrame(0x0800, hintIPv4(v4, hintUDP, 0x2000)) // MF: a first fragment
	tcp6 := hintFrame(0x86dd, hintIPv6(v6, hintTCP))
	udp6 := hintFrame(0x86dd, hintIPv6(v6, hintUDP))
	icmp6 := hintFrame(0x86dd, hintIPv6(v6, 58))
	tagged := hintFrame(0x0800, hintIPv4(msIPv4[1], hintTCP, 0), 0x8100, 0x6064) // VID 100, PCP 3
	arp := hintFrame(0x0806, make([]byte, 28))
	const ts = 1_709_294_400_123_456_789

	type want struct {
		tsRet, hashRet, vlanRet int16
		hash, rssType           uint32
	}
	// Values from spec §4: the enum xdp_rss_hash_type, the driver table and the measured veth table;
	// hashes from Microsoft's tables (vector 1 of each; vector 2 for the tagged frame).
	cases := []struct {
		name  string
		frame []byte
		want  map[string]want
	}{
		{"IPv4 TCP 66.9.149.187:2794 -> 161.142.100.80:1766", tcp4, map[string]want{
			"veth": {0, 0, -61, 0x51ccc178, 0x8}, "mlx5": {0, 0, -61, 0x51ccc178, 0x19}, "ice": {0, 0, -61, 0x51ccc178, 0x19},
			"igc": {0, 0, -95, 0x51ccc178, 0x19}, "virtio_net": {-95, 0, -95, 0x51ccc178, 0x19}, "none": {-95, -95, -95, 0, 0}}},
		{"IPv4 UDP with the same addresses and ports", udp4, map[string]want{
			"veth": {0, 0, -61, 0x51ccc178, 0x8}, "mlx5": {0, 0, -61, 0x51ccc178, 0x29}, "ice": {0, 0, -61, 0x51ccc178, 0x29},
			"igc": {0, 0, -95, 0x323e8fc2, 0x1}, "virtio_net": {-95, 0, -95, 0x51ccc178, 0x29}, "none": {-95, -95, -95, 0, 0}}},
		{"ICMP between the same addresses", icmp4, map[string]want{
			"veth": {0, 0, -61, 0x323e8fc2, 0}, "mlx5": {0, 0, -61, 0x323e8fc2, 0x1}, "ice": {0, 0, -61, 0x323e8fc2, 0x1},
			"igc": {0, 0, -95, 0x323e8fc2, 0x1}, "virtio_net": {-95, 0, -95, 0x323e8fc2, 0x1}, "none": {-95, -95, -95, 0, 0}}},
		{"a first IPv4 fragment, hashed on the addresses", frag4, map[string]want{
			"veth": {0, 0, -61, 0x323e8fc2, 0}, "mlx5": {0, 0, -61, 0x323e8fc2, 0x1}, "ice": {0, 0, -61, 0x323e8fc2, 0x1},
			"igc": {0, 0, -95, 0x323e8fc2, 0x1}, "virtio_net": {-95, 0, -95, 0x323e8fc2, 0x1}, "none": {-95, -95, -95, 0, 0}}},
		{"IPv6 TCP 3ffe:2501:200:1fff::7:2794 -> 3ffe:2501:200:3::1:1766", tcp6, map[string]want{
			"veth": {0, 0, -61, 0x40207d3d, 0x8}, "mlx5": {0, 0, -61, 0x40207d3d, 0x1a}, "ice": {0, 0, -61, 0x40207d3d, 0x1a},
			"igc": {0, 0, -95, 0x40207d3d, 0x1a}, "virtio_net": {-95, 0, -95, 0x40207d3d, 0x1a}, "none": {-95, -95, -95, 0, 0}}},
		{"IPv6 UDP with the same addresses and ports", udp6, map[string]want{
			"veth": {0, 0, -61, 0x40207d3d, 0x8}, "mlx5": {0, 0, -61, 0x40207d3d, 0x2a}, "ice": {0, 0, -61, 0x40207d3d, 0x2a},
			"igc": {0, 0, -95, 0x2cc18cd5, 0x2}, "virtio_net": {-95, 0, -95, 0x40207d3d, 0x2a}, "none": {-95, -95, -95, 0, 0}}},
		{"ICMPv6 between the same addresses", icmp6, map[string]want{
			"veth": {0, 0, -61, 0x2cc18cd5, 0}, "mlx5": {0, 0, -61, 0x2cc18cd5, 0x2}, "ice": {0, 0, -61, 0x2cc18cd5, 0x2},
			"igc": {0, 0, -95, 0x2cc18cd5, 0x2}, "virtio_net": {-95, 0, -95, 0x2cc18cd5, 0x2}, "none": {-95, -95, -95, 0, 0}}},
		{"802.1Q VID 100 PCP 3 over IPv4 TCP 199.92.111.2:14230 -> 65.69.140.83:4739", tagged, map[string]want{
			// veth keeps the tag in band: its skb hash is not an L4 hash (measured on 6.18)
			"veth": {0, 0, -61, 0xc626b0ea, 0}, "mlx5": {0, 0, 0, 0xc626b0ea, 0x19}, "ice": {0, 0, 0, 0xc626b0ea, 0x19},
			"igc": {0, 0, -95, 0xc626b0ea, 0x19}, "virtio_net": {-95, 0, -95, 0xc626b0ea, 0x19}, "none": {-95, -95, -95, 0, 0}}},
		{"ARP, which no device hashes", arp, map[string]want{
			"veth": {0, 0, -61, 0, 0}, "mlx5": {0, 0, -61, 0, 0}, "ice": {0, -61, -61, 0, 0},
			"igc": {0, 0, -95, 0, 0}, "virtio_net": {-95, 0, -95, 0, 0}, "none": {-95, -95, -95, 0, 0}}},
	}
	for _, c := range cases {
		for _, prof := range hintProfiles {
			t.Run(c.name+"/"+prof, func(t *testing.T) {
				_, prog := hintsObject(t, "hints", kfuncs.Features{}, 1)
				x := hintsXDP(t, prog, &device.Netdev{Profile: hintsProfile(t, prof)})
				out := x.Run(c.frame, nil, sim.Conditions{IngressIfindex: 1, TimeNs: ts})
				if out.Err != "" || out.Ret != 2 {
					t.Fatalf("ret %d, err %q", out.Ret, out.Err)
				}
				m, ok := decodeHintsMeta(out.Meta)
				if !ok {
					t.Fatalf("metadata %x, want the 32-byte struct xdp_hints_meta", out.Meta)
				}
				w := c.want[prof]
				if m.tsRet != w.tsRet || m.hashRet != w.hashRet || m.vlanRet != w.vlanRet {
					t.Errorf("returns %d/%d/%d, want %d/%d/%d", m.tsRet, m.hashRet, m.vlanRet, w.tsRet, w.hashRet, w.vlanRet)
				}
				wantTs := uint64(0)
				if w.tsRet == 0 && prof != "veth" {
					wantTs = ts
				}
				if m.ts != wantTs {
					t.Errorf("timestamp %d, want %d", m.ts, wantTs)
				}
				if w.hashRet == 0 && (m.hash != w.hash || m.rssType != w.rssType) {
					t.Errorf("hash %#08x type %#x, want %#08x type %#x", m.hash, m.rssType, w.hash, w.rssType)
				}
				stripped := w.vlanRet == 0
				if stripped && (m.vlanProto != 0x8100 || m.vlanTCI != 0x6064) {
					t.Errorf("vlan tag %#04x/%#04x, want 0x8100/0x6064", m.vlanProto, m.vlanTCI)
				}
				wantData := c.frame
				if stripped {
					wantData = append(slices.Clone(c.frame[:12]), c.frame[16:]...)
				}
				if !bytes.Equal(out.Data, wantData) {
					t.Errorf("data %x, want %x", out.Data, wantData)
				}
				if out.Skb == nil || out.Skb.MetaLen != 32 || out.Skb.Exported != nil {
					t.Errorf("skb hand-off %+v, want the 32 bytes of metadata and no export", out.Skb)
				}
				// The simulator's own record of the calls says what the program saw.
				for name, r := range map[string]int16{"bpf_xdp_metadata_rx_timestamp": m.tsRet, "bpf_xdp_metadata_rx_hash": m.hashRet,
					"bpf_xdp_metadata_rx_vlan_tag": m.vlanRet} {
					if got, ok := out.Hints[name]; !ok || got.Ret != int64(r) {
						t.Errorf("Outcome.Hints[%s] = %+v, want ret %d", name, got, r)
					}
				}
				if h := out.Hints["bpf_xdp_metadata_rx_hash"]; w.hashRet == 0 && (h.Hash != w.hash || h.RSSType != w.rssType) {
					t.Errorf("Outcome.Hints rx_hash %+v, want hash %#x type %#x", h, w.hash, w.rssType)
				}
			})
		}
	}
}

func TestAnRSSKeyOfTheUsersChangesTheHash(t *testing.T) {
	key := make([]byte, 40)
	for i := range key {
		key[i] = byte(i*37 + 11)
	}
	v := msIPv4[2]
	_, prog := hintsObject(t, "hints", kfuncs.Features{}, 1)
	x := hintsXDP(t, prog, &device.Netdev{Profile: hintsProfile(t, "mlx5"), RSSKey: key})
	out := x.Run(hintFrame(0x0800, hintIPv4(v, hintUDP, 0)), nil, sim.Conditions{IngressIfindex: 1})
	m, ok := decodeHintsMeta(out.Meta)
	if !ok {
		t.Fatalf("metadata %x", out.Meta)
	}
	if want := refToeplitz(key, v.input(true)); m.hash != want || m.hash == v.l4 {
		t.Errorf("hash %#08x, want %#08x (and not the standard key's %#08x)", m.hash, want, v.l4)
	}
}

// ---- the corpus traces on every device ----

func TestHintsOverTheCorpusTracesOnEveryDevice(t *testing.T) {
	for _, trace := range []string{"vlan.pcap", "mixed.pcap"} {
		recs := hintsTrace(t, trace)
		for _, prof := range hintProfiles {
			t.Run(trace+"/"+prof, func(t *testing.T) {
				d := hintDevices[prof]
				obj := "hints"
				if prof == "ice" || prof == "igc" {
					obj = "hints.v3" // the -mcpu=v3 build must behave the same
				}
				o, prog := hintsObject(t, obj, kfuncs.Features{}, 1)
				x := hintsXDP(t, prog, &device.Netdev{Profile: hintsProfile(t, prof)})
				var want [hcMax]hintsClass
				var first [hcMax]bool
				errs, ran, stripped, unknown := 0, 0, 0, 0
				report := func(format string, args ...any) {
					if errs++; errs <= 10 {
						t.Errorf(format, args...)
					}
				}
				for i, r := range recs {
					out := x.Run(r.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: r.ts})
					if len(r.data) < 14 {
						if out.Err == "" {
							report("packet %d: a %d-byte runt ran", i+1, len(r.data))
						}
						continue
					}
					ran++
					if out.Err != "" || out.Ret != 2 {
						report("packet %d: ret %d, err %q", i+1, out.Ret, out.Err)
						continue
					}
					w := wantHints(d, msKey, r.data, r.ts)
					if !w.typeKnown {
						unknown++
					}
					if w.vlanRet == 0 || len(w.out) != len(r.data) {
						stripped++
					}
					m, ok := decodeHintsMeta(out.Meta)
					if !ok {
						report("packet %d: metadata %x", i+1, out.Meta)
						continue
					}
					for _, line := range checkHints(w, m) {
						report("packet %d (%x...): %s", i+1, r.data[:min(len(r.data), 24)], line)
					}
					if !bytes.Equal(out.Data, w.out) {
						report("packet %d: data %x, want %x", i+1, out.Data, w.out)
					}
					// What the class records should hold: from the model, and for the hashes and
					// types the model leaves open, from the (checked) metadata.
					c := &want[w.class]
					c.packets++
					c.rets[0][hintRetKind(w.tsRet)]++
					c.rets[1][hintRetKind(w.hashRet)]++
					c.rets[2][hintRetKind(w.vlanRet)]++
					if w.tsRet == 0 {
						c.tsLast = w.ts
					}
					if w.hashRet == 0 {
						hash, typ := w.hash, w.rssType
						if !w.typeKnown {
							hash, typ = m.hash, m.rssType
						}
						c.rssTypes |= typ
						c.rssTypeLast = typ
						if hash != 0 {
							c.hashNonzero++
							if !first[w.class] {
								first[w.class], c.hashFirst = true, hash
							}
						}
					}
					if w.vlanRet == 0 {
						c.vlanTCILast = w.vlanTCI
						c.vlanProtoLE = w.vlanProto>>8 | w.vlanProto<<8
					}
				}
				for c := range hcMax {
					got := decodeHintsClass(t, hintMapValue(t, o, "hint_classes", hintKey32(uint32(c)), 0))
					if got != want[c] {
						t.Errorf("hint_classes[%d]:\n got %+v\nwant %+v", c, got, want[c])
					}
				}
				t.Logf("%d packets run, %d with the outer tag stripped, %d with a hash type the model leaves open", ran, stripped, unknown)
				if (prof == "mlx5" || prof == "ice") && trace == "vlan.pcap" && stripped == 0 {
					t.Error("no frame of vlan.pcap had its tag stripped")
				}
			})
		}
	}
}

// ---- RSS queues and CPUs ----

func TestRSSSpreadsPacketsOverQueuesAndCPUs(t *testing.T) {
	recs := hintsTrace(t, "mixed.pcap")
	for _, c := range []struct {
		profile     string
		queues, cpu int
	}{
		{"mlx5", 4, 4}, {"mlx5", 4, 2}, {"ice", 8, 3}, {"igc", 4, 4}, {"none", 4, 4},
	} {
		t.Run(fmt.Sprintf("%s with %d queues on %d CPUs", c.profile, c.queues, c.cpu), func(t *testing.T) {
			d := hintDevices[c.profile]
			o, prog := hintsObject(t, "hints", kfuncs.Features{}, c.cpu)
			x := hintsXDP(t, prog, &device.Netdev{Profile: hintsProfile(t, c.profile), Queues: c.queues})
			perQueue := make([]uint64, c.queues)
			perCPU := make([]uint64, c.cpu)
			errs := 0
			for i, r := range recs {
				if len(r.data) < 14 {
					continue
				}
				out := x.Run(r.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: r.ts})
				if out.Err != "" {
					t.Fatalf("packet %d: %s", i+1, out.Err)
				}
				// The device's RSS hash picks the queue: the model's, or for the frames whose
				// hash the model leaves open (IPv6 extension headers), the one the program read.
				w := wantHints(d, msKey, r.data, r.ts)
				hash := w.hash
				if !w.typeKnown {
					m, _ := decodeHintsMeta(out.Meta)
					hash = m.hash
				}
				// Linux's default indirection table: 128 entries, entry i -> queue i mod queues.
				q := int(hash%128) % c.queues
				perQueue[q]++
				perCPU[q%c.cpu]++
				if got := binary.LittleEndian.Uint64(hintMapValue(t, o, "rx_queues", hintKey32(uint32(q)), 0)); got != perQueue[q] {
					if errs++; errs < 10 {
						t.Errorf("packet %d (hash %#08x): queue %d counts %d, want %d", i+1, hash, q, got, perQueue[q])
					}
				}
				if got := binary.LittleEndian.Uint64(hintMapValue(t, o, "cpu_packets", hintKey32(0), q%c.cpu)); got != perCPU[q%c.cpu] {
					if errs++; errs < 10 {
						t.Errorf("packet %d: CPU %d counts %d, want %d", i+1, q%c.cpu, got, perCPU[q%c.cpu])
					}
				}
			}
			t.Logf("per queue %v, per CPU %v", perQueue, perCPU)
			used := 0
			for _, n := range perQueue {
				if n > 0 {
					used++
				}
			}
			if c.profile == "none" && used != 1 {
				t.Errorf("a device without RSS used %d queues", used)
			}
			if c.profile != "none" && used != c.queues {
				t.Errorf("RSS used %d of %d queues", used, c.queues)
			}
		})
	}
}

// ---- packet traits ----

// The steps of corpus/traits.c (enum S_*), and what each returns with the v2 and the v1 layouts.
type traitsStep struct {
	name   string
	v2, v1 int32
}

var traitsSteps = []traitsStep{
	{"set(flag, 0 bytes)", 0, -22}, {"set(2, 4 bytes)", 0, 0}, {"set(3, 8 bytes)", 0, 0}, {"set(4, 2 bytes)", -22, 0},
	{"set(64)", -22, -22}, {"set(20, 3 bytes)", -22, -22}, {"set(2, 8 bytes) when set with 4", -16, -16},
	{"set(2, 4 bytes) again", 0, 0}, {"is_set(2)", 1, 1}, {"is_set(20)", 0, 0}, {"is_set(64)", -22, -22},
	{"get(3)", 8, 8}, {"get(3) read the value", 1, 1}, {"get(3) into 4 bytes", -28, -28}, {"get(flag)", 0, -2},
	{"get(2)", 4, 4}, {"get(2) read the new value", 1, 1}, {"get(20)", -2, -2}, {"get(64)", -22, -22},
	{"del(2)", 0, 0}, {"del(2) again", -2, -2}, {"del(64)", -22, -22}, {"is_set(2) after del", 0, 0},
	{"get(3) after del", 8, 8}, {"get(3) after del read the value", 1, 1}, {"set(10, saddr)", 0, 0}, {"set(63, len)", 0, 0},
	// IPv4 UDP
	{"adjust_head 4 bytes into the store", -22, -22}, {"adjust_head to the store", 0, 0}, {"set(20) without room", -28, -28},
	{"set(3) overwrite without room", 0, 0}, {"adjust_head back", 0, 0}, {"set(20) with room", 0, 0}, {"del(20)", 0, 0},
	// IPv6
	{"adjust_meta(-8) first", 0, 0}, {"then set(7)", -95, 0}, {"then is_set(7)", -95, 1},
	// ARP
	{"set(11) first", 0, 0}, {"then adjust_meta(-8)", -524, 0},
	// others
	{"set(5) on a dropped frame", 0, 0},
}

const (
	stepIPv4First, stepIPv4Last = 0, 26
	stepUDPFirst, stepUDPLast   = 27, 33
	stepV6First, stepV6Last     = 34, 36
	stepARPFirst, stepARPLast   = 37, 38
	stepDrop                    = 39
)

func hintLE64(v uint64) string { return hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, v)) }

func TestTraitsOverTheMixedTrace(t *testing.T) {
	recs := hintsTrace(t, "mixed.pcap")
	for _, v1 := range []bool{false, true} {
		layout, feature := "v2", kfuncs.FeatureTraits
		if v1 {
			layout, feature = "v1", kfuncs.FeatureTraitsV1
		}
		t.Run("--feature "+feature, func(t *testing.T) {
			var f kfuncs.Features
			if err := f.Enable(feature); err != nil {
				t.Fatal(err)
			}
			obj := "traits"
			if v1 {
				obj = "traits.v3" // the -mcpu=v3 build must behave the same
			}
			o, prog := hintsObject(t, obj, f, 1)
			x := hintsXDP(t, prog, nil)
			type key struct {
				step int
				ret  int32
			}
			want := map[key]uint64{}
			count := func(first, last int) {
				for s := first; s <= last; s++ {
					r := traitsSteps[s].v2
					if v1 {
						r = traitsSteps[s].v1
					}
					want[key{s, r}]++
				}
			}
			errs := 0
			report := func(format string, args ...any) {
				if errs++; errs <= 10 {
					t.Errorf(format, args...)
				}
			}
			classes := map[string]int{}
			for i, r := range recs {
				pkt := r.data
				out := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1, TimeNs: r.ts})
				if len(pkt) < 14 {
					continue
				}
				if out.Err != "" {
					report("packet %d: %s", i+1, out.Err)
					continue
				}
				var wantTraits []sim.TraitKV
				wantRet, wantMeta := uint32(2), []byte{}
				le := binary.LittleEndian
				meta := func(mark uint32) []byte { return le.AppendUint32(le.AppendUint32(nil, mark), uint32(len(pkt))) }
				switch binary.BigEndian.Uint16(pkt[12:]) {
				case 0x0800:
					classes["IPv4"]++
					haveIP := len(pkt) >= 34
					count(stepIPv4First, stepIPv4Last-2) // every step up to the source address
					if haveIP {
						want[key{stepIPv4Last - 1, 0}]++
					}
					want[key{stepIPv4Last, 0}]++
					if v1 {
						wantTraits = []sim.TraitKV{{Key: 3, Value: "efcdab8967452301"}, {Key: 4, Value: "efbe"}}
					} else {
						wantTraits = []sim.TraitKV{{Key: 1, Value: ""}, {Key: 3, Value: "efcdab8967452301"}}
					}
					if haveIP {
						wantTraits = append(wantTraits, sim.TraitKV{Key: 10, Value: hex.EncodeToString(pkt[26:30])})
					}
					wantTraits = append(wantTraits, sim.TraitKV{Key: 63, Value: hintLE64(uint64(len(pkt)))})
					if haveIP && pkt[23] == hintUDP {
						classes["IPv4 UDP"]++
						count(stepUDPFirst, stepUDPLast)
					}
				case 0x86dd:
					classes["IPv6"]++
					count(stepV6First, stepV6Last)
					wantMeta = meta(6)
					if v1 {
						wantTraits = []sim.TraitKV{{Key: 7, Value: "66666666"}}
					}
				case 0x0806:
					classes["ARP"]++
					count(stepARPFirst, stepARPLast)
					wantTraits = []sim.TraitKV{{Key: 11, Value: "a2a2a2a2a2a2a2a2"}}
					if v1 {
						wantMeta = meta(0xa)
					}
				default:
					classes["other"]++
					count(stepDrop, stepDrop)
					wantRet = 1
				}
				if out.Ret != wantRet {
					report("packet %d: ret %d, want %d", i+1, out.Ret, wantRet)
					continue
				}
				if !slices.Equal(out.Traits, wantTraits) {
					report("packet %d: traits %v, want %v", i+1, out.Traits, wantTraits)
				}
				if wantRet == 1 {
					continue // traits and metadata leave with the frame only
				}
				if !bytes.Equal(out.Meta, wantMeta) || out.Skb == nil || out.Skb.MetaLen != len(wantMeta) {
					report("packet %d: metadata %x (skb %+v), want %x", i+1, out.Meta, out.Skb, wantMeta)
				}
				if !bytes.Equal(out.Data, pkt) {
					report("packet %d: the frame changed: %x", i+1, out.Data)
				}
			}
			t.Logf("%s layout: %v", layout, classes)
			got := map[key]uint64{}
			for _, e := range hintDump(t, o)["results"] {
				k, v := hintHex(e.Key), hintHex(e.Value)
				got[key{int(binary.LittleEndian.Uint32(k)), int32(binary.LittleEndian.Uint32(k[4:]))}] = binary.LittleEndian.Uint64(v)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("step %d (%s) returned %d %d times, want %d", k.step, traitsSteps[k.step].name, k.ret, got[k], n)
				}
			}
			for k, n := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("step %d (%s) returned %d %d times, want never", k.step, traitsSteps[k.step].name, k.ret, n)
				}
			}
		})
	}
}

func hintDump(t testing.TB, o *sim.Object) map[string][]struct{ Key, Value string } {
	t.Helper()
	d, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]struct{ Key, Value string }{}
	for name, es := range d {
		for _, e := range es {
			out[name] = append(out[name], struct{ Key, Value string }{e.Key, e.Value})
		}
	}
	return out
}

// The store's bytes decide how far bpf_xdp_adjust_head may push: down to the end of the traits
// (spec §5: "adjust_head lower bound becomes traits_start + traits_size + metalen"), where a new
// trait no longer fits. traits.c computes the distance from the layout; here the simulator must
// agree with it on one hand-built frame of each layout, and the frame must come out as it went in.
func TestAdjustHeadStopsAtTheTraitsStore(t *testing.T) {
	udp := hintFrame(0x0800, hintIPv4(msIPv4[0], hintUDP, 0))
	for _, c := range []struct {
		feature string
		store   int // header 16 + the values left before the push
	}{
		{kfuncs.FeatureTraits, 16 + 0 + 8 + 4 + 8},   // flag, key 3, saddr, len
		{kfuncs.FeatureTraitsV1, 16 + 8 + 2 + 4 + 8}, // key 3, key 4, saddr, len
	} {
		t.Run(c.feature, func(t *testing.T) {
			var f kfuncs.Features
			if err := f.Enable(c.feature); err != nil {
				t.Fatal(err)
			}
			o, prog := hintsObject(t, "traits", f, 1)
			x := hintsXDP(t, prog, nil)
			out := x.Run(udp, nil, sim.Conditions{IngressIfindex: 1})
			if out.Err != "" || out.Ret != 2 || !bytes.Equal(out.Data, udp) {
				t.Fatalf("ret %d err %q data %x", out.Ret, out.Err, out.Data)
			}
			res := map[int]int32{}
			for _, e := range hintDump(t, o)["results"] {
				k := hintHex(e.Key)
				res[int(binary.LittleEndian.Uint32(k))] = int32(binary.LittleEndian.Uint32(k[4:]))
			}
			for s, want := range map[int]int32{stepUDPFirst: -22, stepUDPFirst + 1: 0, stepUDPFirst + 2: -28, stepUDPFirst + 3: 0, stepUDPFirst + 4: 0, stepUDPFirst + 5: 0} {
				if res[s] != want {
					t.Errorf("%s: %d, want %d (the store holds %d bytes, so data may go down by %d)", traitsSteps[s].name, res[s], want, c.store, 256-40-c.store)
				}
			}
		})
	}
}

func TestTraitAndExportKfuncsNeedTheirFeature(t *testing.T) {
	for _, name := range []string{"traits", "export_skb"} {
		p, _ := corpus.Lookup(name)
		o, err := sim.Load(p.Object("v4"), sim.LoadOptions{})
		if err == nil {
			_, err = o.FindProgram(p.Entry)
		}
		if !errors.Is(err, kfuncs.ErrFeatureOff) {
			t.Errorf("%s without its feature: %v, want an error matching kfuncs.ErrFeatureOff", name, err)
		}
	}
}

// ---- export to the skb ----

// The steps of corpus/export_skb.c.
const (
	esTimestamp = iota
	esHash
	esVLAN
	esOwnMeta
	esExport
	esExportAgain
	esMetaAfter
	esReadBack
	esOwnIntact
)

func TestExportToSkbOnEveryDevice(t *testing.T) {
	for _, trace := range []string{"vlan.pcap", "mixed.pcap"} {
		recs := hintsTrace(t, trace)
		for _, prof := range hintProfiles {
			t.Run(trace+"/"+prof, func(t *testing.T) {
				d := hintDevices[prof]
				o, prog := hintsObject(t, "export_skb", kfuncs.Features{ExportToSkb: true}, 1)
				x := hintsXDP(t, prog, &device.Netdev{Profile: hintsProfile(t, prof)})
				type key struct {
					step int
					ret  int32
				}
				want := map[key]uint64{}
				errs := 0
				report := func(format string, args ...any) {
					if errs++; errs <= 10 {
						t.Errorf(format, args...)
					}
				}
				for i, r := range recs {
					if len(r.data) < 14 {
						continue
					}
					out := x.Run(r.data, nil, sim.Conditions{IngressIfindex: 1, TimeNs: r.ts})
					if out.Err != "" || out.Ret != 2 {
						report("packet %d: ret %d err %q", i+1, out.Ret, out.Err)
						continue
					}
					w := wantHints(d, msKey, r.data, r.ts)
					ipv4 := binary.BigEndian.Uint16(w.out[12:]) == 0x0800
					want[key{esTimestamp, int32(w.tsRet)}]++
					want[key{esHash, int32(w.hashRet)}]++
					want[key{esVLAN, int32(w.vlanRet)}]++
					if ipv4 {
						want[key{esOwnMeta, 0}]++
						want[key{esOwnIntact, 1}]++
					}
					want[key{esExport, 0}]++
					want[key{esExportAgain, -17}]++ // EEXIST
					want[key{esMetaAfter, -13}]++   // EACCES
					want[key{esReadBack, 1}]++

					// The metadata: struct xdp_skb_metadata (xdp_skb_metadata.h), then the
					// program's 8 bytes for IPv4.
					own := 0
					if ipv4 {
						own = 8
					}
					hash, typ := w.hash, w.rssType
					if !w.typeKnown {
						hash, typ = out.Hints["bpf_xdp_metadata_rx_hash"].Hash, out.Hints["bpf_xdp_metadata_rx_hash"].RSSType
					}
					le := binary.LittleEndian
					sm := make([]byte, 32)
					copy(sm, "XSKB")
					flags := uint32(0)
					if w.tsRet == 0 {
						le.PutUint64(sm[8:], w.ts)
						flags |= 1
					}
					if w.hashRet == 0 {
						le.PutUint32(sm[16:], hash)
						le.PutUint32(sm[20:], typ)
						flags |= 2
					}
					if w.vlanRet == 0 {
						binary.BigEndian.PutUint16(sm[24:], w.vlanProto)
						le.PutUint16(sm[26:], w.vlanTCI)
						flags |= 4
					}
					le.PutUint32(sm[28:], flags)
					if ipv4 {
						sm = le.AppendUint32(sm, 0x4f574e21)
						sm = le.AppendUint32(sm, uint32(len(w.out)))
					}
					if !bytes.Equal(out.Meta, sm) {
						report("packet %d: metadata\n %x\nwant %x", i+1, out.Meta, sm)
					}
					// The skb the kernel would build: the struct consumed, its fields populated.
					if out.Skb == nil || out.Skb.Exported == nil {
						report("packet %d: skb %+v, want exported fields", i+1, out.Skb)
						continue
					}
					e := out.Skb.Exported
					set := kfuncs.Hint(0)
					if w.tsRet == 0 && w.ts != 0 {
						set |= kfuncs.HintTimestamp
					}
					if w.hashRet == 0 {
						set |= kfuncs.HintHash
					}
					if w.vlanRet == 0 {
						set |= kfuncs.HintVLANTag
					}
					hashType := kfuncs.PktHashNone
					switch {
					case typ&8 != 0:
						hashType = kfuncs.PktHashL4
					case typ&3 != 0:
						hashType = kfuncs.PktHashL3
					}
					wantE := kfuncs.SkbFields{Set: set, MetaLen: own}
					if set&kfuncs.HintTimestamp != 0 {
						wantE.HwTstamp = w.ts
					}
					if set&kfuncs.HintHash != 0 {
						wantE.Hash, wantE.HashType = hash, hashType
					}
					if set&kfuncs.HintVLANTag != 0 {
						wantE.VLANProto, wantE.VLANTCI = w.vlanProto, w.vlanTCI
					}
					if *e != wantE || out.Skb.MetaLen != 32+own {
						report("packet %d: exported %+v (skb meta_len %d), want %+v (meta_len %d)", i+1, *e, out.Skb.MetaLen, wantE, 32+own)
					}
				}
				got := map[key]uint64{}
				for _, e := range hintDump(t, o)["results"] {
					k, v := hintHex(e.Key), hintHex(e.Value)
					got[key{int(binary.LittleEndian.Uint32(k)), int32(binary.LittleEndian.Uint32(k[4:]))}] = binary.LittleEndian.Uint64(v)
				}
				if !hintCountsEqual(got, want) {
					t.Errorf("results:\n got %v\nwant %v", got, want)
				}
			})
		}
	}
}

func hintCountsEqual[K comparable](a, b map[K]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
