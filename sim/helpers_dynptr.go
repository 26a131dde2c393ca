package sim

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/vm"
)

// The dynptr helpers of bpf_base_func_proto (kernel/bpf/helpers.c): bpf_dynptr_from_mem, _read,
// _write, _data and the ring buffer's dynptr variants. The dynptr itself, and the kfuncs over
// it, are package kfuncs'; the packet they reach is the run's (kfuncs.Packet, below).

func init() {
	registerBase(asm.FnDynptrFromMem, func(s *runState, m *vm.Machine, data, size, flags, ptr, _ uint64) (uint64, error) {
		n := uint32(size)
		e := kfuncs.CheckSize(n)
		if e == 0 && flags != 0 {
			e = errno.EINVAL
		}
		if e != 0 {
			return e.Return(), kfuncs.Dynptr{}.Store(m, ptr)
		}
		if n > 0 {
			if _, err := m.Bytes(data, int(n), true); err != nil {
				return 0, err
			}
		}
		return 0, kfuncs.NewDynptr(data, kfuncs.DynptrLocal, 0, n).Store(m, ptr)
	})
	registerBase(asm.FnDynptrRead, func(s *runState, m *vm.Machine, dst, n, src, off, flags uint64) (uint64, error) {
		d, err := kfuncs.LoadDynptr(m, src)
		if err != nil {
			return 0, err
		}
		var buf []byte
		if uint32(n) > 0 {
			if buf, err = m.Bytes(dst, int(uint32(n)), true); err != nil {
				return 0, err
			}
		}
		e, err := kfuncs.DynptrRead(m, d, uint32(off), buf, flags)
		return e.Return(), err
	})
	registerBase(asm.FnDynptrWrite, func(s *runState, m *vm.Machine, dst, off, src, n, flags uint64) (uint64, error) {
		d, err := kfuncs.LoadDynptr(m, dst)
		if err != nil {
			return 0, err
		}
		var buf []byte
		if uint32(n) > 0 {
			if buf, err = m.Bytes(src, int(uint32(n)), false); err != nil {
				return 0, err
			}
		}
		e, err := kfuncs.DynptrWrite(m, d, uint32(off), buf, flags)
		return e.Return(), err
	})
	registerBase(asm.FnDynptrData, func(s *runState, m *vm.Machine, ptr, off, n, _, _ uint64) (uint64, error) {
		d, err := kfuncs.LoadDynptr(m, ptr)
		if err != nil {
			return 0, err
		}
		return kfuncs.DynptrData(d, uint32(off), uint32(n)), nil
	})
	registerBase(asm.FnRingbufReserveDynptr, func(s *runState, m *vm.Machine, mp, size, flags, ptr, _ uint64) (uint64, error) {
		mm := s.mapAt(mp)
		if mm == nil || mm.RingBuf() == nil {
			return 0, errNotAMap
		}
		n := uint32(size)
		e := kfuncs.CheckSize(n)
		if flags != 0 {
			e = errno.EINVAL
		}
		if e != 0 {
			return e.Return(), kfuncs.Dynptr{}.Store(m, ptr)
		}
		sample, err := ringbufReserve(s, m, mp, uint64(n), 0, 0, 0)
		if err != nil {
			return 0, err
		}
		if sample == 0 {
			return errno.EINVAL.Return(), kfuncs.Dynptr{}.Store(m, ptr)
		}
		return 0, kfuncs.NewDynptr(sample, kfuncs.DynptrRingbuf, 0, n).Store(m, ptr)
	})
	finish := func(discard bool) helperImpl {
		return func(s *runState, m *vm.Machine, ptr, flags, _, _, _ uint64) (uint64, error) {
			d, err := kfuncs.LoadDynptr(m, ptr)
			if err != nil || d.Null() {
				return 0, err
			}
			if _, err := s.ringbufFinish(m, d.Data, flags, discard); err != nil {
				return 0, err
			}
			return 0, kfuncs.Dynptr{}.Store(m, ptr)
		}
	}
	registerBase(asm.FnRingbufSubmitDynptr, finish(false))
	registerBase(asm.FnRingbufDiscardDynptr, finish(true))
}

// The kfuncs.Packet side of the run state: the XDP program's xdp_buff, or the tc program's sk_buff.

// PacketLen is xdp_get_buff_len.
func (s *runState) PacketLen() uint32 { return uint32(s.packetLen()) }

// PacketLoad is __bpf_xdp_load_bytes, or __bpf_skb_load_bytes for a tc program.
func (s *runState) PacketLoad(off uint32, buf []byte) errno.Errno {
	if s.xdp == nil {
		return errnoOfNeg(s.skb.loadBytes(uint64(off), buf))
	}
	return errnoOfNeg(s.xdp.copyBytes(uint64(off), uint64(len(buf)), buf, false))
}

// PacketStore is __bpf_xdp_store_bytes, or __bpf_skb_store_bytes (with its flags) for a tc program.
func (s *runState) PacketStore(off uint32, buf []byte, flags uint64) errno.Errno {
	if s.xdp == nil {
		return errnoOfNeg(s.skb.storeBytes(uint64(off), buf, flags))
	}
	return errnoOfNeg(s.xdp.copyBytes(uint64(off), uint64(len(buf)), buf, true))
}

// errnoOfNeg turns a helper's -errno result into the errno.
func errnoOfNeg(r uint64) errno.Errno { return errno.Errno(-int64(r)) }

// PacketPointer is bpf_xdp_pointer: a pointer to n bytes at off when they lie in the linear part
// or in one fragment (whose bytes get a region of their own); for a tc program,
// skb_pointer_if_linear.
func (s *runState) PacketPointer(m *vm.Machine, off, n uint32) (uint64, errno.Errno) {
	x := s.xdp
	if x == nil {
		// skb_pointer_if_linear: the bytes from data, when they lie in the linear part.
		if sk := s.skb; uint64(off)+uint64(n) <= uint64(sk.headlen()) {
			return vm.Address(s.skbPkt, uint32(sk.data)+off), 0
		}
		return 0, 0
	}
	if off > 0xffff || n > 0xffff {
		return 0, errno.EFAULT
	}
	if uint64(off)+uint64(n) > uint64(s.packetLen()) {
		return 0, errno.EINVAL
	}
	lin := x.dataEnd - x.data
	if off < lin {
		if off+n <= lin {
			return vm.Address(x.x.pkt, x.data+off), 0
		}
		return 0, 0
	}
	off -= lin
	for i, f := range x.frags {
		if off < uint32(len(f)) {
			if off+n > uint32(len(f)) {
				return 0, 0
			}
			base := m.AddTempData(f, fmt.Sprintf("packet fragment %d", i), false)
			return base + uint64(off), 0
		}
		off -= uint32(len(f))
	}
	return 0, 0
}
