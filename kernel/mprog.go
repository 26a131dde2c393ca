package kernel

import (
	"fmt"
	"strings"
)

// MprogOp is one bpf(2) call of an attach sequence on a tcx hook (see RunMprog). Programs and
// links are named: a program by the name it was loaded under (MprogScript.Programs), a link by
// the name its creation gave it. Where the call takes a relative object, Relative names a program
// or a link, given as its id when Flags has BPF_F_ID and as its file descriptor otherwise;
// "#N" passes the number N as it is (an id or descriptor nothing has), "" passes 0.
type MprogOp struct {
	// Op is "attach" (BPF_PROG_ATTACH), "detach" (BPF_PROG_DETACH), "query" (BPF_PROG_QUERY),
	// "link" (BPF_LINK_CREATE), "update" (BPF_LINK_UPDATE), "linkdetach" (BPF_LINK_DETACH) or
	// "close" (close(2) of a link's descriptor).
	Op string
	// Hook is "ingress" or "egress" (tcx), or "primary" or "peer" (netkit); Device "" is the
	// veth end, "missing" an ifindex no device has.
	Hook   string
	Device string
	// Prog is the program to attach, detach (may be "" there) or link, or the new program of an
	// update; Replace the program BPF_F_REPLACE replaces, or an update's old program.
	Prog     string
	Replace  string
	Relative string
	Flags    uint32
	Revision uint64
	// Link names the link a "link" op creates, or the link an update, linkdetach or close uses.
	Link string
}

func (o MprogOp) String() string {
	var b strings.Builder
	b.WriteString(o.Op)
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	add("hook", o.Hook)
	add("dev", o.Device)
	add("prog", o.Prog)
	add("replace", o.Replace)
	add("rel", o.Relative)
	if o.Flags != 0 {
		fmt.Fprintf(&b, " flags=%#x", o.Flags)
	}
	if o.Revision != 0 {
		fmt.Fprintf(&b, " rev=%d", o.Revision)
	}
	add("link", o.Link)
	return b.String()
}

// MprogScript is an attach sequence: the programs to load first (each a SCHED_CLS program
// returning TCX_NEXT, except names starting with "xdp", which are XDP programs), then the calls.
type MprogScript struct {
	Programs []string
	Ops      []MprogOp
}

// MprogResult is what one call returned (0 or the errno), then the state of the op's hook on the
// veth end as BPF_PROG_QUERY reports it right after: the programs in order, the links holding
// them ("" for none) and the revision, or the query's errno.
type MprogResult struct {
	Errno      int
	Progs      []string
	Links      []string
	Revision   uint64
	QueryErrno int
}

func (r MprogResult) String() string {
	if r.QueryErrno != 0 {
		return fmt.Sprintf("errno %d; query errno %d", r.Errno, r.QueryErrno)
	}
	return fmt.Sprintf("errno %d; progs %v, links %v, revision %d", r.Errno, r.Progs, r.Links, r.Revision)
}
