package kernel_test

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// TestFibLookupAgreesWithKernel runs the corpus router over packets toward every kind of
// destination, with the same host configuration given to the simulator (as a file) and built in
// the kernel's test namespace, and requires full agreement. The kernel's answers, measured on 6.18:
// success with the neighbour's and the device's MACs (TTL decremented, then bpf_redirect),
// NO_NEIGH for an unresolved gateway, FRAG_NEEDED before the neighbour when the packet exceeds the
// device MTU, the route types' own codes, and NOT_FWDED for local and unrouted destinations.
func TestFibLookupAgreesWithKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	// corpus/hosts/router.json: a router with one device (MTU 1400), a directly connected /24 and
	// /64, routes through gateways with and without a resolved neighbour, and blackhole,
	// unreachable and prohibit routes.
	host, err := sim.LoadHost(filepath.Join(corpus.Dir(), "hosts", "router.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := corpus.Lookup("fib_forward")
	vars := map[string]any{"fib_table": uint32(0)} // the main table
	kp, err := kernel.Load(p.Object("v4"), kernel.Options{Program: p.Entry, Variables: vars, HostSetup: host.Commands()})
	if err != nil {
		t.Fatal(err)
	}
	defer kp.Close()
	// The kernel's answers, then the simulator's on every engine.
	type probe struct {
		dst  string
		size int
		pkt  []byte
		k    result.Packet
	}
	var probes []probe
	for _, dst := range []string{"192.0.2.7", "198.51.100.9", "203.0.113.5", "198.18.1.1", "100.64.1.1", "10.1.0.2",
		"10.1.0.77", "8.8.8.8", "10.1.0.1", "127.0.0.1", "2001:db8:99::5", "2001:db8:1::2", "2001:db8:1::9", "2001:db8:77::1", "ff02::1"} {
		for _, size := range []int{100, 1500} {
			pkt := routedPacket(t, dst, size)
			probes = append(probes, probe{dst, size, pkt, kp.Run(pkt, nil, kernel.Context{IngressIfindex: 1})})
		}
	}
	km, _ := kp.DumpMaps()
	for _, e := range vm.Engines() {
		t.Run("on the "+e.Name()+" engine", func(t *testing.T) {
			obj, err := sim.Load(p.Object("v4"), sim.LoadOptions{CPUs: kp.NumCPU(), Set: vars})
			if err != nil {
				t.Fatal(err)
			}
			prog, err := obj.FindProgram(p.Entry)
			if err != nil {
				t.Fatal(err)
			}
			x, err := sim.NewXDP(prog)
			if err != nil {
				t.Fatal(err)
			}
			x.SetHost(host)
			x.Machine().SetEngine(e)
			for n, pr := range probes {
				s := x.Run(pr.pkt, nil, sim.Conditions{IngressIfindex: 1})
				for _, d := range result.ComparePackets(n+1, s.Packet, pr.k) {
					t.Errorf("to %s, %d bytes of payload: %s", pr.dst, pr.size, d)
				}
			}
			sm, _ := obj.DumpMaps()
			for _, d := range result.CompareMaps(sm, km) {
				t.Error(d)
			}
			// The count of each answer, by hand from the configuration and the measured rules:
			// success for the small packets to 192.0.2.7, 10.1.0.2, 2001:db8:99::5 and
			// 2001:db8:1::2; FRAG_NEEDED (MTU 1400) for the large ones and for the large packets
			// toward unresolved neighbours; NO_NEIGH for the small ones to 198.51.100.9, 10.1.0.77
			// and 2001:db8:1::9; each special route type twice; NOT_FWDED for the unrouted, local
			// and multicast destinations.
			want := map[uint32]uint64{0: 4, 1: 2, 2: 2, 3: 2, 4: 10, 7: 3, 8: 7}
			for rc := uint32(0); rc < 16; rc++ {
				v, err := obj.Maps["fib_results"].Lookup([]byte{byte(rc), 0, 0, 0}, 0)
				if err != nil {
					t.Fatal(err)
				}
				if got := binary.LittleEndian.Uint64(v); got != want[rc] {
					t.Errorf("answer %d given %d times, want %d", rc, got, want[rc])
				}
			}
		})
	}
}

func routedPacket(t *testing.T, dst string, payload int) []byte {
	ip := net.ParseIP(dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 8}}
	udp := &layers.UDP{SrcPort: 1000, DstPort: 2000}
	var l3 gopacket.SerializableLayer
	if ip.To4() != nil {
		eth.EthernetType = layers.EthernetTypeIPv4
		v4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP("172.16.0.5"), DstIP: ip}
		udp.SetNetworkLayerForChecksum(v4)
		l3 = v4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: net.ParseIP("2001:db8:5::5"), DstIP: ip}
		udp.SetNetworkLayerForChecksum(v6)
		l3 = v6
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, l3, udp, gopacket.Payload(make([]byte, payload))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
