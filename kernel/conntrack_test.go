package kernel_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// The request and response of testdata/xdp_conntrack.c.
const (
	ctOpLookup = iota
	ctOpInsert
	ctOpChangeTimeout
	ctOpChangeStatus
	ctOpSetStatusInsert
	ctOpNATInsert
	ctOpLookupMark
)

type ctReq struct {
	op, optsSz, tupleSz, manip uint8
	arg                        uint32
	opts                       [24]byte
	tuple                      [40]byte
	addr                       [16]byte
}

type ctResp struct {
	Error           int32
	Dir, ZoneDir    uint8
	Found, Inserted uint8
	Ret             int32
	Status, Mark    uint32
	Timeout         int32 // jiffies left
}

const ctRespOff = 14 + 88

// ctOpts fills struct bpf_ct_opts.
type ctOpts struct {
	netns    int32
	proto    uint8
	zone     uint16
	zoneDir  uint8
	reserved [3]byte
	size     uint8
}

func (r *ctReq) setOpts(o ctOpts) {
	le := binary.LittleEndian
	le.PutUint32(r.opts[0:], uint32(o.netns))
	r.opts[8] = o.proto
	le.PutUint16(r.opts[10:], o.zone)
	r.opts[12] = o.zoneDir
	copy(r.opts[13:16], o.reserved[:])
	r.optsSz = o.size
}

// setTuple fills struct bpf_sock_tuple from "addr:port" strings.
func (r *ctReq) setTuple(src, dst string) {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	r.tuple = [40]byte{}
	if s.Addr().Is4() {
		a, b := s.Addr().As4(), d.Addr().As4()
		copy(r.tuple[0:], a[:])
		copy(r.tuple[4:], b[:])
		binary.BigEndian.PutUint16(r.tuple[8:], s.Port())
		binary.BigEndian.PutUint16(r.tuple[10:], d.Port())
		r.tupleSz = 12
	} else {
		a, b := s.Addr().As16(), d.Addr().As16()
		copy(r.tuple[0:], a[:])
		copy(r.tuple[16:], b[:])
		binary.BigEndian.PutUint16(r.tuple[32:], s.Port())
		binary.BigEndian.PutUint16(r.tuple[34:], d.Port())
		r.tupleSz = 36
	}
}

func (r ctReq) packet() []byte {
	b := make([]byte, 14, ctRespOff+24)
	b[12], b[13] = 0x08, 0x00
	b = append(b, r.op, r.optsSz, r.tupleSz, r.manip)
	b = binary.LittleEndian.AppendUint32(b, r.arg)
	b = append(b, r.opts[:]...)
	b = append(b, r.tuple[:]...)
	b = append(b, r.addr[:]...)
	return append(b, make([]byte, 24)...)
}

func parseResp(data []byte) ctResp {
	le := binary.LittleEndian
	d := data[ctRespOff:]
	return ctResp{Error: int32(le.Uint32(d[0:])), Dir: d[4], ZoneDir: d[5], Found: d[6], Inserted: d[7],
		Ret: int32(le.Uint32(d[8:])), Status: le.Uint32(d[12:]), Mark: le.Uint32(d[16:]), Timeout: int32(le.Uint32(d[20:]))}
}

// ctStep is one packet of a conntrack scenario and what the kernel's code says it answers.
type ctStep struct {
	name string
	req  ctReq
	want ctResp
}

// req builds a request: op, tuple, options and argument.
func req(op uint8, src, dst string, o ctOpts, arg uint32) ctReq {
	var r ctReq
	r.op, r.arg = op, arg
	r.setTuple(src, dst)
	r.setOpts(o)
	return r
}

var tcp16 = ctOpts{netns: -1, proto: 6, size: 16}

const (
	ipsSeenReply = 1 << 1
	ipsAssured   = 1 << 2
	ipsConfirmed = 1 << 3
	ipsSrcNAT    = 1 << 4
	ipsDying     = 1 << 9
	ipsSNATDone  = 1 << 7
)

func ctSteps() []ctStep {
	c4, s4 := "192.0.2.1:40000", "198.51.100.7:80"
	with := func(o ctOpts, f func(*ctOpts)) ctOpts { f(&o); return o }
	withTupleSize := func(r ctReq, n uint8) ctReq { r.tupleSz = n; return r }
	nat := req(ctOpNATInsert, "10.0.0.5:1234", "192.0.2.53:53", ctOpts{netns: -1, proto: 17, size: 16}, 4000)
	copy(nat.addr[:], []byte{203, 0, 113, 1})
	nat.manip = 0 // NF_NAT_MANIP_SRC
	return []ctStep{
		// The checks of __bpf_nf_ct_lookup, in order.
		{"a lookup in an empty table finds nothing, and a zone direction of 0 becomes 3", req(ctOpLookup, c4, s4, tcp16, 0), ctResp{Error: -2, ZoneDir: 3}},
		{"the 12-byte opts of older kernels still work, without zones", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.size = 12 }), 0), ctResp{Error: -2}},
		{"opts__sz 8 is refused", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.size = 8 }), 0), ctResp{Error: -22}},
		{"opts__sz 20 is refused", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.size = 20 }), 0), ctResp{Error: -22}},
		{"a reserved byte set is refused", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.reserved[2] = 1 }), 0), ctResp{Error: -22}},
		{"a zone id in the 12-byte layout is refused", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.size, o.zone = 12, 3 }), 0), ctResp{Error: -22}},
		{"ICMP is refused with EPROTO", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.proto = 1 }), 0), ctResp{Error: -71, ZoneDir: 0}},
		{"a lookup checks the protocol before the namespace id", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.proto, o.netns = 1, -2 }), 0), ctResp{Error: -71}},
		{"an allocation checks the namespace id first", req(ctOpInsert, c4, s4, with(tcp16, func(o *ctOpts) { o.proto, o.netns = 1, -2 }), 0), ctResp{Error: -22}},
		{"a namespace id below -1 is refused", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.netns = -2 }), 0), ctResp{Error: -22}},
		{"a tuple of 20 bytes is neither family", withTupleSize(req(ctOpLookup, c4, s4, tcp16, 0), 20), ctResp{Error: -97}},
		{"a namespace id that names no namespace is ENONET", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.netns = 5 }), 0), ctResp{Error: -64}},
		// Allocation, insertion, lookups.
		{"an allocation with a 5 s timeout is inserted, confirmed", req(ctOpInsert, c4, s4, tcp16, 5000), ctResp{ZoneDir: 3, Found: 1, Inserted: 1, Status: ipsConfirmed, Timeout: 1250}},
		{"the original direction finds it", req(ctOpLookup, c4, s4, tcp16, 0), ctResp{ZoneDir: 3, Found: 1, Status: ipsConfirmed, Timeout: 1250}},
		{"the reply direction finds it, saying so", req(ctOpLookup, s4, c4, tcp16, 0), ctResp{Dir: 1, ZoneDir: 3, Found: 1, Status: ipsConfirmed, Timeout: 1250}},
		{"another zone does not", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.zone = 5 }), 0), ctResp{Error: -2, ZoneDir: 3}},
		{"UDP does not", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.proto = 17 }), 0), ctResp{Error: -2, ZoneDir: 3}},
		{"a second entry of the connection is not inserted", req(ctOpInsert, c4, s4, tcp16, 5000), ctResp{ZoneDir: 3, Found: 1}},
		{"nor one of its reply direction", req(ctOpInsert, s4, c4, tcp16, 5000), ctResp{ZoneDir: 3, Found: 1}},
		{"SEEN_REPLY and ASSURED can be set", req(ctOpChangeStatus, c4, s4, tcp16, ipsSeenReply|ipsAssured|ipsConfirmed), ctResp{ZoneDir: 3, Found: 1, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Timeout: 1250}},
		{"clearing ASSURED is EBUSY", req(ctOpChangeStatus, c4, s4, tcp16, ipsSeenReply|ipsConfirmed), ctResp{ZoneDir: 3, Found: 1, Ret: -16, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Timeout: 1250}},
		{"setting DYING is EBUSY", req(ctOpChangeStatus, c4, s4, tcp16, ipsSeenReply|ipsAssured|ipsConfirmed|ipsDying), ctResp{ZoneDir: 3, Found: 1, Ret: -16, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Timeout: 1250}},
		{"the timeout can change to a minute", req(ctOpChangeTimeout, c4, s4, tcp16, 60000), ctResp{ZoneDir: 3, Found: 1, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Timeout: 15000}},
		{"a program may write the mark", req(ctOpLookupMark, c4, s4, tcp16, 77), ctResp{ZoneDir: 3, Found: 1, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Mark: 77, Timeout: 15000}},
		{"and the mark stays", req(ctOpLookup, c4, s4, tcp16, 0), ctResp{ZoneDir: 3, Found: 1, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Mark: 77, Timeout: 15000}},
		{"an allocation's status can be set before insertion", req(ctOpSetStatusInsert, "192.0.2.2:1", s4, tcp16, ipsSeenReply|ipsAssured), ctResp{ZoneDir: 3, Found: 1, Inserted: 1, Status: ipsSeenReply | ipsAssured | ipsConfirmed, Timeout: 2500}},
		{"but not to CONFIRMED", req(ctOpSetStatusInsert, "192.0.2.3:1", s4, tcp16, ipsConfirmed), ctResp{ZoneDir: 3, Found: 1, Inserted: 1, Ret: -16, Status: ipsConfirmed, Timeout: 2500}},
		{"source NAT rewrites the reply tuple", nat, ctResp{ZoneDir: 3, Found: 1, Inserted: 1, Status: ipsSrcNAT | ipsSNATDone | ipsConfirmed, Timeout: 2500}},
		{"the rewritten reply tuple finds the entry", req(ctOpLookup, "192.0.2.53:53", "203.0.113.1:4000", ctOpts{netns: -1, proto: 17, size: 16}, 0), ctResp{Dir: 1, ZoneDir: 3, Found: 1, Status: ipsSrcNAT | ipsSNATDone | ipsConfirmed, Timeout: 2500}},
		{"the original reply tuple does not", req(ctOpLookup, "192.0.2.53:53", "10.0.0.5:1234", ctOpts{netns: -1, proto: 17, size: 16}, 0), ctResp{Error: -2, ZoneDir: 3}},
		{"an entry can live in zone 7", req(ctOpInsert, c4, s4, with(tcp16, func(o *ctOpts) { o.zone = 7 }), 1000), ctResp{ZoneDir: 3, Found: 1, Inserted: 1, Status: ipsConfirmed, Timeout: 250}},
		{"where zone 7 finds it", req(ctOpLookup, c4, s4, with(tcp16, func(o *ctOpts) { o.zone = 7 }), 0), ctResp{ZoneDir: 3, Found: 1, Status: ipsConfirmed, Timeout: 250}},
		{"an IPv6 entry is inserted", req(ctOpInsert, "[2001:db8::1]:5000", "[2001:db8::2]:443", tcp16, 3000), ctResp{ZoneDir: 3, Found: 1, Inserted: 1, Status: ipsConfirmed, Timeout: 750}},
		{"and found from its reply side", req(ctOpLookup, "[2001:db8::2]:443", "[2001:db8::1]:5000", tcp16, 0), ctResp{Dir: 1, ZoneDir: 3, Found: 1, Status: ipsConfirmed, Timeout: 750}},
	}
}

// TestConntrackKfuncsAgreeWithTheKernel runs the conntrack scenario on an empty table in the
// simulator and, in a network namespace of its own, in the kernel, through the XDP kfuncs
// (bpf_xdp_ct_*) and through the tc ones (bpf_skb_ct_*): each side must answer as the kernel's
// code says, and as the other.
func TestConntrackKfuncsAgreeWithTheKernel(t *testing.T) {
	obj := filepath.Join("testdata", "xdp_conntrack.o")
	for _, prog := range []string{"ct_probe", "ct_probe_tc"} {
		t.Run(prog, func(t *testing.T) { conntrackScenario(t, obj, prog) })
	}
}

func conntrackScenario(t *testing.T, obj, prog string) {
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram(prog)
	if err != nil {
		t.Fatal(err)
	}
	tc := prog == "ct_probe_tc"
	var simRun func(pkt []byte) sim.Outcome
	if tc {
		tcs, err := sim.NewTC(p)
		if err != nil {
			t.Fatal(err)
		}
		simRun = func(pkt []byte) sim.Outcome {
			return tcs.Run(pkt, nil, sim.Conditions{TimeNs: 1_700_000_000_000_000_000})
		}
	} else {
		x, err := sim.NewXDP(p)
		if err != nil {
			t.Fatal(err)
		}
		simRun = func(pkt []byte) sim.Outcome {
			return x.Run(pkt, nil, sim.Conditions{TimeNs: 1_700_000_000_000_000_000})
		}
	}
	pass := uint32(2)
	if tc {
		pass = 0
	}
	var kp *kernel.Program
	if kerr := kernel.Available(); kerr == nil {
		if kp, err = kernel.Load(obj, kernel.Options{Program: prog, OwnNamespace: true}); err != nil {
			t.Fatal(err)
		}
		defer kp.Close()
	} else {
		t.Logf("kernel side skipped: %v", kerr)
	}
	start := time.Now()
	for _, st := range ctSteps() {
		t.Run(st.name, func(t *testing.T) {
			pkt := st.req.packet()
			s := simRun(pkt)
			if s.Err != "" || s.Ret != pass {
				t.Fatalf("simulator: returned %d %s", s.Ret, s.Err)
			}
			if got := parseResp(s.Data); got != st.want {
				t.Errorf("simulator: %s", respDiff(got, st.want))
			}
			if kp == nil {
				return
			}
			var k result.Packet
			if tc {
				k = kp.RunTC(pkt, nil, kernel.Context{})
			} else {
				k = kp.Run(pkt, nil, kernel.Context{})
			}
			if k.Err != "" || k.Ret != pass {
				t.Fatalf("kernel: returned %d %s", k.Ret, k.Err)
			}
			got := parseResp(k.Data)
			// The kernel's clock moves while the test runs (250 jiffies a second): an entry's
			// time left may have shrunk by the jiffies since the scenario began, and no more.
			elapsed := int32(time.Since(start).Milliseconds()/4) + 1
			if d := st.want.Timeout - got.Timeout; d >= 0 && d <= elapsed {
				got.Timeout = st.want.Timeout
			}
			if got != st.want {
				t.Errorf("kernel: %s", respDiff(got, st.want))
			}
		})
	}
}

func respDiff(got, want ctResp) string {
	return fmt.Sprintf("got %+v\nwant %+v", got, want)
}
