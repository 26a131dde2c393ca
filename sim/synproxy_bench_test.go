package sim_test

import (
	"encoding/binary"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
)

// BenchmarkSynproxy runs corpus/synproxy over the two packets a SYN proxy lives on: SYNs of a
// flood (a conntrack miss, a raw SYN cookie, the SYN-ACK written in place and sent back with
// XDP_TX), and the packets of a connection conntrack has confirmed (a conntrack hit).
func BenchmarkSynproxy(b *testing.B) {
	for _, c := range []struct {
		name  string
		want  uint32
		flood bool
	}{{"a SYN flood", 3, true}, {"an established connection", 2, false}} {
		b.Run(c.name, func(b *testing.B) {
			x := synproxyXDP(b)
			var pkts [][]byte
			if c.flood { // SYNs from 1,024 source ports
				for i := range 1024 {
					pkts = append(pkts, corpus.SynproxyFrame(uint16(1024+i), 7, 0, 0x02))
				}
			} else {
				pkts = [][]byte{synproxyEstablish(b, x)}
			}
			cond := sim.Conditions{TimeNs: 1_700_000_000_000_000_000}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if o := x.Run(pkts[n%len(pkts)], nil, cond); o.Ret != c.want {
					b.Fatalf("packet %d: %d %s", n, o.Ret, o.Err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

func synproxyXDP(tb testing.TB) *sim.XDP {
	tb.Helper()
	o, err := sim.Load("../corpus/synproxy.v4.o", sim.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := o.FindProgram("xdp_synproxy")
	if err != nil {
		tb.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// synproxyEstablish completes a handshake through the proxy and returns a data packet of the
// connection, which conntrack now knows.
func synproxyEstablish(tb testing.TB, x *sim.XDP) []byte {
	tb.Helper()
	cond := sim.Conditions{TimeNs: 1_700_000_000_000_000_000}
	o := x.Run(corpus.SynproxyFrame(5000, 7, 0, 0x02), nil, cond)
	if o.Ret != 3 || len(o.Data) < 58 {
		tb.Fatalf("SYN: %d %s", o.Ret, o.Err)
	}
	cookie := binary.BigEndian.Uint32(o.Data[38:])
	if o := x.Run(corpus.SynproxyFrame(5000, 8, cookie+1, 0x10), nil, cond); o.Ret != 2 {
		tb.Fatalf("ACK: %d %s", o.Ret, o.Err)
	}
	return corpus.SynproxyFrame(5000, 8, cookie+1, 0x18)
}

// The packets of a SYN flood and of a confirmed connection do not allocate once the proxy is warm.
func TestSynproxyPacketsDoNotAllocate(t *testing.T) {
	x := synproxyXDP(t)
	est := synproxyEstablish(t, x)
	syn := corpus.SynproxyFrame(6000, 7, 0, 0x02)
	cond := sim.Conditions{TimeNs: 1_700_000_000_000_000_000}
	for _, c := range []struct {
		name string
		pkt  []byte
		want uint32
	}{{"a SYN", syn, 3}, {"a packet of a confirmed connection", est, 2}} {
		t.Run(c.name, func(t *testing.T) {
			x.Run(c.pkt, nil, cond)
			if n := testing.AllocsPerRun(100, func() {
				if o := x.Run(c.pkt, nil, cond); o.Ret != c.want {
					t.Fatalf("%d %s", o.Ret, o.Err)
				}
			}); n != 0 {
				t.Errorf("%v allocations per packet", n)
			}
		})
	}
}
