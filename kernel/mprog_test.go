package kernel_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/device"
)

// Flags as bpf(2) takes them.
const (
	fReplace = device.FlagReplace
	fBefore  = device.FlagBefore
	fAfter   = device.FlagAfter
	fID      = device.FlagID
	fLink    = device.FlagLink
)

// mprogScripts are the attach sequences held to the kernel: every ordering rule and every errno
// of bpf_mprog that a tcx hook can show, with programs attached directly and through links.
func mprogScripts() map[string]kernel.MprogScript {
	in := func(op kernel.MprogOp) kernel.MprogOp {
		if op.Hook == "" {
			op.Hook = "ingress"
		}
		return op
	}
	ops := func(list ...kernel.MprogOp) []kernel.MprogOp {
		for i := range list {
			list[i] = in(list[i])
		}
		return list
	}
	att := func(prog string, flags uint32, rel string) kernel.MprogOp {
		return kernel.MprogOp{Op: "attach", Prog: prog, Flags: flags, Relative: rel}
	}
	det := func(prog string, flags uint32, rel string) kernel.MprogOp {
		return kernel.MprogOp{Op: "detach", Prog: prog, Flags: flags, Relative: rel}
	}
	abc := []string{"a", "b", "c", "d", "e", "xdp_x"}
	base := []kernel.MprogOp{att("a", 0, ""), att("b", 0, ""), att("c", 0, "")}
	with := func(extra ...kernel.MprogOp) []kernel.MprogOp {
		return ops(append(slices.Clone(base), extra...)...)
	}
	many := []string{}
	var fill []kernel.MprogOp
	for i := range 64 {
		n := "p" + strconv.Itoa(i)
		many = append(many, n)
		fill = append(fill, att(n, 0, ""))
	}
	return map[string]kernel.MprogScript{
		"appending, then before and after the front, the back and a program": {Programs: abc, Ops: with(
			att("d", fBefore, ""), att("e", fAfter, "b"), kernel.MprogOp{Op: "query"})},
		"inserting by id before and after a program": {Programs: abc, Ops: with(
			att("d", fBefore|fID, "c"), att("e", fAfter|fID, "a"))},
		"before and after together, agreeing and not": {Programs: abc, Ops: with(
			kernel.MprogOp{Op: "attach", Prog: "d", Flags: fBefore | fAfter, Relative: "b"},
			kernel.MprogOp{Op: "attach", Prog: "e", Flags: fBefore | fAfter, Relative: ""})},
		"a program attached twice, and a relative program that is not attached": {Programs: abc, Ops: with(
			att("b", 0, ""), att("b", fBefore, "a"), att("d", fBefore, "e"), att("d", fAfter|fID, "e"))},
		"relative objects that are no program of the hook's type": {Programs: abc, Ops: with(
			att("d", fBefore, "xdp_x"), att("d", fBefore, "#999"), att("d", fBefore|fID, "#999999"),
			att("d", fBefore|fID, ""), att("d", fBefore|fLink, ""), att("d", fBefore|fLink, "a"))},
		"a relative object without before or after, and flags tcx does not take": {Programs: abc, Ops: with(
			att("d", 0, "a"), att("d", fID, ""), att("d", 1<<0, ""), att("d", 1<<1, ""), att("d", 1<<6, ""))},
		"replacing in place, with and without a position that agrees": {Programs: abc, Ops: with(
			kernel.MprogOp{Op: "attach", Prog: "d", Flags: fReplace, Replace: "b"},
			kernel.MprogOp{Op: "attach", Prog: "e", Flags: fReplace | fBefore, Replace: "d", Relative: "c"},
			kernel.MprogOp{Op: "attach", Prog: "b", Flags: fReplace | fAfter, Replace: "e", Relative: "c"},
			kernel.MprogOp{Op: "attach", Prog: "b", Flags: fReplace, Replace: "xdp_x"},
			kernel.MprogOp{Op: "attach", Prog: "b", Flags: fReplace, Replace: "d"},
			kernel.MprogOp{Op: "attach", Prog: "b", Flags: fReplace, Replace: ""})},
		"expected revisions": {Programs: abc, Ops: ops(
			kernel.MprogOp{Op: "query"},
			kernel.MprogOp{Op: "attach", Prog: "a", Revision: 2},
			kernel.MprogOp{Op: "attach", Prog: "a", Revision: 1},
			kernel.MprogOp{Op: "attach", Prog: "b", Revision: 1},
			kernel.MprogOp{Op: "attach", Prog: "b", Revision: 2},
			kernel.MprogOp{Op: "detach", Prog: "a", Revision: 2},
			kernel.MprogOp{Op: "detach", Prog: "a", Revision: 3},
			kernel.MprogOp{Op: "attach", Prog: "a", Revision: 3},
			kernel.MprogOp{Op: "detach", Prog: "b", Revision: 4},
			kernel.MprogOp{Op: "detach", Prog: "a", Revision: 5},
			kernel.MprogOp{Op: "attach", Prog: "c", Revision: 6},
			kernel.MprogOp{Op: "attach", Prog: "c", Revision: 1})},
		"detaching by program, by position and without either": {Programs: abc, Ops: with(
			att("d", 0, ""), att("e", 0, ""),
			det("b", 0, ""), det("", fBefore, "d"), det("", fAfter, "a"), det("", 0, ""), det("", fBefore, ""))},
		"detaching the first and the last through themselves": {Programs: abc, Ops: with(
			det("", fBefore, "a"), det("", fAfter, "c"), det("", fAfter, "b"))},
		"detaching with a position that disagrees, and what is not there": {Programs: abc, Ops: with(
			det("a", fBefore, "c"), det("a", fAfter, ""), det("a", fBefore, ""), det("d", 0, ""), det("xdp_x", 0, ""),
			det("a", fReplace, ""), det("", fBefore, "d"), det("", 0, "a"), det("", fID, ""),
			kernel.MprogOp{Op: "detach", Prog: "a", Hook: "egress"},
			kernel.MprogOp{Op: "detach", Prog: "a", Device: "missing"},
			kernel.MprogOp{Op: "attach", Prog: "a", Device: "missing"},
			kernel.MprogOp{Op: "query", Device: "missing"})},
		"ingress and egress are separate": {Programs: abc, Ops: ops(
			att("a", 0, ""), kernel.MprogOp{Op: "attach", Prog: "a", Hook: "egress"},
			kernel.MprogOp{Op: "attach", Prog: "b", Hook: "egress", Flags: fBefore},
			kernel.MprogOp{Op: "query", Hook: "egress"}, det("a", 0, ""), kernel.MprogOp{Op: "query", Hook: "egress"})},
		"links among programs": {Programs: abc, Ops: with(
			kernel.MprogOp{Op: "link", Prog: "d", Link: "L1", Flags: fBefore, Relative: "b"},
			kernel.MprogOp{Op: "link", Prog: "e", Link: "L2", Flags: fAfter | fLink, Relative: "L1"},
			kernel.MprogOp{Op: "link", Prog: "a", Link: "L3"},
			kernel.MprogOp{Op: "link", Prog: "xdp_x", Link: "L3"},
			det("d", 0, ""), det("", fAfter, "a"),
			kernel.MprogOp{Op: "attach", Prog: "a", Flags: fReplace, Replace: "d"},
			att("a", fBefore|fLink|fID, "L2"), att("a", fBefore|fLink, "b"),
			kernel.MprogOp{Op: "close", Link: "L1"},
			kernel.MprogOp{Op: "linkdetach", Link: "L2"},
			kernel.MprogOp{Op: "update", Link: "L2", Prog: "d"})},
		"updating a link": {Programs: abc, Ops: ops(
			att("a", 0, ""),
			kernel.MprogOp{Op: "link", Prog: "b", Link: "L"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "b"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "c"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "d", Flags: fReplace, Replace: "b"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "d", Flags: fReplace, Replace: "c"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "a"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "xdp_x"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "e", Replace: "d"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "e", Flags: fBefore},
			kernel.MprogOp{Op: "linkdetach", Link: "L"},
			kernel.MprogOp{Op: "update", Link: "L", Prog: "e"},
			kernel.MprogOp{Op: "linkdetach", Link: "L"})},
		"a link's revision and position": {Programs: abc, Ops: ops(
			kernel.MprogOp{Op: "link", Prog: "a", Link: "L1", Revision: 2},
			kernel.MprogOp{Op: "link", Prog: "a", Link: "L1", Revision: 1},
			kernel.MprogOp{Op: "link", Prog: "b", Link: "L2", Flags: fBefore | fLink | fID, Relative: "L1"},
			kernel.MprogOp{Op: "link", Prog: "c", Link: "L3", Flags: fReplace, Relative: ""},
			kernel.MprogOp{Op: "link", Prog: "c", Link: "L3", Relative: "a"},
			kernel.MprogOp{Op: "link", Prog: "c", Link: "L3", Flags: 1 << 0},
			kernel.MprogOp{Op: "link", Prog: "c", Link: "L3", Device: "missing"},
			kernel.MprogOp{Op: "close", Link: "L2"},
			kernel.MprogOp{Op: "close", Link: "L1"},
			kernel.MprogOp{Op: "link", Prog: "c", Link: "L3", Revision: 1})},
		"the hook holds 63 programs": {Programs: many, Ops: ops(append(fill,
			det("p0", 0, ""), att("p63", fBefore, ""),
			kernel.MprogOp{Op: "attach", Prog: "p0", Flags: fReplace, Replace: "p63"})...)},
		"netkit attach types on a kernel without netkit": {Programs: abc, Ops: ops(
			kernel.MprogOp{Op: "attach", Prog: "a", Hook: "primary"},
			kernel.MprogOp{Op: "attach", Prog: "a", Hook: "peer"},
			kernel.MprogOp{Op: "link", Prog: "a", Hook: "primary", Link: "L"},
			kernel.MprogOp{Op: "detach", Prog: "a", Hook: "primary"},
			kernel.MprogOp{Op: "query", Hook: "peer"})},
	}
}

// runMprogModel runs a script on the simulator's registry: a kernel without netkit with one veth
// end.
func runMprogModel(s kernel.MprogScript) ([]kernel.MprogResult, error) {
	const veth, missing = 5, 0x7fff0001
	r := device.NewRegistry()
	r.NoNetkit = true
	if err := r.AddDevice(veth, "veth"); err != nil {
		return nil, err
	}
	type obj struct{ id, fd uint32 }
	progs := map[string]obj{}
	names := map[uint32]string{}
	for _, name := range s.Programs {
		t := ebpf.SchedCLS
		if strings.HasPrefix(name, "xdp") {
			t = ebpf.XDP
		}
		id, fd := r.LoadProgram(name, t)
		progs[name], names[id] = obj{id, fd}, name
	}
	links := map[string]obj{}
	linkNames := map[uint32]string{}
	ref := func(name string, byID bool) uint32 {
		if n, ok := strings.CutPrefix(name, "#"); ok {
			v, _ := strconv.ParseUint(n, 10, 32)
			return uint32(v)
		}
		o, ok := links[name]
		if !ok {
			o = progs[name]
		}
		if byID {
			return o.id
		}
		return o.fd
	}
	types := map[string]ebpf.AttachType{"ingress": ebpf.AttachTCXIngress, "egress": ebpf.AttachTCXEgress,
		"primary": ebpf.AttachNetkitPrimary, "peer": ebpf.AttachNetkitPeer}
	var out []kernel.MprogResult
	for i, op := range s.Ops {
		typ := types[op.Hook]
		ifindex := uint32(veth)
		if op.Device == "missing" {
			ifindex = missing
		}
		byID := op.Flags&fID != 0
		var err error
		switch op.Op {
		case "attach", "detach":
			a := device.AttachAttr{TargetIfindex: ifindex, AttachBPFFD: ref(op.Prog, false), AttachType: typ,
				AttachFlags: op.Flags, ReplaceBPFFD: ref(op.Replace, false), Relative: ref(op.Relative, byID),
				ExpectedRevision: op.Revision}
			if op.Op == "attach" {
				err = r.ProgAttach(a)
			} else {
				err = r.ProgDetach(a)
			}
		case "query":
			_, err = r.ProgQuery(ifindex, typ)
		case "link":
			var fd uint32
			fd, err = r.LinkCreate(device.LinkAttr{ProgFD: ref(op.Prog, false), TargetIfindex: ifindex, AttachType: typ,
				Flags: op.Flags, Relative: ref(op.Relative, byID), ExpectedRevision: op.Revision})
			if err == nil {
				id := r.LinkID(fd)
				links[op.Link], linkNames[id] = obj{id, fd}, op.Link
			}
		case "update":
			err = r.LinkUpdate(links[op.Link].fd, ref(op.Prog, false), op.Flags, ref(op.Replace, false))
		case "linkdetach":
			err = r.LinkDetach(links[op.Link].fd)
		case "close":
			err = r.Close(links[op.Link].fd)
			delete(links, op.Link)
		default:
			return nil, fmt.Errorf("op %d: %q", i+1, op.Op)
		}
		res := kernel.MprogResult{Errno: errnoOf(err)}
		q, qerr := r.ProgQuery(veth, typ)
		if qerr != nil {
			res.QueryErrno = errnoOf(qerr)
		} else {
			res.Revision = q.Revision
			for _, it := range q.Items {
				res.Progs = append(res.Progs, names[it.Prog])
				res.Links = append(res.Links, linkNames[it.Link])
			}
		}
		out = append(out, res)
	}
	return out, nil
}

func errnoOf(err error) int {
	var e errno.Errno
	if errors.As(err, &e) {
		return int(e)
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestTcxAttachSequencesAgreeWithTheKernel replays every script on a veth in a private network
// namespace and on the simulator's registry: each call's errno and the hook's programs, links
// and revision after it must be the same.
func TestTcxAttachSequencesAgreeWithTheKernel(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("no kernel to compare with: %v", err)
	}
	scripts := mprogScripts()
	names := make([]string, 0, len(scripts))
	for n := range scripts {
		names = append(names, n)
	}
	slices.Sort(names)
	calls, errs := 0, 0
	for _, name := range names {
		s := scripts[name]
		t.Run(name, func(t *testing.T) {
			want, err := kernel.RunMprog(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := runMprogModel(s)
			if err != nil {
				t.Fatal(err)
			}
			for i, op := range s.Ops {
				calls++
				if want[i].Errno != 0 {
					errs++
				}
				if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
					t.Errorf("op %d (%s):\n  simulator %v\n  kernel    %v", i+1, op, got[i], want[i])
				}
			}
		})
	}
	t.Logf("%d calls in %d sequences, %d of them refused, compared with the kernel", calls, len(names), errs)
}
