package kfuncs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
	"github.com/xdpsim/xdpsim/vm"
)

// The conntrack kfuncs of net/netfilter/nf_conntrack_bpf.c and nf_nat_bpf.c (Linux 6.18), over
// the network namespace's table (package conntrack), which the host gives through [Netns]. The
// lookup and allocation kfuncs report failures in opts->error, with the kernel's checks in the
// kernel's order; a NULL return then tells the program to look.

// Netns is what the kfuncs that consult the program's network namespace need of the host: its
// conntrack table. Package sim implements it with its run state.
type Netns interface {
	Conntrack() (*conntrack.Table, error)
}

// ErrNoNetns is matched by errors.Is when a conntrack kfunc runs on a machine whose Host is not a
// [Netns].
var ErrNoNetns = errors.New("the machine's host has no network namespace")

func netnsOf(m *vm.Machine) (*conntrack.Table, error) {
	n, ok := m.Host.(Netns)
	if !ok {
		return nil, fmt.Errorf("%w (host is %T)", ErrNoNetns, m.Host)
	}
	return n.Conntrack()
}

// struct bpf_ct_opts (16 bytes since 6.10; 12 before, still accepted).
const (
	ctOptsSize    = 16 // NF_BPF_CT_OPTS_SZ
	ctOptsOldSize = 12
	ctNetnsID     = 0  // s32
	ctError       = 4  // s32, out
	ctL4Proto     = 8  // u8
	ctDir         = 9  // u8, out
	ctZoneID      = 10 // u16
	ctZoneDir     = 12 // u8, in and out
	ctReserved    = 13 // u8[3]
	// BPF_F_CURRENT_NETNS: the program's own namespace.
	currentNetns = -1
	// The tuple sizes: sizeof(bpf_tuple->ipv4) and sizeof(bpf_tuple->ipv6).
	tuple4Size = 12
	tuple6Size = 36
	// ctAllocTimeout is the seconds a fresh entry lives unless the program sets a timeout.
	ctAllocTimeout = 10
)

func init() {
	xdpCtx := Arg{Name: "xdp_ctx", Type: "struct xdp_md *", Kind: ArgCtx}
	skbCtx := Arg{Name: "skb_ctx", Type: "struct __sk_buff *", Kind: ArgCtx}
	tupleArgs := []Arg{
		{Name: "bpf_tuple", Type: "struct bpf_sock_tuple *", Kind: ArgMem},
		{Name: "tuple__sz", Type: "u32", Kind: ArgMemSize},
		{Name: "opts", Type: "struct bpf_ct_opts *", Kind: ArgMem, Write: true},
		{Name: "opts__sz", Type: "u32", Kind: ArgMemSize},
	}
	conn := Arg{Name: "nfct", Type: "struct nf_conn *", Kind: ArgBTFPtr, Struct: "struct nf_conn"}
	connInit := Arg{Name: "nfct", Type: "struct nf_conn___init *", Kind: ArgBTFPtr, Struct: "struct nf_conn___init"}
	xdp := []ebpf.ProgramType{ebpf.XDP}
	tc := []ebpf.ProgramType{ebpf.SchedCLS}
	for _, v := range []struct {
		prefix string
		ctx    Arg
		types  []ebpf.ProgramType
	}{{"xdp", xdpCtx, xdp}, {"skb", skbCtx, tc}} {
		args := append([]Arg{v.ctx}, tupleArgs...)
		register(Kfunc{
			Name:  "bpf_" + v.prefix + "_ct_lookup",
			Proto: fmt.Sprintf("struct nf_conn *bpf_%s_ct_lookup(%s %s, struct bpf_sock_tuple *bpf_tuple, u32 tuple__sz, struct bpf_ct_opts *opts, u32 opts__sz)", v.prefix, v.ctx.Type, v.ctx.Name),
			Doc:   "finds the conntrack entry of a tuple and takes a reference to it; NULL with opts->error set (-ENOENT when there is none), opts->dir the direction that matched",
			Args:  args, Flags: KFAcquire | KFRetNull, Types: v.types, Ret: RetBTFPtr, RetType: "struct nf_conn",
		}, func(Features) vm.Helper { return ctLookup })
		register(Kfunc{
			Name:  "bpf_" + v.prefix + "_ct_alloc",
			Proto: fmt.Sprintf("struct nf_conn___init *bpf_%s_ct_alloc(%s %s, struct bpf_sock_tuple *bpf_tuple, u32 tuple__sz, struct bpf_ct_opts *opts, u32 opts__sz)", v.prefix, v.ctx.Type, v.ctx.Name),
			Doc:   "allocates a conntrack entry for a tuple (not yet in the table, 10 s timeout) and takes a reference to it; NULL with opts->error set",
			Args:  args, Flags: KFAcquire | KFRetNull, Types: v.types, Ret: RetBTFPtr, RetType: "struct nf_conn___init",
		}, func(Features) vm.Helper { return ctAlloc })
	}
	register(Kfunc{
		Name:  "bpf_ct_insert_entry",
		Proto: "struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *nfct_i)",
		Doc:   "inserts an allocated entry into the table, confirming it; NULL (the allocation freed) when an entry of either tuple exists",
		Args:  []Arg{{Name: "nfct_i", Type: "struct nf_conn___init *", Kind: ArgBTFPtr, Struct: "struct nf_conn___init"}},
		Flags: KFAcquire | KFRetNull | KFRelease, Ret: RetBTFPtr, RetType: "struct nf_conn",
	}, func(Features) vm.Helper { return ctInsert })
	register(Kfunc{
		Name:  "bpf_ct_release",
		Proto: "void bpf_ct_release(struct nf_conn *nfct)",
		Doc:   "releases a reference a lookup or insertion took",
		Args:  []Arg{conn}, Flags: KFRelease,
	}, func(Features) vm.Helper { return ctRelease })
	register(Kfunc{
		Name:  "bpf_ct_set_timeout",
		Proto: "void bpf_ct_set_timeout(struct nf_conn___init *nfct, u32 timeout)",
		Doc:   "sets an allocated entry's timeout, in milliseconds",
		Args:  []Arg{connInit, {Name: "timeout", Type: "u32", Kind: ArgScalar}}, Flags: KFTrustedArgs,
	}, func(Features) vm.Helper { return ctSetTimeout })
	register(Kfunc{
		Name:  "bpf_ct_change_timeout",
		Proto: "int bpf_ct_change_timeout(struct nf_conn *nfct, u32 timeout)",
		Doc:   "makes an entry expire timeout milliseconds from now: 0, -EPERM (fixed timeout) or -ETIME (dying)",
		Args:  []Arg{conn, {Name: "timeout", Type: "u32", Kind: ArgScalar}}, Flags: KFTrustedArgs,
	}, func(Features) vm.Helper { return ctChangeTimeout })
	register(Kfunc{
		Name:  "bpf_ct_set_status",
		Proto: "int bpf_ct_set_status(const struct nf_conn___init *nfct, u32 status)",
		Doc:   "sets the changeable status bits of an allocated entry (clearing none): 0 or -EBUSY",
		Args:  []Arg{connInit, {Name: "status", Type: "u32", Kind: ArgScalar}}, Flags: KFTrustedArgs,
	}, func(Features) vm.Helper { return ctChangeStatus })
	register(Kfunc{
		Name:  "bpf_ct_change_status",
		Proto: "int bpf_ct_change_status(struct nf_conn *nfct, u32 status)",
		Doc:   "sets the changeable status bits of an entry (clearing none): 0 or -EBUSY",
		Args:  []Arg{conn, {Name: "status", Type: "u32", Kind: ArgScalar}}, Flags: KFTrustedArgs,
	}, func(Features) vm.Helper { return ctChangeStatus })
	register(Kfunc{
		Name:  "bpf_ct_set_nat_info",
		Proto: "int bpf_ct_set_nat_info(struct nf_conn___init *nfct, union nf_inet_addr *addr, int port, enum nf_nat_manip_type manip)",
		Doc:   "sets source (manip 0) or destination (1) NAT of an allocated entry to addr and port (a port of 0 or less keeps the connection's): 0 or -EINVAL",
		Args: []Arg{connInit, {Name: "addr", Type: "union nf_inet_addr *", Kind: ArgIn, Size: 16},
			{Name: "port", Type: "int", Kind: ArgScalar}, {Name: "manip", Type: "enum nf_nat_manip_type", Kind: ArgScalar}},
		Flags: KFTrustedArgs,
	}, func(Features) vm.Helper { return ctSetNAT })
}

// ctOpts is a bpf_ct_opts argument after the checks common to lookup and allocation: nil with an
// errno to report, or the zone it asks for.
type ctOpts struct {
	b    []byte // the opts__sz bytes
	zone conntrack.Zone
}

// ctCommon runs the checks __bpf_nf_ct_lookup and __bpf_nf_ct_alloc_entry share, in the kernel's
// order up to the protocol check (whose place differs): the pointers, the size, the reserved
// bytes (or, in the 12-byte layout, the zone id that overlaps them).
func ctCommon(m *vm.Machine, tup, opts, optsSz uint64) (ctOpts, errno.Errno, error) {
	var o ctOpts
	if opts == 0 || tup == 0 {
		return o, errno.EINVAL, nil // (with opts NULL, nothing is written)
	}
	n := uint32(optsSz)
	if n > 0 {
		b, err := m.Bytes(opts, int(n), true)
		if err != nil {
			return o, 0, err
		}
		o.b = b
	}
	switch n {
	case ctOptsSize:
		if o.b[ctReserved] != 0 || o.b[ctReserved+1] != 0 || o.b[ctReserved+2] != 0 {
			return o, errno.EINVAL, nil
		}
	case ctOptsOldSize:
		if le.Uint16(o.b[ctZoneID:]) != 0 {
			return o, errno.EINVAL, nil
		}
	default:
		return o, errno.EINVAL, nil
	}
	return o, 0, nil
}

// zone reads the zone the options ask for; in the 16-byte layout a zone direction of 0 becomes
// NF_CT_DEFAULT_ZONE_DIR, written back to opts as the kernel does.
func (o *ctOpts) setZone() {
	if len(o.b) != ctOptsSize {
		return
	}
	if o.b[ctZoneDir] == 0 {
		o.b[ctZoneDir] = conntrack.DefaultZoneDir
	}
	o.zone = conntrack.Zone{ID: le.Uint16(o.b[ctZoneID:]), Dir: o.b[ctZoneDir]}
}

// parseTuple is bpf_nf_ct_tuple_parse's reading of struct bpf_sock_tuple: EPROTO for a protocol
// other than TCP and UDP, EAFNOSUPPORT for a size of neither tuple.
func parseTuple(m *vm.Machine, tup, size uint64, proto uint8) (conntrack.Tuple, errno.Errno, error) {
	if proto != conntrack.TCP && proto != conntrack.UDP {
		return conntrack.Tuple{}, errno.EPROTO, nil
	}
	n := uint32(size)
	if n != tuple4Size && n != tuple6Size {
		return conntrack.Tuple{}, errno.EAFNOSUPPORT, nil
	}
	b, err := m.Bytes(tup, int(n), false)
	if err != nil {
		return conntrack.Tuple{}, 0, err
	}
	t := conntrack.Tuple{Proto: proto}
	if n == tuple4Size {
		t.Src, t.Dst = netip.AddrFrom4([4]byte(b[0:4])), netip.AddrFrom4([4]byte(b[4:8]))
		t.SrcPort, t.DstPort = binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	} else {
		t.Src, t.Dst = netip.AddrFrom16([16]byte(b[0:16])), netip.AddrFrom16([16]byte(b[16:32]))
		t.SrcPort, t.DstPort = binary.BigEndian.Uint16(b[32:]), binary.BigEndian.Uint16(b[34:])
	}
	return t, 0, nil
}

// ctFail writes the errno to opts->error and returns NULL. Linux 6.18 writes the field whatever
// opts__sz says, so the simulator writes it where the program's memory has room.
func ctFail(m *vm.Machine, opts uint64, e errno.Errno) (uint64, error) {
	if opts != 0 {
		if b, err := m.Bytes(opts+ctError, 4, true); err == nil {
			le.PutUint32(b, uint32(-int32(e)))
		}
	}
	return 0, nil
}

// hand gives the program a pointer to the entry's struct nf_conn, held until it releases it.
func hand(m *vm.Machine, t *conntrack.Table, e *conntrack.Entry) uint64 {
	img := e.Image()
	ptr := m.AddTempData(img, "nf_conn", false)
	id, _ := vm.SplitAddress(ptr)
	t.Hold(id, e)
	return ptr
}

// held finds the entry a pointer argument names.
func held(m *vm.Machine, t *conntrack.Table, p uint64) (*conntrack.Entry, error) {
	id, off := vm.SplitAddress(p)
	if e := t.Held(id); e != nil && off == 0 {
		return e, nil
	}
	return nil, fmt.Errorf("%#x is not a struct nf_conn the program holds (the kernel's verifier rejects such a call)", p)
}

func ctLookup(m *vm.Machine, _, tup, tupSz, opts, optsSz uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	o, e, err := ctCommon(m, tup, opts, optsSz)
	if err != nil || e != 0 {
		return failOr(m, opts, e, err)
	}
	proto := o.b[ctL4Proto]
	if proto != conntrack.TCP && proto != conntrack.UDP {
		return ctFail(m, opts, errno.EPROTO)
	}
	netns := int32(le.Uint32(o.b[ctNetnsID:]))
	if netns < currentNetns {
		return ctFail(m, opts, errno.EINVAL)
	}
	tu, e, err := parseTuple(m, tup, tupSz, proto)
	if err != nil || e != 0 {
		return failOr(m, opts, e, err)
	}
	if netns >= 0 {
		return ctFail(m, opts, errno.ENONET) // the simulated host has no other namespace
	}
	o.setZone()
	ent, dir, ok := t.Lookup(tu, o.zone)
	if !ok {
		return ctFail(m, opts, errno.ENOENT)
	}
	o.b[ctDir] = byte(dir)
	return hand(m, t, ent), nil
}

func failOr(m *vm.Machine, opts uint64, e errno.Errno, err error) (uint64, error) {
	if err != nil {
		return 0, err
	}
	return ctFail(m, opts, e)
}

func ctAlloc(m *vm.Machine, _, tup, tupSz, opts, optsSz uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	o, e, err := ctCommon(m, tup, opts, optsSz)
	if err != nil || e != 0 {
		return failOr(m, opts, e, err)
	}
	netns := int32(le.Uint32(o.b[ctNetnsID:]))
	if netns < currentNetns {
		return ctFail(m, opts, errno.EINVAL)
	}
	tu, e, err := parseTuple(m, tup, tupSz, o.b[ctL4Proto])
	if err != nil || e != 0 {
		return failOr(m, opts, e, err)
	}
	if netns >= 0 {
		return ctFail(m, opts, errno.ENONET)
	}
	o.setZone()
	ent, err := t.Alloc(tu, tu.Reverse(), o.zone, uint32(ctAllocTimeout*t.HZ()))
	if err != nil {
		return ctFail(m, opts, errno.ENOMEM)
	}
	return hand(m, t, ent), nil
}

func ctInsert(m *vm.Machine, p, _, _, _, _ uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	e, err := held(m, t, p)
	if err != nil {
		return 0, err
	}
	id, _ := vm.SplitAddress(p)
	if e.Inserted() || !t.Insert(e) {
		t.Release(id) // nf_conntrack_free
		return 0, nil
	}
	return p, nil
}

func ctRelease(m *vm.Machine, p, _, _, _, _ uint64) (uint64, error) {
	if p == 0 {
		return 0, nil
	}
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	if _, err := held(m, t, p); err != nil {
		return 0, err
	}
	id, _ := vm.SplitAddress(p)
	t.Release(id)
	return 0, nil
}

func ctSetTimeout(m *vm.Machine, p, ms, _, _, _ uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	e, err := held(m, t, p)
	if err != nil {
		return 0, err
	}
	t.SetTimeout(e, t.MsecsToJiffies(uint32(ms)))
	return 0, nil
}

func ctChangeTimeout(m *vm.Machine, p, ms, _, _, _ uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	e, err := held(m, t, p)
	if err != nil {
		return 0, err
	}
	return uint64(int64(t.ChangeTimeout(e, t.MsecsToJiffies(uint32(ms))))), nil
}

func ctChangeStatus(m *vm.Machine, p, status, _, _, _ uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	e, err := held(m, t, p)
	if err != nil {
		return 0, err
	}
	return uint64(int64(t.ChangeStatus(e, uint32(status)))), nil
}

func ctSetNAT(m *vm.Machine, p, addr, port, manip, _ uint64) (uint64, error) {
	t, err := netnsOf(m)
	if err != nil {
		return 0, err
	}
	e, err := held(m, t, p)
	if err != nil {
		return 0, err
	}
	b, err := m.Bytes(addr, 16, false)
	if err != nil {
		return 0, err
	}
	a := netip.AddrFrom16([16]byte(b))
	if e.Orig().Src.Is4() {
		a = netip.AddrFrom4([4]byte(b[:4]))
	}
	return uint64(int64(t.SetNAT(e, a, int32(port), uint32(manip)))), nil
}
