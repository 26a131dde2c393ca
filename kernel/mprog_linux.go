//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// bpf(2) commands and attach types the mprog runner uses (include/uapi/linux/bpf.h).
const (
	bpfProgAttach     = 8
	bpfProgDetach     = 9
	bpfObjGetInfoByFD = 15
	bpfProgQuery      = 16
	bpfLinkCreate     = 28
	bpfLinkUpdate     = 29
	bpfLinkDetach     = 34

	// bpfAttrSize is how much of union bpf_attr the runner passes: enough for every command it
	// uses, zero past the fields it sets (the kernel refuses non-zero bytes past a command's
	// last field).
	bpfAttrSize = 128
)

// ne writes bpf_attr fields in the machine's byte order.
var ne = binary.NativeEndian

// mprogAttachTypes maps a hook name to its attach type.
var mprogAttachTypes = map[string]ebpf.AttachType{
	"ingress": ebpf.AttachTCXIngress,
	"egress":  ebpf.AttachTCXEgress,
	"primary": ebpf.AttachNetkitPrimary,
	"peer":    ebpf.AttachNetkitPeer,
}

// missingIfindex is the ifindex the ops' Device "missing" stands for.
const missingIfindex = 0x7fff0001

// RunMprog runs an attach sequence against the real kernel: in a private network namespace it
// creates a veth pair, loads the script's programs, makes each call of the script on one veth end
// through bpf(2) and records what it returned and the hook's state right after. Everything it
// created is gone when it returns.
func RunMprog(s MprogScript) ([]MprogResult, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	return onPrivateNetns("mprog", func() ([]MprogResult, error) { return runMprog(s) })
}

// mprogRun is the state of one run: the programs and links by name.
type mprogRun struct {
	ifindex uint32
	progs   map[string]*ebpf.Program
	progIDs map[uint32]string
	links   map[string]int // descriptors
	linkIDs map[uint32]string
	linkID  map[string]uint32
}

func runMprog(s MprogScript) ([]MprogResult, error) {
	if err := createVeth(vethProg, vethInject, 1500); err != nil {
		return nil, fmt.Errorf("kernel: mprog: create the veth pair: %w", err)
	}
	ifi, err := net.InterfaceByName(vethProg)
	if err != nil {
		return nil, fmt.Errorf("kernel: mprog: %w", err)
	}
	r := &mprogRun{ifindex: uint32(ifi.Index), progs: map[string]*ebpf.Program{}, progIDs: map[uint32]string{},
		links: map[string]int{}, linkIDs: map[uint32]string{}, linkID: map[string]uint32{}}
	defer func() {
		for _, fd := range r.links {
			unix.Close(fd)
		}
		for _, p := range r.progs {
			p.Close()
		}
	}()
	for _, name := range s.Programs {
		spec := &ebpf.ProgramSpec{Name: name, Type: ebpf.SchedCLS, License: "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()}}
		if strings.HasPrefix(name, "xdp") {
			spec.Type = ebpf.XDP
			spec.Instructions = asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}
		}
		p, err := ebpf.NewProgram(spec)
		if err != nil {
			return nil, fmt.Errorf("kernel: mprog: load %s: %w", name, err)
		}
		r.progs[name] = p
		info, err := p.Info()
		if err != nil {
			return nil, fmt.Errorf("kernel: mprog: %s: %w", name, err)
		}
		id, _ := info.ID()
		r.progIDs[uint32(id)] = name
	}
	out := make([]MprogResult, 0, len(s.Ops))
	for i, op := range s.Ops {
		res, err := r.do(op)
		if err != nil {
			return nil, fmt.Errorf("kernel: mprog: op %d (%s): %w", i+1, op, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// progFD is the descriptor of a named program, 0 for "".
func (r *mprogRun) progFD(name string) (uint32, error) {
	if name == "" {
		return 0, nil
	}
	if n, ok := strings.CutPrefix(name, "#"); ok {
		v, err := strconv.ParseUint(n, 10, 32)
		return uint32(v), err
	}
	p := r.progs[name]
	if p == nil {
		return 0, fmt.Errorf("no program %q", name)
	}
	return uint32(p.FD()), nil
}

// relative is what the op passes as relative_fd or relative_id.
func (r *mprogRun) relative(name string, byID bool) (uint32, error) {
	if name == "" || strings.HasPrefix(name, "#") {
		return r.progFD(name)
	}
	if fd, ok := r.links[name]; ok {
		if byID {
			return r.linkID[name], nil
		}
		return uint32(fd), nil
	}
	p := r.progs[name]
	if p == nil {
		return 0, fmt.Errorf("no program or link %q", name)
	}
	if !byID {
		return uint32(p.FD()), nil
	}
	for id, n := range r.progIDs {
		if n == name {
			return id, nil
		}
	}
	return 0, fmt.Errorf("no id for %q", name)
}

func (r *mprogRun) do(op MprogOp) (MprogResult, error) {
	typ, ok := mprogAttachTypes[op.Hook]
	if !ok {
		return MprogResult{}, fmt.Errorf("hook %q: want ingress, egress, primary or peer", op.Hook)
	}
	ifindex := r.ifindex
	if op.Device == "missing" {
		ifindex = missingIfindex
	}
	var errno error
	switch op.Op {
	case "attach", "detach":
		prog, err := r.progFD(op.Prog)
		if err != nil {
			return MprogResult{}, err
		}
		repl, err := r.progFD(op.Replace)
		if err != nil {
			return MprogResult{}, err
		}
		rel, err := r.relative(op.Relative, op.Flags&(1<<5) != 0)
		if err != nil {
			return MprogResult{}, err
		}
		var a [bpfAttrSize]byte
		ne.PutUint32(a[0:], ifindex)
		ne.PutUint32(a[4:], prog)
		ne.PutUint32(a[8:], uint32(typ))
		ne.PutUint32(a[12:], op.Flags)
		ne.PutUint32(a[16:], repl)
		ne.PutUint32(a[20:], rel)
		ne.PutUint64(a[24:], op.Revision)
		cmd := uintptr(bpfProgAttach)
		if op.Op == "detach" {
			cmd = bpfProgDetach
		}
		_, errno = bpfCall(cmd, &a)
	case "query":
		_, errno = r.query(ifindex, typ)
	case "link":
		prog, err := r.progFD(op.Prog)
		if err != nil {
			return MprogResult{}, err
		}
		rel, err := r.relative(op.Relative, op.Flags&(1<<5) != 0)
		if err != nil {
			return MprogResult{}, err
		}
		var a [bpfAttrSize]byte
		ne.PutUint32(a[0:], prog)
		ne.PutUint32(a[4:], ifindex)
		ne.PutUint32(a[8:], uint32(typ))
		ne.PutUint32(a[12:], op.Flags)
		ne.PutUint32(a[16:], rel)
		ne.PutUint64(a[24:], op.Revision)
		var fd uintptr
		fd, errno = bpfCall(bpfLinkCreate, &a)
		if errno == nil {
			id, err := linkID(int(fd))
			if err != nil {
				unix.Close(int(fd))
				return MprogResult{}, err
			}
			if op.Link == "" {
				return MprogResult{}, errors.New("a link op needs a link name")
			}
			r.links[op.Link], r.linkID[op.Link], r.linkIDs[id] = int(fd), id, op.Link
		}
	case "update":
		fd, ok := r.links[op.Link]
		if !ok {
			return MprogResult{}, fmt.Errorf("no link %q", op.Link)
		}
		prog, err := r.progFD(op.Prog)
		if err != nil {
			return MprogResult{}, err
		}
		old, err := r.progFD(op.Replace)
		if err != nil {
			return MprogResult{}, err
		}
		var a [bpfAttrSize]byte
		ne.PutUint32(a[0:], uint32(fd))
		ne.PutUint32(a[4:], prog)
		ne.PutUint32(a[8:], op.Flags)
		ne.PutUint32(a[12:], old)
		_, errno = bpfCall(bpfLinkUpdate, &a)
	case "linkdetach":
		fd, ok := r.links[op.Link]
		if !ok {
			return MprogResult{}, fmt.Errorf("no link %q", op.Link)
		}
		var a [bpfAttrSize]byte
		ne.PutUint32(a[0:], uint32(fd))
		_, errno = bpfCall(bpfLinkDetach, &a)
	case "close":
		fd, ok := r.links[op.Link]
		if !ok {
			return MprogResult{}, fmt.Errorf("no link %q", op.Link)
		}
		delete(r.links, op.Link)
		errno = unix.Close(fd)
	default:
		return MprogResult{}, fmt.Errorf("op %q", op.Op)
	}
	res := MprogResult{Errno: errnoNumber(errno)}
	st, qerr := r.query(r.ifindex, typ)
	if qerr != nil {
		res.QueryErrno = errnoNumber(qerr)
		return res, nil
	}
	res.Progs, res.Links, res.Revision = st.Progs, st.Links, st.Revision
	return res, nil
}

// query is BPF_PROG_QUERY with room for every program a hook can hold.
func (r *mprogRun) query(ifindex uint32, typ ebpf.AttachType) (MprogResult, error) {
	var progIDs, linkIDs [64]uint32
	var a [bpfAttrSize]byte
	ne.PutUint32(a[0:], ifindex)
	ne.PutUint32(a[4:], uint32(typ))
	ne.PutUint64(a[16:], uint64(uintptr(unsafe.Pointer(&progIDs[0]))))
	ne.PutUint32(a[24:], uint32(len(progIDs)))
	ne.PutUint64(a[40:], uint64(uintptr(unsafe.Pointer(&linkIDs[0]))))
	_, err := bpfCall(bpfProgQuery, &a)
	runtime.KeepAlive(&progIDs)
	runtime.KeepAlive(&linkIDs)
	if err != nil {
		return MprogResult{}, err
	}
	res := MprogResult{Revision: ne.Uint64(a[56:])}
	for i := range ne.Uint32(a[24:]) {
		name, ok := r.progIDs[progIDs[i]]
		if !ok {
			name = fmt.Sprintf("id %d", progIDs[i])
		}
		res.Progs = append(res.Progs, name)
		ln := ""
		if linkIDs[i] != 0 {
			if ln, ok = r.linkIDs[linkIDs[i]]; !ok {
				ln = fmt.Sprintf("link id %d", linkIDs[i])
			}
		}
		res.Links = append(res.Links, ln)
	}
	return res, nil
}

// linkID reads a link's id (BPF_OBJ_GET_INFO_BY_FD: struct bpf_link_info's id).
func linkID(fd int) (uint32, error) {
	var info [64]byte
	var a [bpfAttrSize]byte
	ne.PutUint32(a[0:], uint32(fd))
	ne.PutUint32(a[4:], uint32(len(info)))
	ne.PutUint64(a[8:], uint64(uintptr(unsafe.Pointer(&info[0]))))
	_, err := bpfCall(bpfObjGetInfoByFD, &a)
	runtime.KeepAlive(&info)
	if err != nil {
		return 0, fmt.Errorf("link info: %w", err)
	}
	return ne.Uint32(info[4:]), nil
}

func bpfCall(cmd uintptr, attr *[bpfAttrSize]byte) (uintptr, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(attr)), bpfAttrSize)
	runtime.KeepAlive(attr)
	if e != 0 {
		return 0, e
	}
	return r, nil
}

// errnoNumber is the errno of a bpf(2) or close(2) failure, 0 for success.
func errnoNumber(err error) int {
	var e unix.Errno
	if errors.As(err, &e) {
		return int(e)
	}
	if err != nil {
		return -1
	}
	return 0
}
