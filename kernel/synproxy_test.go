package kernel_test

import (
	"encoding/binary"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// proxySide runs corpus/synproxy on one side: the simulator, or the kernel in a network namespace of
// its own (so that its conntrack table starts empty).
type proxySide struct {
	name string
	run  func(pkt []byte) result.Packet
	maps func() (result.Maps, error)
}

func synproxySides(t *testing.T, obj string) []proxySide {
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("xdp_synproxy")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	sides := []proxySide{{"simulator",
		func(pkt []byte) result.Packet {
			return x.Run(pkt, nil, sim.Conditions{TimeNs: 1_700_000_000_000_000_000}).Packet
		}, o.DumpMaps}}
	if err := kernel.Available(); err != nil {
		t.Logf("kernel side skipped: %v", err)
		return sides
	}
	kp, err := kernel.Load(obj, kernel.Options{Program: "xdp_synproxy", OwnNamespace: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Close() })
	return append(sides, proxySide{"kernel", func(pkt []byte) result.Packet { return kp.Run(pkt, nil, kernel.Context{}) }, kp.DumpMaps})
}

// A whole handshake through the proxy on each side, with that side's own cookies: the SYN is
// answered with a SYN-ACK, the ACK carrying its cookie passes and enters the connection into
// conntrack, after which the connection's packets pass; an ACK with a wrong cookie is dropped.
func TestSynproxyHandshakeOnEachSide(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		fam := "IPv4"
		if v6 {
			fam = "IPv6"
		}
		obj := corpus.Programs()[0].Object("v4")
		for _, p := range corpus.Programs() {
			if p.Name == "synproxy" {
				obj = p.Object("v4")
			}
		}
		sides := synproxySides(t, obj)
		for _, side := range sides {
			t.Run(fam+" on the "+side.name, func(t *testing.T) {
				const seq = 0x10000000
				syn := tcpPacket(v6, seq, 0, tcpSYN, 2, 4, 0x05, 0xb4)
				out := side.run(syn)
				if out.Err != "" || out.Ret != 3 {
					t.Fatalf("the SYN got %d (%s), want XDP_TX", out.Ret, out.Err)
				}
				if _, err := corpus.MaskCookies(out.Data); err != nil {
					t.Fatalf("SYN-ACK: %v", err)
				}
				ipLen := 20
				if v6 {
					ipLen = 40
				}
				tcp := out.Data[14+ipLen:]
				if tcp[13] != 0x12 || binary.BigEndian.Uint32(tcp[8:]) != seq+1 || binary.BigEndian.Uint16(tcp[22:]) != wantMSS(v6) {
					t.Fatalf("the SYN-ACK's TCP header is %x", tcp[:24])
				}
				cookie := binary.BigEndian.Uint32(tcp[4:])
				for _, step := range []struct {
					name string
					pkt  []byte
					want uint32
				}{
					{"an ACK with a wrong cookie is dropped", tcpPacket(v6, seq+1, cookie+1+1000, tcpACK), 1},
					{"the handshake's ACK passes", tcpPacket(v6, seq+1, cookie+1, tcpACK), 2},
					{"then the connection's data passes", tcpPacket(v6, seq+1, cookie+1, tcpACK|0x08), 2},
					{"and a SYN of it too, as conntrack knows it", tcpPacket(v6, seq, 0, tcpSYN), 2},
				} {
					if got := side.run(step.pkt); got.Ret != step.want || got.Err != "" {
						t.Errorf("%s: got %d (%s), want %d", step.name, got.Ret, got.Err, step.want)
					}
				}
			})
		}
		if len(sides) == 2 {
			t.Run(fam+": both sides count the same", func(t *testing.T) {
				sm, err := sides[0].maps()
				if err != nil {
					t.Fatal(err)
				}
				km, err := sides[1].maps()
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range result.CompareMaps(sm, km) {
					t.Error(d)
				}
			})
		}
	}
}

// wantMSS is the MSS a SYN asking for 1460 gets: the largest of the cookie's table not above it.
func wantMSS(v6 bool) uint16 {
	if v6 {
		return 1440
	}
	return 1460
}
