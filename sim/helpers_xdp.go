package sim

import (
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// The XDP helpers, with the limits and error codes of net/core/filter.c as the spec describes them.

func init() {
	registerXDP(asm.FnXdpAdjustHead, observed("bpf_xdp_adjust_head", xdpAdjustHead))
	registerXDP(asm.FnXdpAdjustMeta, observed("bpf_xdp_adjust_meta", xdpAdjustMeta))
	registerXDP(asm.FnXdpAdjustTail, observed("bpf_xdp_adjust_tail", xdpAdjustTail))
	registerXDP(asm.FnXdpGetBuffLen, func(s *xdpState, m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		return uint64(int(s.dataEnd-s.data) + s.fragsSize()), nil
	})
	registerXDP(asm.FnXdpLoadBytes, xdpLoadBytes)
	registerXDP(asm.FnXdpStoreBytes, xdpStoreBytes)
	registerXDP(asm.FnRedirect, xdpRedirect)
}

func xdpAdjustHead(s *xdpState, m *vm.Machine, ctx, off, _, _, _ uint64) (uint64, error) {
	offset := int64(int32(off))
	metalen := int64(0)
	if s.metaOK {
		metalen = int64(s.data - s.dataMeta)
	}
	start := int64(s.headroomFloor()) + metalen
	nd := int64(s.data) + offset
	if nd < start || nd > int64(s.dataEnd)-ETHHdrLen {
		return errno.EINVAL.Return(), nil
	}
	if metalen > 0 {
		copy(s.frame[int64(s.dataMeta)+offset:], s.frame[s.dataMeta:s.data])
	}
	if s.metaOK {
		s.dataMeta = uint32(int64(s.dataMeta) + offset)
	}
	s.data = uint32(nd)
	s.window()
	return 0, nil
}

func xdpAdjustMeta(s *xdpState, m *vm.Machine, ctx, off, _, _, _ uint64) (uint64, error) {
	if !s.metaOK {
		return errno.ENOTSUPP.Return(), nil
	}
	if s.exported {
		return errno.EACCES.Return(), nil // the exported skb metadata must stay at data_meta
	}
	meta := int64(s.dataMeta) + int64(int32(off))
	if meta < int64(s.headroomFloor()) || meta > int64(s.data) {
		return errno.EINVAL.Return(), nil
	}
	metalen := int64(s.data) - meta
	if metalen%4 != 0 || metalen > 255 {
		return errno.EACCES.Return(), nil
	}
	s.dataMeta = uint32(meta)
	if !s.r.obj.opts.Features.TraitsV1 {
		s.traitsOK = false // the traits RFC (v2): metadata excludes traits
	}
	s.window()
	return 0, nil
}

func xdpAdjustTail(s *xdpState, m *vm.Machine, ctx, off, _, _, _ uint64) (uint64, error) {
	offset := int64(int32(off))
	if len(s.frags) > 0 {
		return s.adjustTailFrags(offset), nil
	}
	ne := int64(s.dataEnd) + offset
	if ne > hardEnd || ne < int64(s.data)+ETHHdrLen {
		return errno.EINVAL.Return(), nil
	}
	if offset > 0 {
		clear(s.frame[s.dataEnd:ne])
	}
	s.dataEnd = uint32(ne)
	s.window()
	return 0, nil
}

// adjustTailFrags grows or shrinks the last fragment, as bpf_xdp_frags_increase_tail and
// bpf_xdp_frags_shrink_tail do. The test run's fragments are whole pages (frag_size 4096).
func (s *xdpState) adjustTailFrags(offset int64) uint64 {
	if offset >= 0 {
		i := len(s.frags) - 1
		n, off := len(s.frags[i]), s.fragOff[i]
		tailroom := int64(FrameSize - off - n)
		if offset > tailroom {
			return errno.EINVAL.Return()
		}
		s.frags[i] = s.fragStore[i][off : off+n+int(offset)]
		clear(s.frags[i][n:])
		return 0
	}
	shrink := -offset
	total := int64(s.dataEnd-s.data) + int64(s.fragsSize())
	if shrink > total-ETHHdrLen {
		return errno.EINVAL.Return()
	}
	for shrink > 0 && len(s.frags) > 0 {
		i := len(s.frags) - 1
		n := int64(len(s.frags[i]))
		if shrink >= n {
			s.frags = s.frags[:i]
			shrink -= n
			continue
		}
		s.frags[i] = s.frags[i][:n-shrink]
		shrink = 0
	}
	if shrink > 0 {
		s.dataEnd -= uint32(shrink)
		s.window()
	}
	return 0
}

// xdpBytes finds [off, off+n) of the whole packet (linear part then fragments) for load/store_bytes.
func (s *xdpState) copyBytes(off, n uint64, buf []byte, store bool) uint64 {
	if off > 0xffff || n > 0xffff {
		return errno.EFAULT.Return()
	}
	lin := uint64(s.dataEnd - s.data)
	if off+n > lin+uint64(s.fragsSize()) {
		return errno.EINVAL.Return()
	}
	pos := uint64(0)
	for _, area := range append([][]byte{s.frame[s.data:s.dataEnd]}, s.frags...) {
		end := pos + uint64(len(area))
		if off < end && n > 0 {
			from := off - pos
			k := min(uint64(len(area))-from, n)
			if store {
				copy(area[from:from+k], buf[:k])
			} else {
				copy(buf[:k], area[from:from+k])
			}
			buf = buf[k:]
			off += k
			n -= k
		}
		pos = end
	}
	return 0
}

func xdpLoadBytes(s *xdpState, m *vm.Machine, ctx, off, buf, n, _ uint64) (uint64, error) {
	b, err := m.Bytes(buf, int(uint32(n)), true)
	if err != nil {
		return 0, err
	}
	return s.copyBytes(uint64(uint32(off)), uint64(uint32(n)), b, false), nil
}

func xdpStoreBytes(s *xdpState, m *vm.Machine, ctx, off, buf, n, _ uint64) (uint64, error) {
	b, err := m.Bytes(buf, int(uint32(n)), false)
	if err != nil {
		return 0, err
	}
	return s.copyBytes(uint64(uint32(off)), uint64(uint32(n)), b, true), nil
}

func xdpRedirect(s *xdpState, m *vm.Machine, ifindex, flags, _, _, _ uint64) (uint64, error) {
	if flags != 0 {
		return 0, nil // XDP_ABORTED
	}
	s.setRedirect(Redirect{Ifindex: uint32(ifindex)})
	return 4, nil
}
