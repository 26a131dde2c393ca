package sim

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/vm"
)

func init() {
	registerXDPAndTC(asm.FnCsumDiff, csumDiff)
	registerBase(asm.FnLoop, bpfLoop)
	registerBase(asm.FnForEachMapElem, forEachMapElem)
	registerXDP(asm.FnRedirectMap, redirectMap)
	registerBase(asm.FnRingbufOutput, ringbufOutput)
	registerBase(asm.FnRingbufReserve, ringbufReserve)
	registerBase(asm.FnRingbufSubmit, func(s *runState, m *vm.Machine, sample, flags, _, _, _ uint64) (uint64, error) {
		return s.ringbufFinish(m, sample, flags, false)
	})
	registerBase(asm.FnRingbufDiscard, func(s *runState, m *vm.Machine, sample, flags, _, _, _ uint64) (uint64, error) {
		return s.ringbufFinish(m, sample, flags, true)
	})
	registerBase(asm.FnRingbufQuery, func(s *runState, m *vm.Machine, mp, flags, _, _, _ uint64) (uint64, error) {
		mm := s.mapAt(mp)
		if mm == nil || mm.RingBuf() == nil {
			return 0, errNotAMap
		}
		return mm.RingBuf().Query(flags), nil
	})
	registerXDPAndTC(asm.FnPerfEventOutput, perfEventOutput)
	registerXDP(asm.FnCheckMtu, checkMTU)
	registerXDP(asm.FnFibLookup, fibLookup)
	// No sockets exist in the simulated host: lookups find nothing.
	none := func(*runState, *vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
	registerXDPAndTC(asm.FnSkLookupTcp, none)
	registerXDPAndTC(asm.FnSkLookupUdp, none)
	registerXDPAndTC(asm.FnSkcLookupTcp, none)
	registerXDPAndTC(asm.FnSkRelease, none)
}

// csumDiff is bpf_csum_diff as Linux 6.18 computes it (measured; the result is the same on every
// architecture since the helper was reworked in 6.13): the one's complement sum of "to" plus seed,
// minus that of "from", folded to 16 bits (not complemented). Sizes need not be multiples of 4.
func csumDiff(s *runState, m *vm.Machine, from, fromSize, to, toSize, seed uint64) (uint64, error) {
	fs, ts := uint32(fromSize), uint32(toSize)
	if uint64(fs)+uint64(ts) > csumDiffMax {
		return errno.EINVAL.Return(), nil
	}
	var fb, tb []byte
	var err error
	if fs > 0 {
		if fb, err = m.Bytes(from, int(fs), false); err != nil {
			return 0, err
		}
	}
	if ts > 0 {
		if tb, err = m.Bytes(to, int(ts), false); err != nil {
			return 0, err
		}
	}
	var sum uint32
	switch {
	case fs > 0 && ts > 0:
		sum = csumAdd(csumPartial(tb, uint32(seed)), ^csumPartial(fb, 0))
	case ts > 0:
		sum = csumPartial(tb, uint32(seed))
	case fs > 0:
		sum = ^csumPartial(fb, ^uint32(seed))
	default:
		sum = uint32(seed)
	}
	return uint64(csumFold16(sum)), nil
}

// csumDiffMax bounds the bytes bpf_csum_diff takes in all (the kernel's scratch buffer).
const csumDiffMax = 512

// csumPartial is the kernel's csum_partial: a 32-bit one's complement sum of the bytes as
// little-endian words, a trailing half word and byte added at the low end.
func csumPartial(b []byte, sum uint32) uint32 {
	acc := uint64(sum)
	for len(b) >= 4 {
		acc += uint64(le.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(le.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0])
	}
	for acc>>32 != 0 {
		acc = acc&0xffffffff + acc>>32
	}
	return uint32(acc)
}

// csumAdd adds two 32-bit one's complement sums.
func csumAdd(a, b uint32) uint32 {
	s := uint64(a) + uint64(b)
	return uint32(s&0xffffffff + s>>32)
}

// csumFold16 folds a 32-bit sum to 16 bits without complementing it.
func csumFold16(x uint32) uint16 {
	x = x&0xffff + x>>16
	x = x&0xffff + x>>16
	return uint16(x)
}

// maxLoops is BPF_MAX_LOOPS.
const maxLoops = 8 * 1024 * 1024

func bpfLoop(s *runState, m *vm.Machine, nr, fn, ctx, flags, _ uint64) (uint64, error) {
	if flags != 0 {
		return errno.EINVAL.Return(), nil
	}
	n := uint32(nr)
	if n > maxLoops {
		return errno.E2BIG.Return(), nil
	}
	for i := uint32(0); i < n; i++ {
		r, err := m.Callback(fn, uint64(i), ctx)
		if err != nil {
			return 0, err
		}
		if r != 0 {
			return uint64(i + 1), nil
		}
	}
	return uint64(n), nil
}

func forEachMapElem(s *runState, m *vm.Machine, mp, fn, ctx, flags, _ uint64) (uint64, error) {
	mm := s.mapAt(mp)
	if mm == nil {
		return 0, errNotAMap
	}
	if flags != 0 {
		return errno.EINVAL.Return(), nil
	}
	var cbErr error
	n, err := mm.ForEach(s.cond.CPU, func(key, value []byte) bool {
		k := m.AddTempData(key, "map key", true)
		v := m.AddTempData(value, "map value", false)
		r, err := m.Callback(fn, mp, k, v, ctx)
		if err != nil {
			cbErr = err
			return false
		}
		return r == 0
	})
	if cbErr != nil {
		return 0, cbErr
	}
	if err != nil {
		return errnoOf(err), nil
	}
	return uint64(n), nil
}

// Redirect flags.
const (
	flagBroadcast      = 1 << 3
	flagExcludeIngress = 1 << 4
	xdpActionMask      = 3
)

func redirectMap(s *xdpState, m *vm.Machine, mp, key, flags, _, _ uint64) (uint64, error) {
	mm := s.r.mapAt(mp)
	if mm == nil {
		return 0, errNotAMap
	}
	allowed := uint64(xdpActionMask)
	isDev := mm.Type() == ebpf.DevMap || mm.Type() == ebpf.DevMapHash
	if isDev {
		allowed |= flagBroadcast | flagExcludeIngress
	}
	switch mm.Type() {
	case ebpf.DevMap, ebpf.DevMapHash, ebpf.CPUMap, ebpf.XSKMap:
	default:
		return 0, fmt.Errorf("bpf_redirect_map on map %s of type %s", mm.Name(), mm.Type())
	}
	if flags&^allowed != 0 {
		return 0, nil // XDP_ABORTED
	}
	var k [4]byte
	le.PutUint32(k[:], uint32(key))
	r := Redirect{Map: mm.Name(), MapType: mm.Type().String(), Key: uint32(key), Flags: flags}
	if flags&flagBroadcast != 0 {
		_, err := mm.ForEach(0, func(_, value []byte) bool {
			ifx := le.Uint32(value)
			if flags&flagExcludeIngress != 0 && ifx == s.r.cond.IngressIfindex {
				return true
			}
			r.Targets = append(r.Targets, ifx)
			return true
		})
		if err != nil {
			// devmap iteration through ForEach is not offered: walk the keys instead.
			r.Targets = broadcastTargets(mm, s.r.cond.IngressIfindex, flags&flagExcludeIngress != 0)
		}
		s.setRedirect(r)
		return 4, nil
	}
	var present bool
	switch mm.Type() {
	case ebpf.XSKMap:
		obj, err := mm.LookupObject(k[:])
		present = err == nil && obj != nil
		if !present {
			v, err := mm.Lookup(k[:], 0)
			present = err == nil && v != nil
		}
		r.QueueCPU = int(key)
	default:
		v, err := mm.Lookup(k[:], 0)
		present = err == nil && v != nil
		if present {
			switch mm.Type() {
			case ebpf.CPUMap:
				r.QueueCPU = int(key)
			default:
				r.Ifindex = le.Uint32(v)
			}
			// struct bpf_devmap_val / bpf_cpumap_val: the second u32 names an attached program.
			if len(v) >= 8 {
				r.progID = le.Uint32(v[4:])
			}
		}
	}
	if !present {
		return flags & xdpActionMask, nil
	}
	s.setRedirect(r)
	return 4, nil
}

func broadcastTargets(mm *maps.Map, ingress uint32, exclude bool) []uint32 {
	var out []uint32
	mm.Iterate(func(_ []byte, values [][]byte) bool {
		if len(values) > 0 {
			ifx := le.Uint32(values[0])
			if !(exclude && ifx == ingress) {
				out = append(out, ifx)
			}
		}
		return true
	})
	return out
}

func ringbufOutput(s *runState, m *vm.Machine, mp, data, size, flags, _ uint64) (uint64, error) {
	mm := s.mapAt(mp)
	if mm == nil || mm.RingBuf() == nil {
		return 0, errNotAMap
	}
	b, err := m.Bytes(data, int(size), false)
	if err != nil {
		return 0, err
	}
	if err := mm.RingBuf().Output(b, flags); err != nil {
		return errnoOf(err), nil
	}
	return 0, nil
}

func ringbufReserve(s *runState, m *vm.Machine, mp, size, flags, _, _ uint64) (uint64, error) {
	mm := s.mapAt(mp)
	if mm == nil || mm.RingBuf() == nil {
		return 0, errNotAMap
	}
	b, err := mm.RingBuf().Reserve(size, flags)
	if err != nil || b == nil {
		return 0, nil
	}
	ptr := m.AddTempData(b, "ring buffer sample", false)
	s.reserved = append(s.reserved, reservation{ptr: ptr, rb: mm.RingBuf(), sample: b})
	return ptr, nil
}

// reservation is a ring buffer sample the program holds between reserve and submit/discard.
type reservation struct {
	ptr    uint64
	rb     *maps.RingBuf
	sample []byte
}

func (s *runState) ringbufFinish(m *vm.Machine, ptr, flags uint64, discard bool) (uint64, error) {
	for i, r := range s.reserved {
		if r.ptr != ptr {
			continue
		}
		s.reserved = append(s.reserved[:i], s.reserved[i+1:]...)
		var err error
		if discard {
			err = r.rb.Discard(r.sample, flags)
		} else {
			err = r.rb.Submit(r.sample, flags)
		}
		if err != nil {
			return 0, err
		}
		return 0, nil
	}
	return 0, fmt.Errorf("ring buffer submit/discard of %#x, which is not a reserved sample", ptr)
}

const (
	perfIndexMask  = 0xffffffff
	perfCtxLenMask = 0xfffff << 32
)

func perfEventOutput(s *runState, m *vm.Machine, ctx, mp, flags, data, size uint64) (uint64, error) {
	mm := s.mapAt(mp)
	if mm == nil || mm.PerfEventArray() == nil {
		return 0, errNotAMap
	}
	if flags&^(perfIndexMask|perfCtxLenMask) != 0 {
		return errno.EINVAL.Return(), nil
	}
	ctxLen := (flags & perfCtxLenMask) >> 32
	if ctxLen > uint64(s.packetLen()) {
		return errno.EFAULT.Return(), nil
	}
	b, err := m.Bytes(data, int(size), false)
	if err != nil {
		return 0, err
	}
	pkt := make([]byte, ctxLen)
	if ctxLen > 0 {
		s.readPacket(pkt)
	}
	if err := mm.PerfEventArray().Output(s.cond.CPU, flags&perfIndexMask, b, pkt); err != nil {
		return errnoOf(err), nil
	}
	return 0, nil
}

func checkMTU(s *xdpState, m *vm.Machine, ctx, ifindex, mtuLen, lenDiff, flags uint64) (uint64, error) {
	if flags != 0 {
		return errno.EINVAL.Return(), nil
	}
	ifx := uint32(ifindex)
	if ifx == 0 {
		ifx = s.r.cond.IngressIfindex
	}
	dev, ok := s.r.host.byIndex[ifx]
	if !ok {
		return errno.ENODEV.Return(), nil
	}
	const hardHeaderLen = 14 // Ethernet, and loopback's too
	b, err := m.Bytes(mtuLen, 4, true)
	if err != nil {
		return 0, err
	}
	xdpLen := int64(s.dataEnd - s.data)
	if v := le.Uint32(b); v != 0 {
		xdpLen = int64(v) + hardHeaderLen
	}
	xdpLen += int64(int32(lenDiff))
	ret := uint64(0)
	if xdpLen > int64(dev.MTU)+hardHeaderLen {
		ret = 1 // BPF_MTU_CHK_RET_FRAG_NEEDED
	}
	le.PutUint32(b, dev.MTU)
	return ret, nil
}

func fibLookup(s *xdpState, m *vm.Machine, ctx, params, plen, flags, _ uint64) (uint64, error) {
	if plen < 64 {
		return errno.EINVAL.Return(), nil
	}
	if flags&^0x1f != 0 { // DIRECT, OUTPUT, SKIP_NEIGH, TBID, SRC
		return errno.EINVAL.Return(), nil
	}
	b, err := m.Bytes(params, 64, true)
	if err != nil {
		return 0, err
	}
	return s.r.host.fibLookup(b, flags, true), nil
}

// strictScope6 reports whether an IPv6 address is multicast, link-local or loopback: addresses
// the kernel's FIB helper does not forward (rt6_need_strict).
func strictScope6(a []byte) bool {
	if a[0] == 0xff || (a[0] == 0xfe && a[1]&0xc0 == 0x80) {
		return true
	}
	for _, c := range a[:15] {
		if c != 0 {
			return false
		}
	}
	return a[15] == 1
}
