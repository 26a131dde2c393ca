package device

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/xdpsim/xdpsim/errno"
)

// Registry is the part of a simulated kernel that bpf(2) consults when programs are attached to
// tcx and netkit hooks: the programs and links it knows (by id, and by the file descriptors one
// process holds), the network devices, and on each device the bpf_mprog attach points. Its
// methods are the commands BPF_PROG_ATTACH, BPF_PROG_DETACH, BPF_PROG_QUERY, BPF_LINK_CREATE,
// BPF_LINK_UPDATE and BPF_LINK_DETACH (and close(2) of a link) for the tcx and netkit attach types,
// with the kernel's checks in the kernel's order and its error numbers (see mprog.go for the
// bpf_mprog rules, and the methods for what each command adds).
//
// Programs are counted references, as in the kernel: a program lives while a descriptor, an
// attach point or a link holds it; ids are never reused. A Registry is not safe for concurrent
// use.
type Registry struct {
	progs map[uint32]*regProg
	links map[uint32]*regLink
	fds   map[uint32]fdRef
	devs  map[uint32]*regDev
	// NoNetkit models a kernel built without netkit (CONFIG_NETKIT=n, as the machine package
	// kernel's tests run on): the netkit attach types are refused with EINVAL.
	NoNetkit bool

	nextProg, nextLink, nextFD uint32
}

type regProg struct {
	id   uint32
	name string
	typ  ebpf.ProgramType
	refs int
}

type regLink struct {
	id   uint32
	prog uint32
	typ  ebpf.AttachType
	// dev is the device the link's attach point belongs to; 0 once the link is detached.
	dev  uint32
	refs int
}

// fdRef is what a descriptor refers to: a program, a link, or (neither) a file that is no BPF
// object.
type fdRef struct {
	prog, link uint32
}

// point is one attach point of a device: where its entry lives. A tcx entry exists only while
// programs are attached (keep false: created by the first attach, freed with the last program);
// a netkit device's bundle lives in the device (keep true), and detach and query see it only
// while it holds programs (netkit_entry_fetch without the bundle fallback).
type point struct {
	slot **mprog
	keep bool
}

// fetch is the active entry: nil when there is none.
func (p point) fetch() *mprog {
	m := *p.slot
	if m != nil && p.keep && len(m.items) == 0 {
		return nil
	}
	return m
}

// regDev is a network device and its attach points.
type regDev struct {
	ifindex uint32
	name    string
	// tcx ingress and egress: nil until the first attach, freed when the last program leaves
	// (tcx_entry_fetch_or_create, tcx_entry_free), so a new entry starts again at revision 1.
	tcxIn, tcxOut *mprog
	// nk is the netkit device's state, nil for other devices.
	nk *netkitDev
}

// NewRegistry returns a registry without programs, links or devices, for a process with standard
// input, output and error open (descriptors 0, 1 and 2, which are no BPF objects: naming one
// where a program or link is expected is EINVAL, as for any other file); new descriptors are
// numbered from 3.
func NewRegistry() *Registry {
	r := &Registry{progs: map[uint32]*regProg{}, links: map[uint32]*regLink{}, fds: map[uint32]fdRef{},
		devs: map[uint32]*regDev{}, nextFD: 3}
	for fd := range uint32(3) {
		r.fds[fd] = fdRef{}
	}
	return r
}

func (r *Registry) newFD(ref fdRef) uint32 {
	fd := r.nextFD
	for {
		if _, used := r.fds[fd]; !used {
			break
		}
		fd++
	}
	r.nextFD = fd + 1
	r.fds[fd] = ref
	return fd
}

// LoadProgram registers a loaded program (BPF_PROG_LOAD): it returns its id and a descriptor.
func (r *Registry) LoadProgram(name string, typ ebpf.ProgramType) (id, fd uint32) {
	r.nextProg++
	p := &regProg{id: r.nextProg, name: name, typ: typ, refs: 1}
	r.progs[p.id] = p
	return p.id, r.newFD(fdRef{prog: p.id})
}

// ProgramName is the name a program was loaded with ("" for an id the registry never gave).
func (r *Registry) ProgramName(id uint32) string {
	if p := r.progs[id]; p != nil {
		return p.name
	}
	return ""
}

// Close closes a descriptor. Closing the last reference to a link releases it, which detaches it
// as tcx_link_release and netkit_link_release do; closing a program's descriptor drops that
// reference (the program lives on while attached).
func (r *Registry) Close(fd uint32) error {
	ref, ok := r.fds[fd]
	if !ok {
		return errno.EBADF
	}
	delete(r.fds, fd)
	switch {
	case ref.link != 0:
		r.linkPut(ref.link)
	case ref.prog != 0:
		r.progPut(ref.prog)
	}
	return nil
}

// LinkID is the id of the link a descriptor refers to (0 for another descriptor).
func (r *Registry) LinkID(fd uint32) uint32 { return r.fds[fd].link }

func (r *Registry) progPut(id uint32) {
	if p := r.progs[id]; p != nil {
		if p.refs--; p.refs == 0 {
			delete(r.progs, id)
		}
	}
}

func (r *Registry) linkPut(id uint32) {
	l := r.links[id]
	if l == nil {
		return
	}
	if l.refs--; l.refs > 0 {
		return
	}
	if l.dev != 0 {
		r.linkRelease(l)
	}
	delete(r.links, id)
	r.progPut(l.prog)
}

// progByFD is bpf_prog_get: EBADF for a descriptor that is not open, EINVAL for one that is not a
// program.
func (r *Registry) progByFD(fd uint32) (*regProg, error) {
	ref, ok := r.fds[fd]
	if !ok {
		return nil, errno.EBADF
	}
	if ref.prog == 0 {
		return nil, errno.EINVAL
	}
	return r.progs[ref.prog], nil
}

// progByFDType is bpf_prog_get_type: also EINVAL for a program of another type.
func (r *Registry) progByFDType(fd uint32, typ ebpf.ProgramType) (*regProg, error) {
	p, err := r.progByFD(fd)
	if err != nil {
		return nil, err
	}
	if p.typ != typ {
		return nil, errno.EINVAL
	}
	return p, nil
}

// progByID is bpf_prog_by_id: ENOENT for 0 and for an id no live program has.
func (r *Registry) progByID(id uint32) (*regProg, error) {
	if p := r.progs[id]; id != 0 && p != nil {
		return p, nil
	}
	return nil, errno.ENOENT
}

// linkByFD is bpf_link_get_from_fd.
func (r *Registry) linkByFD(fd uint32) (*regLink, error) {
	ref, ok := r.fds[fd]
	if !ok {
		return nil, errno.EBADF
	}
	if ref.link == 0 {
		return nil, errno.EINVAL
	}
	return r.links[ref.link], nil
}

// linkByID is bpf_link_by_id.
func (r *Registry) linkByID(id uint32) (*regLink, error) {
	if l := r.links[id]; id != 0 && l != nil {
		return l, nil
	}
	return nil, errno.ENOENT
}

// relative is bpf_mprog_tuple_relative: the anchor idOrFD names under flags, checked against typ
// (0: any type).
func (r *Registry) relative(idOrFD, flags uint32, typ ebpf.ProgramType) (tuple, error) {
	byID := flags&FlagID != 0
	if flags&FlagLink != 0 {
		var l *regLink
		var err error
		switch {
		case byID:
			l, err = r.linkByID(idOrFD)
		case idOrFD != 0:
			l, err = r.linkByFD(idOrFD)
		default:
			return tuple{}, errno.EINVAL
		}
		if err != nil {
			return tuple{}, err
		}
		if typ != 0 && r.progs[l.prog].typ != typ {
			return tuple{}, errno.EINVAL
		}
		return tuple{prog: l.prog, link: l.id}, nil
	}
	if !byID && idOrFD == 0 {
		return tuple{}, nil
	}
	var p *regProg
	var err error
	if byID {
		p, err = r.progByID(idOrFD)
	} else {
		p, err = r.progByFD(idOrFD)
	}
	if err != nil {
		return tuple{}, err
	}
	if typ != 0 && p.typ != typ {
		return tuple{}, errno.EINVAL
	}
	return tuple{prog: p.id}, nil
}

// AddDevice adds a network device (a NIC or a veth end: anything with tcx hooks but no netkit
// programs). Ifindexes must be unique.
func (r *Registry) AddDevice(ifindex uint32, name string) error {
	if ifindex == 0 {
		return fmt.Errorf("device %s: ifindex 0", name)
	}
	if d := r.devs[ifindex]; d != nil {
		return fmt.Errorf("device %s: ifindex %d is %s's", name, ifindex, d.name)
	}
	r.devs[ifindex] = &regDev{ifindex: ifindex, name: name}
	return nil
}

// Device names the device with ifindex ("" when there is none).
func (r *Registry) Device(ifindex uint32) string {
	if d := r.devs[ifindex]; d != nil {
		return d.name
	}
	return ""
}

// AttachAttr is the part of union bpf_attr that BPF_PROG_ATTACH and BPF_PROG_DETACH read.
type AttachAttr struct {
	TargetIfindex uint32
	// AttachBPFFD is the program: required to attach; to detach, 0 lets the flags and the
	// relative object choose the program.
	AttachBPFFD  uint32
	AttachType   ebpf.AttachType
	AttachFlags  uint32
	ReplaceBPFFD uint32
	// Relative is relative_fd, or with FlagID relative_id.
	Relative         uint32
	ExpectedRevision uint64
}

func isMprogType(t ebpf.AttachType) bool {
	switch t {
	case ebpf.AttachTCXIngress, ebpf.AttachTCXEgress, ebpf.AttachNetkitPrimary, ebpf.AttachNetkitPeer:
		return true
	}
	return false
}

func isTCX(t ebpf.AttachType) bool {
	return t == ebpf.AttachTCXIngress || t == ebpf.AttachTCXEgress
}

// errNotModelled answers attach types other than tcx and netkit.
func errNotModelled(t ebpf.AttachType) error {
	return fmt.Errorf("attach type %v: the registry models the tcx and netkit attach types only", t)
}

// ProgAttach is BPF_PROG_ATTACH for tcx and netkit: flags outside MprogFlags are EINVAL; the
// program's descriptor must name a SCHED_CLS program (EBADF, EINVAL); then tcx_prog_attach
// (ENODEV for an unknown device; with FlagReplace the program to replace, by descriptor, of the
// same type) or netkit_prog_attach (see netkitDevice) runs bpf_mprog's rules.
func (r *Registry) ProgAttach(a AttachAttr) error {
	if !isMprogType(a.AttachType) {
		return errNotModelled(a.AttachType)
	}
	if a.AttachFlags&^MprogFlags != 0 {
		return errno.EINVAL
	}
	p, err := r.progByFDType(a.AttachBPFFD, ebpf.SchedCLS)
	if err != nil {
		return err
	}
	pt, err := r.point(a.TargetIfindex, a.AttachType)
	if err != nil {
		return err
	}
	var old uint32
	if a.AttachFlags&FlagReplace != 0 {
		op, err := r.progByFDType(a.ReplaceBPFFD, p.typ)
		if err != nil {
			return err
		}
		old = op.id
	}
	return r.attach(pt, tuple{prog: p.id}, old, a.AttachFlags, a.Relative, a.ExpectedRevision, p.typ)
}

// tcx is the device's tcx attach point for t.
func (d *regDev) tcx(t ebpf.AttachType) point {
	if t == ebpf.AttachTCXIngress {
		return point{slot: &d.tcxIn}
	}
	return point{slot: &d.tcxOut}
}

// point finds the attach point an operation of type t through ifindex concerns: a tcx hook
// (ENODEV for an unknown device), or a netkit device's (see netkitDevice; EINVAL on a kernel
// without netkit, whose netkit_prog_attach, _detach, _query and netkit_link_attach are stubs
// that refuse).
func (r *Registry) point(ifindex uint32, t ebpf.AttachType) (point, error) {
	if isTCX(t) {
		d := r.devs[ifindex]
		if d == nil {
			return point{}, errno.ENODEV
		}
		return d.tcx(t), nil
	}
	if r.NoNetkit {
		return point{}, errno.EINVAL
	}
	d, err := r.netkitDevice(ifindex, t)
	if err != nil {
		return point{}, err
	}
	return d.nk.point(), nil
}

// attach runs bpf_mprog_attach on the attach point, creating its entry if it has none (a tcx
// entry is freed again when the attach fails; a netkit device's bundle always exists). A program
// attached without a link is then held by the attach point, and one it replaces is let go.
func (r *Registry) attach(pt point, n tuple, old, flags, rel uint32, rev uint64, typ ebpf.ProgramType) error {
	m, created := *pt.slot, false
	if m == nil {
		m, created = newMprog(), true
	}
	if err := r.mprogAttach(m, n, old, flags, rel, rev, typ); err != nil {
		return err
	}
	if created {
		*pt.slot = m
	}
	if n.link == 0 {
		r.progs[n.prog].refs++
		if flags&FlagReplace != 0 {
			r.progPut(old)
		}
	}
	return nil
}

// mprogAttach is bpf_mprog_attach: the revision, then whether the program is already there, then
// the relative object, then the rules.
func (r *Registry) mprogAttach(m *mprog, n tuple, old, flags, rel uint32, rev uint64, typ ebpf.ProgramType) error {
	if rev != 0 && rev != m.revision {
		return errno.ESTALE
	}
	if m.exists(n.prog) {
		return errno.EEXIST
	}
	rt, err := r.relative(rel, flags&^FlagReplace, typ)
	if err != nil {
		return err
	}
	return m.attach(n, old, flags, rt)
}

// ProgDetach is BPF_PROG_DETACH for tcx and netkit: flags outside MprogFlags are EINVAL; a
// program's descriptor, when given, must name a SCHED_CLS program; then tcx_prog_detach (ENODEV,
// ENOENT without an entry) or netkit_prog_detach runs bpf_mprog_detach.
func (r *Registry) ProgDetach(a AttachAttr) error {
	if !isMprogType(a.AttachType) {
		return errNotModelled(a.AttachType)
	}
	if a.AttachFlags&^MprogFlags != 0 {
		return errno.EINVAL
	}
	var p *regProg
	if a.AttachBPFFD != 0 {
		var err error
		if p, err = r.progByFDType(a.AttachBPFFD, ebpf.SchedCLS); err != nil {
			return err
		}
	}
	pt, err := r.point(a.TargetIfindex, a.AttachType)
	if err != nil {
		return err
	}
	var d tuple
	var typ ebpf.ProgramType
	if p != nil {
		d.prog, typ = p.id, p.typ
	}
	_, err = r.detach(pt, d, a.AttachFlags, a.Relative, a.ExpectedRevision, typ)
	return err
}

// detach runs bpf_mprog_detach on the attach point: ENOENT without an active entry, then
// BPF_F_REPLACE (EINVAL), the revision (ESTALE), an empty entry (ENOENT), the relative object
// and the rules. A tcx entry left without programs is freed (netkit's active entry becomes NULL;
// its bundle stays). A program that was not held by a link is let go.
func (r *Registry) detach(pt point, d tuple, flags, rel uint32, rev uint64, typ ebpf.ProgramType) (MprogItem, error) {
	m := pt.fetch()
	if m == nil {
		return MprogItem{}, errno.ENOENT
	}
	if flags&FlagReplace != 0 {
		return MprogItem{}, errno.EINVAL
	}
	if rev != 0 && rev != m.revision {
		return MprogItem{}, errno.ESTALE
	}
	if len(m.items) == 0 {
		return MprogItem{}, errno.ENOENT
	}
	rt, err := r.relative(rel, flags, typ)
	if err != nil {
		return MprogItem{}, err
	}
	it, err := m.detach(d, flags, rt)
	if err != nil {
		return MprogItem{}, err
	}
	if len(m.items) == 0 && !pt.keep {
		*pt.slot = nil
	}
	if it.Link == 0 {
		r.progPut(it.Prog)
	}
	return it, nil
}

// ProgQuery is BPF_PROG_QUERY for tcx and netkit: the programs on the attach point and its
// revision (ENODEV for an unknown device; netkit's rules as netkitDevice says).
func (r *Registry) ProgQuery(ifindex uint32, t ebpf.AttachType) (MprogQuery, error) {
	if !isMprogType(t) {
		return MprogQuery{}, errNotModelled(t)
	}
	pt, err := r.point(ifindex, t)
	if err != nil {
		return MprogQuery{}, err
	}
	return pt.fetch().query(), nil
}

// Programs lists the programs on a device's attach point in the order they run (nil when
// there are none), for the data path.
func (r *Registry) Programs(ifindex uint32, t ebpf.AttachType) []MprogItem {
	d := r.devs[ifindex]
	if d == nil {
		return nil
	}
	var m *mprog
	switch {
	case isTCX(t):
		m = d.tcx(t).fetch()
	case d.nk != nil:
		m = d.nk.point().fetch()
	}
	if m == nil {
		return nil
	}
	return m.items
}

// LinkAttr is the part of union bpf_attr that BPF_LINK_CREATE reads for tcx and netkit.
type LinkAttr struct {
	ProgFD        uint32
	TargetIfindex uint32
	AttachType    ebpf.AttachType
	Flags         uint32
	// Relative is relative_fd, or with FlagID relative_id (link_create.tcx / .netkit).
	Relative         uint32
	ExpectedRevision uint64
}

// LinkCreate is BPF_LINK_CREATE for tcx and netkit: the program's descriptor (EBADF, EINVAL),
// a SCHED_CLS program (EINVAL), the device (ENODEV; netkit's rules as netkitDevice says), then
// bpf_mprog_attach with the new link holding the program. The flags are not checked beyond what
// bpf_mprog makes of them. It returns the link's descriptor.
func (r *Registry) LinkCreate(a LinkAttr) (uint32, error) {
	if !isMprogType(a.AttachType) {
		return 0, errNotModelled(a.AttachType)
	}
	p, err := r.progByFD(a.ProgFD)
	if err != nil {
		return 0, err
	}
	if p.typ != ebpf.SchedCLS {
		return 0, errno.EINVAL
	}
	pt, err := r.point(a.TargetIfindex, a.AttachType)
	if err != nil {
		return 0, err
	}
	// bpf_link_prime gives the link its id before the attach; a failed attach frees it.
	r.nextLink++
	l := &regLink{id: r.nextLink, prog: p.id, typ: a.AttachType, dev: r.linkDev(a.TargetIfindex, a.AttachType), refs: 1}
	r.links[l.id] = l
	if err := r.attach(pt, tuple{prog: p.id, link: l.id}, 0, a.Flags, a.Relative, a.ExpectedRevision, p.typ); err != nil {
		delete(r.links, l.id)
		return 0, err
	}
	p.refs++ // the link's
	return r.newFD(fdRef{link: l.id}), nil
}

// linkDev is the device whose attach point a link of type t on ifindex holds: for
// BPF_NETKIT_PEER, the primary's peer.
func (r *Registry) linkDev(ifindex uint32, t ebpf.AttachType) uint32 {
	if t == ebpf.AttachNetkitPeer {
		return r.devs[ifindex].nk.peer
	}
	return ifindex
}

// pointOf is the attach point a link holds a program on.
func (r *Registry) pointOf(l *regLink) point {
	d := r.devs[l.dev]
	if isTCX(l.typ) {
		return d.tcx(l.typ)
	}
	return d.nk.point()
}

// linkRelease is tcx_link_release and netkit_link_release: the link's program leaves the attach
// point, and the link no longer has a device.
func (r *Registry) linkRelease(l *regLink) {
	r.detach(r.pointOf(l), tuple{prog: l.prog, link: l.id}, 0, 0, 0, 0) //nolint:errcheck // the kernel warns and goes on
	l.dev = 0
}

// LinkDetach is BPF_LINK_DETACH: the link's program leaves the attach point; the link's
// descriptor stays open.
func (r *Registry) LinkDetach(linkFD uint32) error {
	l, err := r.linkByFD(linkFD)
	if err != nil {
		return err
	}
	if l.dev != 0 {
		r.linkRelease(l)
	}
	return nil
}

// LinkUpdate is BPF_LINK_UPDATE for a tcx or netkit link: flags other than FlagReplace are
// EINVAL; the link and the new program by descriptor; with FlagReplace the program the link must
// hold now (EPERM when it holds another), without it no old descriptor (EINVAL). A detached
// link is ENOLINK; the same program again changes nothing; else the new program replaces the
// link's in place (bpf_mprog_attach with BPF_F_REPLACE | BPF_F_ID and the old program's id, so a
// new program of another type is EINVAL and one already on the attach point EEXIST).
func (r *Registry) LinkUpdate(linkFD, newProgFD, flags, oldProgFD uint32) error {
	if flags&^FlagReplace != 0 {
		return errno.EINVAL
	}
	l, err := r.linkByFD(linkFD)
	if err != nil {
		return err
	}
	np, err := r.progByFD(newProgFD)
	if err != nil {
		return err
	}
	var op *regProg
	if flags&FlagReplace != 0 {
		if op, err = r.progByFD(oldProgFD); err != nil {
			return err
		}
	} else if oldProgFD != 0 {
		return errno.EINVAL
	}
	if l.dev == 0 {
		return errno.ENOLINK
	}
	if op != nil && op.id != l.prog {
		return errno.EPERM
	}
	if np.id == l.prog {
		return nil
	}
	m := r.pointOf(l).fetch()
	if m == nil {
		return errno.ENOENT
	}
	if err := r.mprogAttach(m, tuple{prog: np.id, link: l.id}, l.prog, FlagReplace|FlagID, l.prog, 0, np.typ); err != nil {
		return err
	}
	np.refs++
	r.progPut(l.prog)
	l.prog = np.id
	return nil
}

// Devices lists the ifindexes of the registry's devices in order.
func (r *Registry) Devices() []uint32 {
	out := make([]uint32, 0, len(r.devs))
	for i := range r.devs {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}
