package xdptest_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/expect"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/sim/xdptest"
)

const planted = "../../corpus/planted_bug.v4.o"

// telemetry builds a UDP datagram to the planted_bug parser's port 7777 from 10.0.0.1, holding a
// telemetry record (version 1, type typ) with the given tag.
func telemetry(t testing.TB, typ byte, tag string) []byte {
	t.Helper()
	payload := append([]byte{1, typ, 0, 12, 0, 0, 0, 1}, tag...)
	return frame(t, &layers.UDP{SrcPort: 40000, DstPort: 7777}, payload)
}

// frame builds an Ethernet/IPv4 frame around l4 and payload, lengths and checksums right.
func frame(t testing.TB, l4 gopacket.SerializableLayer, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	switch l := l4.(type) {
	case *layers.UDP:
		ip.Protocol = layers.IPProtocolUDP
		_ = l.SetNetworkLayerForChecksum(ip)
	case *layers.TCP:
		ip.Protocol = layers.IPProtocolTCP
		_ = l.SetNetworkLayerForChecksum(ip)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func counter(t *testing.T, p *xdptest.Program, m string, key []byte) uint64 {
	t.Helper()
	v, err := p.Object.Maps[m].Lookup(key, 0)
	if err != nil {
		t.Fatalf("map %s key %x: %v", m, key, err)
	}
	if len(v) == 4 {
		return uint64(binary.LittleEndian.Uint32(v))
	}
	return binary.LittleEndian.Uint64(v)
}

func TestEveryInputStartsFromTheSnapshot(t *testing.T) {
	records := binary.LittleEndian.AppendUint32(nil, 0) // TLM_RECORDS
	source := []byte{10, 0, 0, 1}
	pkt := telemetry(t, 2, "abcd")

	t.Run("a record is counted once however often it runs", func(t *testing.T) {
		p := xdptest.Load(t, planted, xdptest.WithExactInputs()) // valid records lead to the planted bug
		for range 3 {
			if out := p.Run(t, pkt); out.Ret != 2 {
				t.Fatalf("verdict %d, want XDP_PASS", out.Ret)
			}
			if n := counter(t, p, "tlm_stats", records); n != 1 {
				t.Fatalf("records counted: %d, want 1", n)
			}
			if n := counter(t, p, "tlm_sources", source); n != 1 {
				t.Fatalf("packets from 10.0.0.1: %d, want 1", n)
			}
		}
	})
	t.Run("maps filled before Snapshot are where every input starts", func(t *testing.T) {
		p := xdptest.Load(t, planted, xdptest.WithExactInputs()) // valid records lead to the planted bug
		if err := p.Object.Maps["tlm_stats"].Update(records, binary.LittleEndian.AppendUint64(nil, 100), maps.UpdateAny, 0); err != nil {
			t.Fatal(err)
		}
		p.Snapshot()
		for range 2 {
			p.Run(t, pkt)
			if n := counter(t, p, "tlm_stats", records); n != 101 {
				t.Fatalf("records counted: %d, want 101", n)
			}
		}
	})
	t.Run("an input's map entries hold for that input only", func(t *testing.T) {
		p := xdptest.Load(t, planted, xdptest.WithExactInputs()) // valid records lead to the planted bug
		p.RunInput(t, xdptest.Input{Packet: pkt, Maps: []xdptest.MapEntry{{Map: "tlm_sources", Key: source, Value: []byte{7, 0, 0, 0}}}})
		if n := counter(t, p, "tlm_sources", source); n != 8 {
			t.Fatalf("packets from 10.0.0.1 after a preload of 7: %d, want 8", n)
		}
		p.Run(t, pkt)
		if n := counter(t, p, "tlm_sources", source); n != 1 {
			t.Fatalf("packets from 10.0.0.1 on the next input: %d, want 1", n)
		}
	})
	t.Run("an entry for a map the object lacks is an error naming it", func(t *testing.T) {
		p := xdptest.Load(t, planted, xdptest.WithExactInputs()) // valid records lead to the planted bug
		_, err := p.Outcome(xdptest.Input{Packet: pkt, Maps: []xdptest.MapEntry{{Map: "nope", Key: source, Value: source}}})
		if err == nil || !strings.Contains(err.Error(), `no map "nope"`) {
			t.Fatalf("error %v, want one naming the map", err)
		}
	})
}

// fakeT records what a test would report.
type fakeT struct {
	testing.TB
	errors []string
	fatal  bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.fatal = true
}

func TestAFailingInputIsReportedForReplay(t *testing.T) {
	p := xdptest.Load(t, planted)
	bug := telemetry(t, 2, "xdp!")
	pcap := filepath.Join(t.TempDir(), "crash.pcap")
	t.Setenv(xdptest.PcapEnv, pcap)
	ft := &fakeT{}
	out := p.Run(ft, bug)
	if out.Ret != 0 {
		t.Fatalf("verdict %d, want XDP_ABORTED", out.Ret)
	}
	if len(ft.errors) != 1 {
		t.Fatalf("reported %d errors, want 1: %q", len(ft.errors), ft.errors)
	}
	msg := ft.errors[0]
	abs, _ := filepath.Abs(planted)
	for _, want := range []string{"xdp_exception: XDP_ABORTED", fmt.Sprintf("packet (%d bytes): %x", len(bug), bug), "xdpsim run " + abs + " " + pcap} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q:\n%s", want, msg)
		}
	}
	got, err := xdptest.ReadPcap(pcap)
	if err != nil || len(got) != 1 || string(got[0]) != string(bug) {
		t.Fatalf("the pcap holds %x (%v), want the failing packet", got, err)
	}
}

func TestLoadErrorsStopTheTest(t *testing.T) {
	ft := &fakeT{}
	func() {
		defer func() { _ = recover() }() // Fatalf returned; Load goes on only to fail again
		xdptest.Load(ft, "no/such/object.o")
	}()
	if !ft.fatal || !strings.Contains(ft.errors[0], "no/such/object.o") {
		t.Fatalf("Load of a missing file reported %q (fatal %v), want a fatal error naming it", ft.errors, ft.fatal)
	}
	ft = &fakeT{}
	func() {
		defer func() { _ = recover() }()
		xdptest.LoadBytes(ft, "garbage.o", []byte("not an ELF object"))
	}()
	if !ft.fatal || !strings.Contains(ft.errors[0], "garbage.o: not a loadable BPF object") {
		t.Fatalf("LoadBytes of garbage reported %q, want a fatal error naming it", ft.errors)
	}
}

func TestLoadBytesRunsAsLoad(t *testing.T) {
	elf, err := os.ReadFile(planted)
	if err != nil {
		t.Fatal(err)
	}
	p := xdptest.LoadBytes(t, "planted_bug.o", elf, xdptest.WithProgram("xdp_planted_bug"), xdptest.WithExactInputs())
	if out := p.Run(t, telemetry(t, 3, "abcd")); out.Ret != 2 {
		t.Fatalf("verdict %d, want XDP_PASS", out.Ret)
	}
}

func TestDistillKeepsTheShortestPacketForEachPath(t *testing.T) {
	p := xdptest.Load(t, planted)
	short, long := telemetry(t, 1, "abcd"), telemetry(t, 1, "abcd and then some")
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	got := p.Distill([][]byte{long, arp, short, telemetry(t, 1, "abce")})
	if len(got) != 2 || string(got[0]) != string(arp) || string(got[1]) != string(short) {
		t.Fatalf("Distill kept %x, want the ARP frame and the short record", got)
	}
}

func TestChecks(t *testing.T) {
	good := frame(t, &layers.UDP{SrcPort: 1, DstPort: 2}, []byte("payload"))
	goodTCP := frame(t, &layers.TCP{SrcPort: 1, DstPort: 2, Seq: 7, Window: 100, DataOffset: 5}, []byte("payload"))
	withIP := func(f []byte, change func(ip []byte)) []byte {
		f = append([]byte(nil), f...)
		change(f[14:])
		return f
	}
	badIPSum := withIP(good, func(ip []byte) { ip[10] ^= 1 })
	badUDPSum := withIP(good, func(ip []byte) { ip[26] ^= 1 })
	badTCPSum := withIP(goodTCP, func(ip []byte) { ip[36] ^= 1 })
	natWithoutFix := withIP(good, func(ip []byte) { // a new source address, IP checksum fixed, UDP's not
		ip[15] = 9
		binary.BigEndian.PutUint16(ip[10:], 0)
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum(ip[:20])))
	})
	longTotal := withIP(good, func(ip []byte) { ip[3] += 40 })
	noUDPSum := withIP(good, func(ip []byte) { ip[26], ip[27] = 0, 0 })
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	pass := func(data []byte) sim.Outcome {
		o := sim.Outcome{Exception: ""}
		o.Ret, o.Data = 2, data
		return o
	}
	tests := []struct {
		name  string
		check xdptest.Check
		in    []byte
		out   sim.Outcome
		want  string // "" for no error
	}{
		{"a well-formed packet passed on is well formed", xdptest.WellFormed, good, pass(good), ""},
		{"a broken IPv4 header checksum is malformed", xdptest.WellFormed, good, pass(badIPSum), "IPv4 header checksum"},
		{"a broken UDP checksum is malformed", xdptest.WellFormed, good, pass(badUDPSum), "UDP checksum"},
		{"a broken TCP checksum is malformed", xdptest.WellFormed, goodTCP, pass(badTCPSum), "TCP checksum"},
		{"a rewritten address without a UDP checksum fix is malformed", xdptest.WellFormed, good, pass(natWithoutFix), "UDP checksum"},
		{"a total length beyond the frame is malformed", xdptest.WellFormed, good, pass(longTotal), "malformed IPv4 header"},
		{"a zero UDP checksum over IPv4 means none", xdptest.WellFormed, good, pass(noUDPSum), ""},
		{"garbage in may go out as it came", xdptest.WellFormed, badIPSum, pass(badIPSum), ""},
		{"frames that are not IP pass", xdptest.WellFormed, arp, pass(arp), ""},
		{"a dropped frame is not looked at", xdptest.WellFormed, good, sim.Outcome{}, ""},
		{"a frame within the limits passes", xdptest.LengthBetween(60, 1514), good, pass(good), ""},
		{"a frame too short fails", xdptest.LengthBetween(100, 1514), good, pass(good), "not within 100..1514"},
		{"a fault fails NoFault", xdptest.NoFault, good, sim.Outcome{Fault: errors.New("bad access")}, "the program faulted: bad access"},
		{"XDP_ABORTED fails NoAborted", xdptest.NoAborted, good, sim.Outcome{Exception: "XDP_ABORTED"}, "XDP_ABORTED"},
		{"an invalid action fails NoException", xdptest.NoException, good, func() sim.Outcome {
			o := sim.Outcome{Exception: "invalid action 9"}
			o.Ret = 9
			return o
		}(), "xdp_exception: invalid action 9"},
		{"a refused packet fails nothing", xdptest.NoException, good, func() sim.Outcome {
			o := sim.Outcome{Exception: ""}
			o.Err = "the kernel refuses this packet"
			return o
		}(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(xdptest.Input{Packet: tt.in}, tt.out)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func sum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return s
}

func TestDistillShortensSeedsThatStillReachTheSame(t *testing.T) {
	p := xdptest.Load(t, planted)
	long := telemetry(t, 1, "abcd and a long trailing payload that the parser never reads")
	got := p.Distill([][]byte{long})
	if len(got) != 1 {
		t.Fatalf("Distill kept %d packets of one", len(got))
	}
	short := got[0]
	if len(short) >= len(long) {
		t.Fatalf("the seed was not shortened: %d bytes, was %d", len(short), len(long))
	}
	if bad := expect.Checksums(short); bad != nil {
		t.Fatalf("the shortened seed is malformed: %v\n%x", bad, short)
	}
	// It is still a record the parser counts, and it still ends as the long one did.
	for _, pkt := range [][]byte{long, short} {
		out, err := p.Outcome(xdptest.Input{Packet: pkt})
		if err != nil || out.Ret != 2 || counter(t, p, "tlm_stats", binary.LittleEndian.AppendUint32(nil, 0)) != 1 {
			t.Fatalf("%x: verdict %d (%v), records %d; want XDP_PASS and 1", pkt, out.Ret, err, counter(t, p, "tlm_stats", binary.LittleEndian.AppendUint32(nil, 0)))
		}
	}
}

func TestRunTriesTheNeighboursTheComparisonsAskFor(t *testing.T) {
	near := telemetry(t, 2, "xdq!") // one byte off the planted bug
	t.Run("the neighbour with the tested-for byte fails, and is reported", func(t *testing.T) {
		p := xdptest.Load(t, planted)
		ft := &fakeT{}
		if out := p.Run(ft, near); out.Ret != 2 {
			t.Errorf("the input's own verdict is %d, want XDP_PASS", out.Ret)
		}
		want := strings.Replace(fmt.Sprintf("%x", near), "786471", "786470", 1)
		if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "found from the input") || !strings.Contains(ft.errors[0], "packet (") || !strings.Contains(ft.errors[0], want) {
			t.Fatalf("reported %q, want the neighbour %s", ft.errors, want)
		}
		if n := counter(t, p, "tlm_stats", binary.LittleEndian.AppendUint32(nil, 0)); n != 1 {
			t.Errorf("after Run the maps hold %d records, want the input's 1", n)
		}
	})
	t.Run("a record three bytes off is found through neighbours of neighbours", func(t *testing.T) {
		p := xdptest.Load(t, planted)
		ft := &fakeT{}
		p.Run(ft, telemetry(t, 2, "abc!"))
		if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "786470") || !strings.Contains(ft.errors[0], "XDP_ABORTED") {
			t.Fatalf("reported %q, want the record with tag xdp!", ft.errors)
		}
	})
	t.Run("WithExactInputs runs the input alone", func(t *testing.T) {
		p := xdptest.Load(t, planted, xdptest.WithExactInputs())
		ft := &fakeT{}
		p.Run(ft, near)
		if len(ft.errors) != 0 {
			t.Fatalf("reported %q", ft.errors)
		}
	})
}

// TestMapsAfterRunAreTheInputsAlone holds the map reset exact with neighbours on: after Run (which
// runs an input's neighbours too, each from the snapshot), every map holds exactly what it holds
// after the input alone runs from the snapshot, element for element (in the map's order) and CPU
// for CPU, input after input, on the planted-bug program (an array and a hash map) and the parser
// (an array).
func TestMapsAfterRunAreTheInputsAlone(t *testing.T) {
	pkts, err := xdptest.ReadPcap("../../corpus/traces/mixed.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pkts = append(pkts[:60], telemetry(t, 2, "abcd"), telemetry(t, 1, "abcd"), telemetry(t, 3, "xdq"))
	for _, tc := range []struct{ name, obj string }{
		{"the planted-bug program's array and hash map", planted},
		{"the parser's array", "../testdata/parser.o"},
	} {
		obj := tc.obj
		t.Run(tc.name, func(t *testing.T) {
			p := xdptest.Load(t, obj, xdptest.WithChecks())
			alone := xdptest.Load(t, obj, xdptest.WithChecks(), xdptest.WithExactInputs())
			for i, pkt := range pkts {
				p.Run(t, pkt)
				if _, err := alone.Outcome(xdptest.Input{Packet: pkt}); err != nil {
					t.Fatal(err)
				}
				for name, m := range p.Object.Maps {
					if got, want := dumpMap(p.Object.Maps[name]), dumpMap(alone.Object.Maps[name]); got != want {
						t.Fatalf("packet %d: map %s (%v) after Run:\n%s\nafter the input alone:\n%s", i, name, m.Type(), got, want)
					}
				}
			}
		})
	}
}

// dumpMap is every element of m with every CPU's value, in the map's order.
func dumpMap(m *maps.Map) string {
	var b strings.Builder
	m.Iterate(func(key []byte, values [][]byte) bool {
		fmt.Fprintf(&b, "%x:", key)
		for _, v := range values {
			fmt.Fprintf(&b, " %x", v)
		}
		b.WriteByte('\n')
		return true
	})
	return b.String()
}
