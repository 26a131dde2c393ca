package device

import "github.com/xdpsim/xdpsim/errno"

// bpf_mprog: the program arrays of tcx and netkit (kernel/bpf/mprog.c, include/linux/bpf_mprog.h),
// written once for both. Every rule below is the kernel's, read from its source; the tcx side is
// held to Linux 6.18 by package kernel's tests, which replay attach and detach sequences on a real
// veth and compare the resulting order, revision and every errno.
//
//   - An attach point holds at most MprogMax programs (BPF_MPROG_MAX is 64 slots; the last stays
//     empty so the fast path ends on a NULL).
//   - Its revision starts at 1 and grows by one with every successful attach, replace or detach.
//     An expected_revision other than 0 that differs from it fails with ESTALE before anything
//     else is looked at; a program already on the attach point fails with EEXIST next.
//   - The relative object (relative_fd or relative_id) is a program, or with BPF_F_LINK a link
//     (its program is the anchor, held by that link). BPF_F_ID reads relative_id as an id, else
//     relative_fd as a file descriptor; 0 with neither flag means none. A relative program of
//     another type is EINVAL, a file descriptor that is not open EBADF, an id that names nothing
//     ENOENT; BPF_F_LINK with neither an id nor a descriptor EINVAL.
//   - Each rule gives a position independently (BPF_F_REPLACE: the program to replace, which must
//     be on the attach point, ENOENT, and not held by a link, EBUSY; BPF_F_BEFORE: just before the
//     relative object, or the front without one; BPF_F_AFTER: just after it, or the back); when
//     two rules disagree the request fails with ERANGE. A relative object that is not on the
//     attach point is ENOENT. Without any rule the program is appended, unless a relative object
//     or a flag was given (EINVAL).
//   - Detach takes the program to remove, or finds it from BPF_F_BEFORE/AFTER and the relative
//     object (the one just before or after it; at the ends, the end one, which can be the relative
//     object itself), or without either removes the last program. BPF_F_REPLACE is EINVAL; a
//     program held by a link cannot be detached this way (EBUSY); an empty attach point is ENOENT.

// Flags of BPF_PROG_ATTACH, BPF_PROG_DETACH and BPF_LINK_CREATE (include/uapi/linux/bpf.h).
const (
	FlagReplace uint32 = 1 << 2  // BPF_F_REPLACE
	FlagBefore  uint32 = 1 << 3  // BPF_F_BEFORE
	FlagAfter   uint32 = 1 << 4  // BPF_F_AFTER
	FlagID      uint32 = 1 << 5  // BPF_F_ID
	FlagLink    uint32 = 1 << 13 // BPF_F_LINK
	// MprogFlags is BPF_F_ATTACH_MASK_MPROG: the attach and detach flags of tcx and netkit.
	MprogFlags = FlagReplace | FlagBefore | FlagAfter | FlagID | FlagLink
)

// MprogMax is the most programs one tcx or netkit attach point holds (bpf_mprog_max()).
const MprogMax = 63

// MprogItem is one program on an attach point: its id, and the id of the link that holds it (0
// when it was attached with BPF_PROG_ATTACH).
type MprogItem struct {
	Prog uint32 `json:"prog"`
	Link uint32 `json:"link,omitempty"`
}

// mprog is a struct bpf_mprog_bundle: the program array of one attach point and its revision.
type mprog struct {
	items    []MprogItem
	revision uint64
}

func newMprog() *mprog { return &mprog{revision: 1} }

// tuple is a struct bpf_tuple: a program and the link that holds it.
type tuple struct{ prog, link uint32 }

// unset is the position no rule gave yet (the kernel starts from -ERANGE).
const unset = -int(errno.ERANGE)

// posExact is bpf_mprog_pos_exact: the index of t's program, EBUSY when a different link (or
// none where t has one) holds it, ENOENT when it is not there.
func (m *mprog) posExact(t tuple) int {
	for i, it := range m.items {
		if it.Prog == t.prog {
			if it.Link == t.link {
				return i
			}
			return -int(errno.EBUSY)
		}
	}
	return -int(errno.ENOENT)
}

// posBefore is bpf_mprog_pos_before: one less than the index of t (which a link, when given,
// must hold), -1 without a relative object, ENOENT when it is not there.
func (m *mprog) posBefore(t tuple) int {
	for i, it := range m.items {
		if it.Prog == t.prog && (t.link == 0 || t.link == it.Link) {
			return i - 1
		}
	}
	if t.prog != 0 {
		return -int(errno.ENOENT)
	}
	return -1
}

// posAfter is bpf_mprog_pos_after: one more than the index of t, the count without a relative
// object, ENOENT when it is not there.
func (m *mprog) posAfter(t tuple) int {
	for i, it := range m.items {
		if it.Prog == t.prog && (t.link == 0 || t.link == it.Link) {
			return i + 1
		}
	}
	if t.prog != 0 {
		return -int(errno.ENOENT)
	}
	return len(m.items)
}

func (m *mprog) exists(prog uint32) bool {
	for _, it := range m.items {
		if it.Prog == prog {
			return true
		}
	}
	return false
}

// position applies BPF_F_BEFORE and BPF_F_AFTER to idx as bpf_mprog_attach and
// bpf_mprog_detach do.
func (m *mprog) position(idx int, flags uint32, rel tuple) (int, error) {
	if flags&FlagBefore != 0 {
		t := m.posBefore(rel)
		if t < -1 || (idx >= -1 && t != idx) {
			if t < -1 {
				return 0, errno.Errno(-t)
			}
			return 0, errno.ERANGE
		}
		idx = t
	}
	if flags&FlagAfter != 0 {
		t := m.posAfter(rel)
		if t < -1 || (idx >= -1 && t != idx) {
			if t < 0 {
				return 0, errno.Errno(-t)
			}
			return 0, errno.ERANGE
		}
		idx = t
	}
	return idx, nil
}

// attach is bpf_mprog_attach: n (held by n.link, 0 for none) goes where flags and rel say, or
// replaces old (flags with FlagReplace). rel is the resolved relative object; revision the
// expected revision (0: any). The caller has checked revision and existence (see check).
func (m *mprog) attach(n tuple, old uint32, flags uint32, rel tuple) error {
	idx := unset
	if flags&FlagReplace != 0 {
		t := m.posExact(tuple{old, n.link})
		if t < 0 {
			return errno.Errno(-t)
		}
		idx = t
	} else if len(m.items) == MprogMax {
		return errno.ERANGE
	}
	idx, err := m.position(idx, flags, rel)
	if err != nil {
		return err
	}
	if idx < -1 {
		if rel.prog != 0 || flags != 0 {
			return errno.EINVAL
		}
		idx, flags = len(m.items), FlagAfter
	}
	if idx >= MprogMax {
		return errno.ERANGE
	}
	it := MprogItem{Prog: n.prog, Link: n.link}
	switch {
	case flags&FlagReplace != 0:
		m.items[idx] = it
	case idx == len(m.items):
		m.items = append(m.items, it)
	default:
		if flags&FlagBefore != 0 {
			idx++
		}
		m.items = append(m.items, MprogItem{})
		copy(m.items[idx+1:], m.items[idx:])
		m.items[idx] = it
	}
	m.revision++
	return nil
}

// detach is bpf_mprog_detach after the revision check: d is the program (and link) to remove,
// zero to find it from flags and rel. It returns what it removed.
func (m *mprog) detach(d tuple, flags uint32, rel tuple) (MprogItem, error) {
	idx := unset
	if d.prog != 0 {
		t := m.posExact(d)
		if t < 0 {
			return MprogItem{}, errno.Errno(-t)
		}
		idx = t
	}
	idx, err := m.position(idx, flags, rel)
	if err != nil {
		return MprogItem{}, err
	}
	if idx < -1 {
		if rel.prog != 0 || flags != 0 {
			return MprogItem{}, errno.EINVAL
		}
		idx = len(m.items)
	}
	if idx >= MprogMax {
		return MprogItem{}, errno.ERANGE
	}
	// bpf_mprog_fetch: the ends stand for the end programs.
	switch idx {
	case -1:
		idx = 0
	case len(m.items):
		idx = len(m.items) - 1
	}
	it := m.items[idx]
	if it.Link != 0 && d.link == 0 {
		return MprogItem{}, errno.EBUSY
	}
	m.items = append(m.items[:idx], m.items[idx+1:]...)
	m.revision++
	return it, nil
}

// MprogQuery is what BPF_PROG_QUERY reports of a tcx or netkit attach point.
type MprogQuery struct {
	// Revision is the attach point's revision (1 for one without programs).
	Revision uint64 `json:"revision"`
	// Items are the programs in the order they run.
	Items []MprogItem `json:"items"`
}

// query is bpf_mprog_query: an attach point without an entry (nil) reports no programs and
// revision 1.
func (m *mprog) query() MprogQuery {
	if m == nil {
		return MprogQuery{Revision: 1}
	}
	return MprogQuery{Revision: m.revision, Items: append([]MprogItem(nil), m.items...)}
}
