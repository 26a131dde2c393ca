package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// Return values of tc programs (include/uapi/linux/pkt_cls.h) and of tcx programs
// (enum tcx_action_base in include/uapi/linux/bpf.h), as 32-bit values.
const (
	TCActUnspec     = ^uint32(0) // -1
	TCActOK         = 0
	TCActReclassify = 1
	TCActShot       = 2
	TCActPipe       = 3
	TCActStolen     = 4
	TCActQueued     = 5
	TCActRepeat     = 6
	TCActRedirect   = 7
	TCActTrap       = 8

	TCXNext     = TCActUnspec
	TCXPass     = TCActOK
	TCXDrop     = TCActShot
	TCXRedirect = TCActRedirect
)

// What a tc hook does with a packet once its programs ran (TCOutcome.Action).
const (
	// TCPass: the packet continues into the stack (TC_ACT_OK, TCX_PASS, and every value the hook
	// treats as "no decision": TC_ACT_UNSPEC and TCX_NEXT after the last program, and under
	// cls_bpf's direct action TC_ACT_PIPE, TC_ACT_RECLASSIFY and unknown values).
	TCPass = "pass"
	// TCDrop: the packet is freed (TC_ACT_SHOT, TCX_DROP; a redirect that cannot be done).
	TCDrop = "drop"
	// TCRedirected: the packet leaves for another device (TC_ACT_REDIRECT, TCX_REDIRECT).
	TCRedirected = "redirect"
	// TCStolen: the program took the packet (TC_ACT_STOLEN, TC_ACT_QUEUED, TC_ACT_TRAP): it is
	// consumed, not delivered.
	TCStolen = "stolen"
)

// SkbContext is the struct __sk_buff a caller of BPF_PROG_TEST_RUN passes in for a tc program
// (ctx_in) and gets back (ctx_out): only these fields may be set on input (the kernel refuses
// others with EINVAL), and the kernel writes them back after the run, gso_size excepted, which it
// only reads.
type SkbContext struct {
	Mark           uint32
	Priority       uint32
	IngressIfindex uint32 // skb->skb_iif
	// Ifindex names the device the skb arrives on: 0 and 1 mean loopback; another one must
	// exist (ENODEV otherwise).
	Ifindex  uint32
	CB       [5]uint32
	Tstamp   uint64
	WireLen  uint32 // 0: the packet's length; else at least that and at most 65536
	GSOSegs  uint32 // at most 65535
	GSOSize  uint32
	Hwtstamp uint64
}

// Marshal lays the context out as struct __sk_buff (192 bytes, little-endian).
func (c *SkbContext) Marshal() []byte {
	b := make([]byte, verifier.SkbSize)
	c.marshalTo(b)
	return b
}

// marshalTo lays the context out in b, which holds verifier.SkbSize zeroed bytes.
func (c *SkbContext) marshalTo(b []byte) {
	le.PutUint32(b[verifier.SkbMark:], c.Mark)
	le.PutUint32(b[verifier.SkbPriority:], c.Priority)
	le.PutUint32(b[verifier.SkbIngressIfindex:], c.IngressIfindex)
	le.PutUint32(b[verifier.SkbIfindex:], c.Ifindex)
	for i, v := range c.CB {
		le.PutUint32(b[verifier.SkbCB+4*i:], v)
	}
	le.PutUint64(b[verifier.SkbTstamp:], c.Tstamp)
	le.PutUint32(b[verifier.SkbWireLen:], c.WireLen)
	le.PutUint32(b[verifier.SkbGSOSegs:], c.GSOSegs)
	le.PutUint32(b[verifier.SkbGSOSize:], c.GSOSize)
	le.PutUint64(b[verifier.SkbHwtstamp:], c.Hwtstamp)
}

// ParseSkbContext reads a struct __sk_buff as BPF_PROG_TEST_RUN takes it for a tc program: it
// fails, as the kernel does with EINVAL, when a field outside SkbContext is not zero.
func ParseSkbContext(b []byte) (SkbContext, error) {
	var c SkbContext
	if len(b) > verifier.SkbSize {
		for _, x := range b[verifier.SkbSize:] {
			if x != 0 {
				return c, fmt.Errorf("%w: %d bytes of context, the ones past %d not zero (E2BIG)", ErrRefused, len(b), verifier.SkbSize)
			}
		}
		b = b[:verifier.SkbSize]
	}
	full := make([]byte, verifier.SkbSize)
	copy(full, b)
	allowed := []struct{ off, n int }{
		{verifier.SkbMark, 4}, {verifier.SkbPriority, 12}, {verifier.SkbCB, verifier.SkbCBSize},
		{verifier.SkbTstamp, 16}, {verifier.SkbGSOSize, 4}, {verifier.SkbHwtstamp, 8},
	}
	for i, x := range full {
		ok := x == 0
		for _, a := range allowed {
			ok = ok || i >= a.off && i < a.off+a.n
		}
		if !ok {
			return c, fmt.Errorf("%w: byte %d of the __sk_buff context is set, which BPF_PROG_TEST_RUN does not take as input (EINVAL)", ErrRefused, i)
		}
	}
	c.Mark = le.Uint32(full[verifier.SkbMark:])
	c.Priority = le.Uint32(full[verifier.SkbPriority:])
	c.IngressIfindex = le.Uint32(full[verifier.SkbIngressIfindex:])
	c.Ifindex = le.Uint32(full[verifier.SkbIfindex:])
	for i := range c.CB {
		c.CB[i] = le.Uint32(full[verifier.SkbCB+4*i:])
	}
	c.Tstamp = le.Uint64(full[verifier.SkbTstamp:])
	c.WireLen = le.Uint32(full[verifier.SkbWireLen:])
	c.GSOSegs = le.Uint32(full[verifier.SkbGSOSegs:])
	c.GSOSize = le.Uint32(full[verifier.SkbGSOSize:])
	c.Hwtstamp = le.Uint64(full[verifier.SkbHwtstamp:])
	return c, nil
}

// TCRedirect is where a tc program sent a packet with bpf_redirect, bpf_redirect_peer or
// bpf_redirect_neigh: a device, and its ingress or egress.
type TCRedirect struct {
	Ifindex uint32 `json:"ifindex"`
	// Ingress: the packet enters the device's receive path (BPF_F_INGRESS, or bpf_redirect_peer,
	// which enters the peer device's); else it is sent out of the device.
	Ingress bool `json:"ingress,omitempty"`
	// Peer: bpf_redirect_peer, to the peer of a veth or netkit device in another namespace.
	Peer bool `json:"peer,omitempty"`
	// Neigh: bpf_redirect_neigh, which fills the Ethernet header from the neighbour table;
	// Nexthop is the address it was given, "" for the packet's own destination.
	Neigh   bool   `json:"neigh,omitempty"`
	Nexthop string `json:"nexthop,omitempty"`
	// Device names the target in the simulated host ("" when there is none).
	Device string `json:"device,omitempty"`
	// Dropped says why the redirect drops the packet instead ("" when it goes out).
	Dropped string `json:"dropped,omitempty"`
}

// TCClone is a copy of the packet bpf_clone_redirect sent to a device while the program ran.
type TCClone struct {
	Ifindex uint32 `json:"ifindex"`
	Ingress bool   `json:"ingress,omitempty"`
	Data    string `json:"data"` // hex, from the MAC header
}

// TCRun is one tc program that ran on the packet and what it returned.
type TCRun struct {
	Program string `json:"program"`
	Ret     int32  `json:"ret"`
}

// SkbFields are the fields of the sk_buff after the tc programs, as the stack (or the redirect
// target) receives it.
type SkbFields struct {
	Len          int       `json:"len"`
	Protocol     EtherType `json:"protocol"`
	PktType      uint8     `json:"pkt_type"`
	Mark         uint32    `json:"mark,omitempty"`
	Priority     uint32    `json:"priority,omitempty"`
	QueueMapping uint16    `json:"queue_mapping,omitempty"`
	VlanProto    EtherType `json:"vlan_proto,omitempty"`
	VlanTCI      uint16    `json:"vlan_tci,omitempty"`
	Hash         uint32    `json:"hash,omitempty"`
	TCIndex      uint16    `json:"tc_index,omitempty"`
	TCClassid    uint16    `json:"tc_classid,omitempty"`
	Tstamp       uint64    `json:"tstamp,omitempty"`
	MetaLen      int       `json:"meta_len,omitempty"`
}

// TCOutcome is what tc programs did to a packet.
type TCOutcome struct {
	// Ret, Data and Meta of the embedded result (Type result.TypeTC): the last program's return
	// value, the packet from the MAC header, the skb metadata; Ctx is the __sk_buff a
	// BPF_PROG_TEST_RUN caller gets back.
	result.Packet
	Executed uint64   `json:"-"`
	Printk   []string `json:"-"`
	Fault    error    `json:"-"`
	// Programs lists the programs that ran, in order (a tcx chain stops at the first that does
	// not return TCX_NEXT).
	Programs []TCRun `json:"programs"`
	// Action is what the hook does with the packet: TCPass, TCDrop, TCRedirected or TCStolen.
	Action   string      `json:"action"`
	Redirect *TCRedirect `json:"redirect,omitempty"`
	Clones   []TCClone   `json:"clones,omitempty"`
	Skb      SkbFields   `json:"skb"`
	// Dropped says why the stack dropped the packet before the tc programs ran, when it did.
	Dropped string `json:"dropped,omitempty"`
	// Traits are the packet traits the skb carries from XDP (--feature traits): the RFC keeps them
	// with the skb (v1 in its headroom, v2 in an skb extension) and gives tc programs no access,
	// so they reach the stack or the redirect target as XDP left them.
	Traits []TraitKV `json:"traits,omitempty"`
}

// MarshalJSON writes the tc outcome for JSON lines: the return value (signed) and its name, what
// the hook does with the packet, the programs that ran, the redirect and clones, the packet and
// metadata as the programs left them, the skb's fields, and the __sk_buff given back when there is
// one.
func (o *TCOutcome) MarshalJSON() ([]byte, error) {
	if o.Err != "" {
		return json.Marshal(struct {
			Error    string  `json:"error"`
			Programs []TCRun `json:"programs,omitempty"`
		}{o.Err, o.Programs})
	}
	return json.Marshal(struct {
		Ret      int32             `json:"ret"`
		Verdict  string            `json:"verdict"`
		Action   string            `json:"action"`
		Programs []TCRun           `json:"programs"`
		Redirect *TCRedirect       `json:"redirect,omitempty"`
		Clones   []TCClone         `json:"clones,omitempty"`
		Data     string            `json:"data"`
		Meta     string            `json:"meta"`
		Skb      SkbFields         `json:"skb"`
		Ctx      string            `json:"ctx,omitempty"`
		Dropped  string            `json:"dropped,omitempty"`
		Traits   map[string]string `json:"traits,omitempty"`
	}{int32(o.Ret), o.Verdict(), o.Action, o.Programs, o.Redirect, o.Clones, result.Hex(o.Data), result.Hex(o.Meta), o.Skb, result.Hex(o.Ctx), o.Dropped, traitsJSON(o.Traits)})
}

// traitsJSON writes traits as JSON lines do: keys in decimal, values in hex.
func traitsJSON(ts []TraitKV) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[strconv.FormatUint(t.Key, 10)] = t.Value
	}
	return m
}

// TC runs tc (SCHED_CLS) programs over packets: alone, as BPF_PROG_TEST_RUN does (Run), or at a
// device's tc ingress hook after XDP passed the packet (XDP.SetIngress). Several programs form
// the hook's chain as the kernel runs it: the tcx programs in the order given, then the classic
// tc programs (sections "tc" and "classifier", cls_bpf in direct-action mode) in the order given.
// Maps carry over from packet to packet. Use one TC per goroutine.
type TC struct {
	stages []tcStage
	skb    *skbState
	host   *Host
	// resolve, when set, finds a redirect's target instead of resolveRedirect (a Network's hooks,
	// whose devices live in several namespaces).
	resolve func(r *TCRedirect)
	out     Outcome
	tc      TCOutcome
	runs    [8]TCRun
	scratch []byte
	ctxOut  []byte
}

// tcStage is one program of the chain and the machine it runs on.
type tcStage struct {
	prog     *Program
	rs       *runState
	pkt, ctx int
	tcx      bool
}

// NewTC prepares tc programs to run over packets; see TC for the order they run in.
func NewTC(progs ...*Program) (*TC, error) {
	if len(progs) == 0 {
		return nil, errors.New("no tc program given")
	}
	var tcx, classic []*Program
	for _, p := range progs {
		if p.AttachType == ebpf.AttachTCXIngress || p.AttachType == ebpf.AttachTCXEgress {
			tcx = append(tcx, p)
		} else {
			classic = append(classic, p)
		}
	}
	return newTC(newSkbState(), tcx, classic)
}

// newTC prepares a hook's programs to run on the skb s, which other TCs may share (the hooks of a
// Network pass one packet along): the tcx programs, as tcx runs them, then the classic ones, as
// cls_bpf runs them, each list in its order (how a program runs is where it is attached, not its
// section).
func newTC(s *skbState, tcx, classic []*Program) (*TC, error) {
	t := &TC{skb: s, host: bareHost(), ctxOut: make([]byte, verifier.SkbSize)}
	machines := map[*Object]*tcStage{}
	for i, p := range append(append([]*Program(nil), tcx...), classic...) {
		if p.Type != ebpf.SchedCLS {
			return nil, fmt.Errorf("program %s is of type %s, not a tc program (SchedCLS)", p.Name, p.Type)
		}
		st := tcStage{prog: p, tcx: i < len(tcx)}
		if m, ok := machines[p.obj]; ok {
			st.rs, st.pkt, st.ctx = m.rs, m.pkt, m.ctx
		} else {
			rs, err := newRunState(p.obj)
			if err != nil {
				return nil, err
			}
			rs.skb = t.skb
			st.rs = rs
			st.pkt = rs.m.AddRegion(vm.Region{Name: "packet", Data: t.skb.buf})
			rs.skbPkt = st.pkt
			st.ctx = rs.m.AddRegion(vm.Region{Name: "ctx", Load: t.skb.loadCtx, Store: t.skb.storeCtx})
			machines[p.obj] = &st
		}
		t.stages = append(t.stages, st)
	}
	return t, nil
}

// Programs are the programs in the order they run.
func (t *TC) Programs() []*Program {
	out := make([]*Program, len(t.stages))
	for i, s := range t.stages {
		out[i] = s.prog
	}
	return out
}

// Machine is the machine the first program runs on (for tracing and budgets).
func (t *TC) Machine() *vm.Machine { return t.stages[0].rs.m }

// Machines are the machines of the chain, one per object.
func (t *TC) Machines() []*vm.Machine {
	var out []*vm.Machine
	seen := map[*vm.Machine]bool{}
	for _, s := range t.stages {
		if !seen[s.rs.m] {
			seen[s.rs.m] = true
			out = append(out, s.rs.m)
		}
	}
	return out
}

// SetHost gives the simulated host a network configuration (nil: a bare namespace): devices that
// redirects reach and bpf_fib_lookup and bpf_check_mtu consult.
func (t *TC) SetHost(h *Host) {
	if h == nil {
		h = bareHost()
	}
	t.host = h
	for _, s := range t.stages {
		s.rs.setHost(h)
	}
}

// SetSeed seeds bpf_get_prandom_u32 of every program.
func (t *TC) SetSeed(seed uint64) {
	for _, s := range t.stages {
		s.rs.setSeed(seed)
	}
}

// device gives the MAC and broadcast addresses of the device with ifindex: loopback's are all
// zeroes; a device of the simulated host has its MAC; any other device (one the host does not
// describe) an all-zero MAC, which no frame is addressed to. Ethernet devices broadcast to
// ff:ff:ff:ff:ff:ff.
func (t *TC) device(ifindex uint32) (addr, broadcast []byte) {
	zero := make([]byte, 6)
	if ifindex == 1 {
		return zero, zero
	}
	brd := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if d, ok := t.host.byIndex[ifindex]; ok {
		return d.mac, brd
	}
	return zero, brd
}

// Run runs the programs over one packet as BPF_PROG_TEST_RUN runs a tc program: the packet in an
// skb on the loopback device (or ctx's device), the MAC header in front, no metadata; ctx is the
// __sk_buff passed in (nil for none, as the kernel gets none: wire_len then reads 0 and the
// outcome has no Ctx). The outcome's Data, Meta and Ctx alias the TC's buffers until the next Run.
func (t *TC) Run(pkt []byte, ctx *SkbContext, cond Conditions) Outcome {
	t.begin()
	s := t.skb
	if err := t.setupTestRun(pkt, ctx); err != nil {
		t.out.Err = err.Error()
		t.out.Packet.Type = result.TypeTC
		return t.out
	}
	t.runChain(cond, false)
	if t.out.Err == "" && ctx != nil {
		c := *ctx
		c.Mark, c.Priority, c.IngressIfindex, c.Ifindex = s.mark, s.priority, s.skbIif, s.ifindex
		for i := range c.CB {
			c.CB[i] = le.Uint32(s.cb[4*i:])
		}
		c.Tstamp, c.WireLen, c.GSOSegs, c.Hwtstamp = s.tstamp, s.pktLen, uint32(s.gsoSegs), s.hwtstamp
		clear(t.ctxOut)
		c.marshalTo(t.ctxOut)
		t.tc.Ctx = t.ctxOut
		t.out.Packet.Ctx = t.ctxOut
	}
	return t.out
}

// begin clears the outcomes for a new packet.
func (t *TC) begin() {
	t.tc = TCOutcome{Programs: t.runs[:0]}
	t.out = Outcome{TC: &t.tc}
}

// setupTestRun builds the skb of bpf_prog_test_run_skb for a SCHED_CLS program.
func (t *TC) setupTestRun(pkt []byte, ctx *SkbContext) error {
	if len(pkt) < ETHHdrLen || len(pkt) > SkbMaxLinear {
		return fmt.Errorf("%w: a tc program is test-run on %d to %d bytes, not %d (EINVAL)", ErrRefused, ETHHdrLen, SkbMaxLinear, len(pkt))
	}
	s := t.skb
	s.reset()
	s.data = skbPad
	s.end = testRunEnd(len(pkt))
	clear(s.buf[:s.data]) // the head is kzalloc'd: zero headroom, as helpers that push find it
	copy(s.buf[s.data:], pkt)
	s.tail = s.data + len(pkt)
	s.ifindex = 1
	if ctx != nil && ctx.Ifindex > 1 {
		if _, ok := t.host.byIndex[ctx.Ifindex]; !ok {
			return fmt.Errorf("%w: no device with ifindex %d (ENODEV)", ErrRefused, ctx.Ifindex)
		}
		s.ifindex = ctx.Ifindex
	}
	addr, brd := t.device(s.ifindex)
	s.protocol = s.ethTypeTrans(addr, brd)
	s.network = s.data
	switch s.protocol {
	case ethPIP:
		if s.headlen() < 20 {
			return fmt.Errorf("%w: an IPv4 packet needs a 20-byte header after the Ethernet header, %d bytes follow it (EINVAL)", ErrRefused, s.headlen())
		}
	case ethPIPv6:
		if s.headlen() < 40 {
			return fmt.Errorf("%w: an IPv6 packet needs a 40-byte header after the Ethernet header, %d bytes follow it (EINVAL)", ErrRefused, s.headlen())
		}
	}
	s.push(ETHHdrLen)
	if ctx == nil {
		return nil
	}
	// convert___skb_to_skb.
	s.mark, s.priority, s.skbIif, s.tstamp = ctx.Mark, ctx.Priority, ctx.IngressIfindex, ctx.Tstamp
	for i, v := range ctx.CB {
		le.PutUint32(s.cb[4*i:], v)
	}
	switch {
	case ctx.WireLen == 0:
		s.pktLen = uint32(s.len())
	case ctx.WireLen < uint32(s.len()) || ctx.WireLen > 65536:
		return fmt.Errorf("%w: wire_len %d is shorter than the packet or longer than 65536 (EINVAL)", ErrRefused, ctx.WireLen)
	default:
		s.pktLen = ctx.WireLen
	}
	if ctx.GSOSegs > 65535 {
		return fmt.Errorf("%w: gso_segs %d is more than 65535 (EINVAL)", ErrRefused, ctx.GSOSegs)
	}
	s.gsoSegs, s.gsoSize, s.hwtstamp = uint16(ctx.GSOSegs), uint16(ctx.GSOSize), ctx.Hwtstamp
	return nil
}

// runChain runs the chain on the skb: the tcx programs while they return TCX_NEXT, then, if
// tcx_action_code makes their verdict TCX_NEXT (which it does for any value but TCX_PASS,
// TCX_DROP and TCX_REDIRECT), the classic programs while they give TC_ACT_UNSPEC (cls_bpf's
// direct action turns any value but TC_ACT_OK, SHOT, STOLEN, TRAP and REDIRECT into that).
// atIngress says the skb is at a device's tc ingress hook. An observer sees the skb before and
// after.
func (t *TC) runChain(cond Conditions, atIngress bool) {
	if o := t.skb.obs; o != nil {
		o.SkbStart(t.skb.view())
		t.runPrograms(cond, atIngress)
		o.SkbEnd(t.skb.view(), &t.tc)
		return
	}
	t.runPrograms(cond, atIngress)
}

// runPrograms is runChain's work.
func (t *TC) runPrograms(cond Conditions, atIngress bool) {
	s := t.skb
	s.atIngress = atIngress
	verdict := TCXNext
	i := 0
	for ; i < len(t.stages) && t.stages[i].tcx; i++ {
		r, ok := t.runOne(&t.stages[i], cond)
		if !ok {
			return
		}
		if r != TCXNext {
			verdict = tcxActionCode(s, r)
			i++
			break
		}
	}
	for ; i < len(t.stages) && t.stages[i].tcx; i++ {
		// The tcx programs after the one that decided do not run.
	}
	for ; verdict == TCActUnspec && i < len(t.stages); i++ {
		r, ok := t.runOne(&t.stages[i], cond)
		if !ok {
			return
		}
		switch r {
		case TCActOK:
			s.tcIndex = s.tcClassid // TC_H_MIN(res.classid), as tc_run sets it
			verdict = r
		case TCActShot, TCActStolen, TCActTrap, TCActRedirect:
			verdict = r
		}
	}
	t.finish(verdict)
}

// tcxActionCode is tcx_action_code: TCX_PASS copies tc_classid into tc_index; values other
// than PASS, DROP and REDIRECT end the chain but count as TCX_NEXT.
func tcxActionCode(s *skbState, ret uint32) uint32 {
	switch ret {
	case TCXPass:
		s.tcIndex = s.tcClassid
		return ret
	case TCXDrop, TCXRedirect:
		return ret
	}
	return TCXNext
}

// runOne runs one program of the chain; false when it faulted (the outcome then says so).
func (t *TC) runOne(st *tcStage, cond Conditions) (uint32, bool) {
	s := t.skb
	rs := st.rs
	if s.r != rs {
		// The packet moves to this program's machine: its regions see the skb's buffer.
		rs.m.Region(st.pkt).Data = s.buf
	}
	s.r, s.pkt, s.ctx = rs, st.pkt, st.ctx
	s.tstampTypeAccess = st.prog.tstampTypeAccess
	rs.begin(cond)
	s.window()
	r0, err := rs.m.Run(st.prog.VM, vm.Address(st.ctx, 0))
	rs.releaseSpin()
	t.tc.Executed += rs.m.Executed()
	t.out.Executed = t.tc.Executed
	t.tc.Printk = append(t.tc.Printk, rs.printed...)
	t.out.Printk = t.tc.Printk
	if err != nil {
		msg := "program fault: " + err.Error()
		if len(t.stages) > 1 {
			msg = "program fault in tc program " + st.prog.Name + ": " + err.Error()
		}
		t.out.Err, t.out.Fault, t.tc.Err, t.tc.Fault = msg, err, msg, err
		t.out.Packet.Type, t.tc.Packet.Type = result.TypeTC, result.TypeTC
		return 0, false
	}
	ret := uint32(r0)
	t.tc.Programs = append(t.tc.Programs, TCRun{Program: st.prog.Name, Ret: int32(ret)})
	t.tc.Ret = ret
	if s.obs != nil {
		s.obs.SkbProgramDone(s.view(), t.tc.Programs[len(t.tc.Programs)-1])
	}
	return ret, true
}

// finish decides what the hook does with the packet given the chain's verdict, and fills in the
// outcome.
func (t *TC) finish(verdict uint32) {
	s := t.skb
	switch verdict {
	case TCActShot:
		t.tc.Action = TCDrop
	case TCActStolen, TCActQueued, TCActTrap:
		t.tc.Action = TCStolen
	case TCActRedirect:
		t.tc.Action = TCRedirected
		r := s.redirect
		switch {
		case !s.redirSet:
			r = TCRedirect{Dropped: "TC_ACT_REDIRECT without a redirect target"}
		case t.resolve != nil:
			t.resolve(&r)
		default:
			t.resolveRedirect(&r)
		}
		t.tc.Redirect = &r
		if r.Dropped != "" {
			t.tc.Action = TCDrop
		}
	default:
		t.tc.Action = TCPass
	}
	t.tc.Clones = s.clones
	t.tc.Packet.Type = result.TypeTC
	t.tc.Data = s.bytes(&t.scratch)
	t.tc.Meta = s.buf[s.data-s.metaLen : s.data : s.data]
	t.tc.Skb = s.fields()
	if t.out.Packet.Type == "" {
		t.out.Packet = t.tc.Packet
	}
}

// resolveRedirect finds the target of a redirect in the simulated host, as skb_do_redirect does:
// a device that does not exist drops the packet, and so does a peer redirect (the simulated host
// has one network namespace, and bpf_redirect_peer needs the peer in another).
func (t *TC) resolveRedirect(r *TCRedirect) {
	d, ok := t.host.byIndex[r.Ifindex]
	if !ok {
		r.Dropped = fmt.Sprintf("no device with ifindex %d", r.Ifindex)
		return
	}
	r.Device = d.Name
	switch {
	case r.Peer:
		r.Dropped = fmt.Sprintf("%s has no peer in another network namespace (bpf_redirect_peer)", d.Name)
	case d.down:
		r.Dropped = fmt.Sprintf("%s is down", d.Name)
	}
}
