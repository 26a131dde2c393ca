package sim

import (
	"encoding/binary"
	"net/netip"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// The helpers of tc programs (tc_cls_act_func_proto in net/core/filter.c), with the kernel's
// limits, checks in the kernel's order, and error codes. The skb is linear unless an XDP
// multi-buffer frame made it; CHECKSUM_COMPLETE is never set, so the checksum bookkeeping the
// kernel does for it (skb->csum) has nothing to do.

func init() {
	registerSkb(asm.FnSkbLoadBytes, skbLoadBytes)
	registerSkb(asm.FnSkbLoadBytesRelative, skbLoadBytesRelative)
	registerSkb(asm.FnSkbStoreBytes, skbStoreBytes)
	registerSkb(asm.FnL3CsumReplace, skbL3CsumReplace)
	registerSkb(asm.FnL4CsumReplace, skbL4CsumReplace)
	registerSkb(asm.FnCsumUpdate, func(s *skbState, m *vm.Machine, ctx, csum, _, _, _ uint64) (uint64, error) {
		return errno.ENOTSUPP.Return(), nil // only a CHECKSUM_COMPLETE skb has a checksum to update
	})
	registerSkb(asm.FnCsumLevel, skbCsumLevel)
	registerSkb(asm.FnSkbChangeHead, skbChangeHead)
	registerSkb(asm.FnSkbChangeTail, skbChangeTail)
	registerSkb(asm.FnSkbPullData, func(s *skbState, m *vm.Machine, ctx, n, _, _, _ uint64) (uint64, error) {
		l := int(uint32(n))
		if l == 0 {
			l = s.headlen()
		}
		defer s.window()
		if !s.pullTail(l) {
			return errno.ENOMEM.Return(), nil
		}
		return 0, nil
	})
	registerSkb(asm.FnSkbAdjustRoom, skbAdjustRoom)
	registerSkb(asm.FnSkbChangeProto, skbChangeProto)
	registerSkb(asm.FnSkbChangeType, func(s *skbState, m *vm.Machine, ctx, typ, _, _, _ uint64) (uint64, error) {
		if s.pktType > packetOtherhost || uint32(typ) > packetOtherhost {
			return errno.EINVAL.Return(), nil
		}
		s.pktType = uint8(typ)
		return 0, nil
	})
	registerSkb(asm.FnSkbVlanPush, skbVlanPush)
	registerSkb(asm.FnSkbVlanPop, func(s *skbState, m *vm.Machine, ctx, _, _, _, _ uint64) (uint64, error) {
		defer s.window()
		return s.vlanPop(), nil
	})
	registerSkb(asm.FnRedirect, func(s *skbState, m *vm.Machine, ifindex, flags, _, _, _ uint64) (uint64, error) {
		if flags&^bpfFIngress != 0 {
			return TCActShot, nil
		}
		s.redirect = TCRedirect{Ifindex: uint32(ifindex), Ingress: flags&bpfFIngress != 0}
		s.redirSet = true
		return TCActRedirect, nil
	})
	registerSkb(asm.FnRedirectPeer, func(s *skbState, m *vm.Machine, ifindex, flags, _, _, _ uint64) (uint64, error) {
		if flags != 0 {
			return TCActShot, nil
		}
		s.redirect = TCRedirect{Ifindex: uint32(ifindex), Peer: true, Ingress: true}
		s.redirSet = true
		return TCActRedirect, nil
	})
	registerSkb(asm.FnRedirectNeigh, skbRedirectNeigh)
	registerSkb(asm.FnCloneRedirect, skbCloneRedirect)
	registerSkb(asm.FnGetHashRecalc, func(s *skbState, m *vm.Machine, ctx, _, _, _, _ uint64) (uint64, error) {
		if !s.l4Hash && !s.swHash {
			s.hash, s.l4Hash = s.flowHash()
			s.swHash = true
		}
		return uint64(s.hash), nil
	})
	registerSkb(asm.FnSetHash, func(s *skbState, m *vm.Machine, ctx, hash, _, _, _ uint64) (uint64, error) {
		s.hash, s.swHash, s.l4Hash = uint32(hash), true, true
		return 0, nil
	})
	registerSkb(asm.FnSetHashInvalid, func(s *skbState, m *vm.Machine, ctx, _, _, _, _ uint64) (uint64, error) {
		s.hash, s.swHash, s.l4Hash = 0, false, false
		return 0, nil
	})
	// No socket owns the packet at tc ingress (and BPF_PROG_TEST_RUN runs in the test's own
	// process, in the root net_cls cgroup): the class id is 0. No route was looked up yet: the
	// realm is 0.
	zero := func(*skbState, *vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
	registerSkb(asm.FnGetCgroupClassid, zero)
	registerSkb(asm.FnGetRouteRealm, zero)
	registerSkb(asm.FnFibLookup, skbFibLookup)
	registerSkb(asm.FnCheckMtu, skbCheckMTU)
	registerSkb(asm.FnSkbEcnSetCe, func(s *skbState, m *vm.Machine, ctx, _, _, _, _ uint64) (uint64, error) {
		return s.ecnSetCE(), nil
	})
}

// Flags of the skb helpers (include/uapi/linux/bpf.h).
const (
	bpfFIngress        = 1 << 0
	bpfFRecomputeCsum  = 1 << 0
	bpfFInvalidateHash = 1 << 1
	bpfFHdrFieldMask   = 0xf
	bpfFPseudoHdr      = 1 << 4
	bpfFMarkMangled0   = 1 << 5
	bpfFMarkEnforce    = 1 << 6
	bpfFIPv6           = 1 << 7
	csumMangled0       = 0xffff
	intMax             = 1<<31 - 1
)

// writable is bpf_try_make_writable: the first n bytes of the packet made linear (and private);
// false when the packet is shorter.
func (s *skbState) writable(n int) bool {
	ok := s.pullTail(n)
	s.window()
	return ok
}

func skbLoadBytes(s *skbState, m *vm.Machine, ctx, off, to, n, _ uint64) (uint64, error) {
	b, err := m.Bytes(to, int(uint32(n)), true)
	if err != nil {
		return 0, err
	}
	return s.loadBytes(uint64(uint32(off)), b), nil
}

// loadBytes is __bpf_skb_load_bytes: b gets len(b) bytes at offset o, or zeroes and -EFAULT.
func (s *skbState) loadBytes(o uint64, b []byte) uint64 {
	if o > intMax || o+uint64(len(b)) > uint64(s.len()) {
		clear(b)
		return errno.EFAULT.Return()
	}
	s.read(int(o), b)
	return 0
}

// Start headers of bpf_skb_load_bytes_relative.
const (
	bpfHdrStartMAC = 0
	bpfHdrStartNet = 1
)

func skbLoadBytesRelative(s *skbState, m *vm.Machine, ctx, off, to, n, start uint64) (uint64, error) {
	b, err := m.Bytes(to, int(uint32(n)), true)
	if err != nil {
		return 0, err
	}
	o := uint64(uint32(off))
	var base int
	switch uint32(start) {
	case bpfHdrStartMAC:
		base = s.mac
	case bpfHdrStartNet:
		base = s.network
	default:
		base = -1
	}
	if o > 0xffff || base < 0 {
		clear(b)
		return errno.EFAULT.Return(), nil
	}
	p := base + int(o)
	if p < s.mac || p+len(b) > s.tail {
		clear(b)
		return errno.EFAULT.Return(), nil
	}
	copy(b, s.buf[p:])
	return 0, nil
}

func skbStoreBytes(s *skbState, m *vm.Machine, ctx, off, from, n, flags uint64) (uint64, error) {
	b, err := m.Bytes(from, int(uint32(n)), false)
	if err != nil {
		return 0, err
	}
	return s.storeBytes(uint64(uint32(off)), b, flags), nil
}

// storeBytes is __bpf_skb_store_bytes: len(b) bytes at offset o become b.
func (s *skbState) storeBytes(o uint64, b []byte, flags uint64) uint64 {
	if flags&^(bpfFRecomputeCsum|bpfFInvalidateHash) != 0 {
		return errno.EINVAL.Return()
	}
	if o > intMax || !s.writable(int(o)+len(b)) {
		return errno.EFAULT.Return()
	}
	copy(s.buf[s.data+int(o):], b)
	if flags&bpfFInvalidateHash != 0 {
		s.hash, s.swHash, s.l4Hash = 0, false, false
	}
	return 0
}

// csumFold is csum_fold: a 32-bit one's complement sum folded to 16 bits and complemented.
func csumFold(x uint32) uint16 { return ^csumFold16(x) }

// csumReplace4 is csum_replace4 (and, on a CHECKSUM_NONE skb, inet_proto_csum_replace4): the
// checksum at sum updated for a 32-bit word changing from "from" to "to", all in memory order.
func csumReplace4(sum uint16, from, to uint32) uint16 {
	return csumFold(csumAdd(csumAdd(^uint32(sum), ^from), to))
}

// csumReplaceByDiff is csum_replace_by_diff: the checksum updated by a difference bpf_csum_diff
// computed.
func csumReplaceByDiff(sum uint16, diff uint32) uint16 {
	return csumFold(csumAdd(diff, ^uint32(sum)))
}

// csumReplace2 is csum_replace2: the checksum updated for a 16-bit word changing.
func csumReplace2(sum, from, to uint16) uint16 {
	add := func(a, b uint16) uint16 {
		r := a + b
		if r < b {
			r++
		}
		return r
	}
	return ^add(add(^sum, ^from), to)
}

// csumField finds the 16-bit checksum at off for bpf_l3/l4_csum_replace; ok false gives -EFAULT.
func (s *skbState) csumField(off uint64) ([]byte, bool) {
	o := uint64(uint32(off))
	if o > 0xffff || o&1 != 0 || !s.writable(int(o)+2) {
		return nil, false
	}
	return s.buf[s.data+int(o):], true
}

func skbL3CsumReplace(s *skbState, m *vm.Machine, ctx, off, from, to, flags uint64) (uint64, error) {
	if flags&^bpfFHdrFieldMask != 0 {
		return errno.EINVAL.Return(), nil
	}
	p, ok := s.csumField(off)
	if !ok {
		return errno.EFAULT.Return(), nil
	}
	sum := le.Uint16(p)
	switch flags & bpfFHdrFieldMask {
	case 0:
		if from != 0 {
			return errno.EINVAL.Return(), nil
		}
		sum = csumReplaceByDiff(sum, uint32(to))
	case 2:
		sum = csumReplace2(sum, uint16(from), uint16(to))
	case 4:
		sum = csumReplace4(sum, uint32(from), uint32(to))
	default:
		return errno.EINVAL.Return(), nil
	}
	le.PutUint16(p, sum)
	return 0, nil
}

func skbL4CsumReplace(s *skbState, m *vm.Machine, ctx, off, from, to, flags uint64) (uint64, error) {
	if flags&^(bpfFMarkMangled0|bpfFMarkEnforce|bpfFPseudoHdr|bpfFHdrFieldMask|bpfFIPv6) != 0 {
		return errno.EINVAL.Return(), nil
	}
	p, ok := s.csumField(off)
	if !ok {
		return errno.EFAULT.Return(), nil
	}
	sum := le.Uint16(p)
	mmzero := flags&bpfFMarkMangled0 != 0
	if mmzero && flags&bpfFMarkEnforce == 0 && sum == 0 {
		return 0, nil // a UDP datagram without a checksum keeps none
	}
	switch flags & bpfFHdrFieldMask {
	case 0:
		if from != 0 {
			return errno.EINVAL.Return(), nil
		}
		sum = csumReplaceByDiff(sum, uint32(to))
	case 2:
		sum = csumReplace4(sum, uint32(uint16(from)), uint32(uint16(to)))
	case 4:
		sum = csumReplace4(sum, uint32(from), uint32(to))
	default:
		return errno.EINVAL.Return(), nil
	}
	if mmzero && sum == 0 {
		sum = csumMangled0
	}
	le.PutUint16(p, sum)
	return 0, nil
}

// Levels of bpf_csum_level.
const (
	csumLevelQuery = 0
	csumLevelInc   = 1
	csumLevelDec   = 2
	csumLevelReset = 3
	skbMaxCsumLvl  = 3
)

func skbCsumLevel(s *skbState, m *vm.Machine, ctx, level, _, _, _ uint64) (uint64, error) {
	switch level {
	case csumLevelInc:
		switch {
		case s.csumUnnecessary && s.csumLevel < skbMaxCsumLvl:
			s.csumLevel++
		case !s.csumUnnecessary:
			s.csumUnnecessary, s.csumLevel = true, 0
		}
	case csumLevelDec:
		if s.csumUnnecessary {
			if s.csumLevel == 0 {
				s.csumUnnecessary = false
			} else {
				s.csumLevel--
			}
		}
	case csumLevelReset:
		s.csumUnnecessary, s.csumLevel = false, 0
	case csumLevelQuery:
		if s.csumUnnecessary {
			return uint64(s.csumLevel), nil
		}
		return errno.EACCES.Return(), nil
	default:
		return errno.EINVAL.Return(), nil
	}
	return 0, nil
}

func skbChangeHead(s *skbState, m *vm.Machine, ctx, room, flags, _, _ uint64) (uint64, error) {
	r := uint32(room)
	newLen := uint32(s.len()) + r
	if flags != 0 || (s.gsoSize == 0 && newLen > skbMaxLen) || newLen < uint32(s.len()) {
		return errno.EINVAL.Return(), nil
	}
	s.push(int(r))
	clear(s.buf[s.data : s.data+int(r)])
	s.mac = s.data
	s.macLen = s.network - s.mac
	s.window()
	return 0, nil
}

// minLen is __bpf_skb_min_len: how short bpf_skb_change_tail may make the packet.
func (s *skbState) minLen() int {
	if s.transport >= 0 {
		return s.transport - s.data
	}
	return s.network - s.data
}

func skbChangeTail(s *skbState, m *vm.Machine, ctx, newLen, flags, _, _ uint64) (uint64, error) {
	n := uint32(newLen)
	if flags != 0 || n > skbMaxLen || int(n) < s.minLen() {
		return errno.EINVAL.Return(), nil
	}
	if s.encapsulation {
		return errno.ENOTSUPP.Return(), nil
	}
	s.setTailLen(int(n))
	s.window()
	return 0, nil
}

// Flags and modes of bpf_skb_adjust_room.
const (
	adjRoomNet         = 0
	adjRoomMAC         = 1
	adjRoomFixedGSO    = 1 << 0
	adjRoomEncapL3IPv4 = 1 << 1
	adjRoomEncapL3IPv6 = 1 << 2
	adjRoomEncapL4GRE  = 1 << 3
	adjRoomEncapL4UDP  = 1 << 4
	adjRoomNoCsumReset = 1 << 5
	adjRoomEncapL2Eth  = 1 << 6
	adjRoomDecapL3IPv4 = 1 << 7
	adjRoomDecapL3IPv6 = 1 << 8
	adjRoomEncapL2Mask = 0xff << 56
	adjRoomEncapL3     = adjRoomEncapL3IPv4 | adjRoomEncapL3IPv6
	adjRoomDecapL3     = adjRoomDecapL3IPv4 | adjRoomDecapL3IPv6
	adjRoomMask        = adjRoomFixedGSO | adjRoomEncapL3 | adjRoomEncapL4GRE | adjRoomEncapL4UDP |
		adjRoomEncapL2Eth | adjRoomEncapL2Mask | adjRoomDecapL3
)

// netBaseLen is bpf_skb_net_base_len: the fixed network header of the skb's protocol.
func (s *skbState) netBaseLen() int {
	switch s.protocol {
	case ethPIP:
		return 20
	case ethPIPv6:
		return 40
	}
	return 0
}

func skbAdjustRoom(s *skbState, m *vm.Machine, ctx, lenDiff, mode, flags, _ uint64) (uint64, error) {
	diff := int32(lenDiff)
	abs := uint32(diff)
	shrink := diff < 0
	if shrink {
		abs = uint32(-diff)
	}
	lenMin := s.netBaseLen()
	if flags&^(adjRoomMask|adjRoomNoCsumReset) != 0 {
		return errno.EINVAL.Return(), nil
	}
	if abs > 0xfff {
		return errno.EFAULT.Return(), nil
	}
	if s.protocol != ethPIP && s.protocol != ethPIPv6 {
		return errno.ENOTSUPP.Return(), nil
	}
	off := s.macHeaderLen()
	switch uint32(mode) {
	case adjRoomNet:
		off += s.netBaseLen()
	case adjRoomMAC:
	default:
		return errno.ENOTSUPP.Return(), nil
	}
	if flags&adjRoomDecapL3 != 0 {
		if !shrink {
			return errno.EINVAL.Return(), nil
		}
		switch flags & adjRoomDecapL3 {
		case adjRoomDecapL3IPv4:
			lenMin = 20
		case adjRoomDecapL3IPv6:
			lenMin = 40
		default:
			return errno.EINVAL.Return(), nil
		}
	}
	cur := uint32(s.len() - (s.network - s.data))
	if (shrink && (abs >= cur || cur-abs < uint32(lenMin))) ||
		(!shrink && uint32(s.len())+abs > skbMaxLen && s.gsoSize == 0) {
		return errno.ENOTSUPP.Return(), nil
	}
	var ret uint64
	if shrink {
		ret = s.netShrink(off, int(abs), flags)
	} else {
		ret = s.netGrow(off, int(abs), flags)
	}
	if ret == 0 && flags&adjRoomNoCsumReset == 0 {
		s.csumUnnecessary, s.csumLevel = false, 0
	}
	s.window()
	return ret, nil
}

// netHdrPush is bpf_skb_net_hdr_push: n zero bytes inserted at off from the MAC header, which with
// the network header keeps its place relative to data.
func (s *skbState) netHdrPush(off, n int) {
	transSame := s.transport == s.network
	s.push(n)
	copy(s.buf[s.data:], s.buf[s.data+n:s.data+n+off])
	clear(s.buf[s.data+off : s.data+off+n])
	s.mac -= n
	s.network -= n
	if transSame {
		s.transport = s.network
	}
}

// netHdrPop is bpf_skb_net_hdr_pop: n bytes removed at off from the MAC header; false when the
// packet does not hold them (-ENOMEM).
func (s *skbState) netHdrPop(off, n int) bool {
	transSame := s.transport == s.network
	if !s.pullTail(off + n) {
		return false
	}
	copy(s.buf[s.data+n:], s.buf[s.data:s.data+off])
	s.pull(n)
	s.mac += n
	s.network += n
	if transSame {
		s.transport = s.network
	}
	return true
}

func (s *skbState) netGrow(off, n int, flags uint64) uint64 {
	encap := flags&adjRoomEncapL3 != 0
	innerMacLen := int(flags >> 56)
	if s.gsoSize != 0 && flags&adjRoomFixedGSO == 0 {
		return errno.ENOTSUPP.Return() // a UDP (non-TCP) GSO skb keeps its segments only with FIXED_GSO
	}
	var macLen, innerNet, innerTrans int
	if encap {
		if flags&adjRoomEncapL3IPv4 != 0 && flags&adjRoomEncapL3IPv6 != 0 {
			return errno.EINVAL.Return()
		}
		if flags&adjRoomEncapL4GRE != 0 && flags&adjRoomEncapL4UDP != 0 {
			return errno.EINVAL.Return()
		}
		if flags&adjRoomEncapL2Eth != 0 && innerMacLen != ETHHdrLen {
			return errno.EINVAL.Return()
		}
		if s.encapsulation {
			return errno.EALREADY.Return()
		}
		macLen = s.network - s.mac
		innerNet = s.network
		if innerMacLen > n {
			return errno.EINVAL.Return()
		}
		innerTrans = s.transport
	}
	s.netHdrPush(off, n)
	if encap {
		_, _ = innerNet, innerTrans
		s.encapsulation = true
		s.network = s.data + macLen
		if flags&adjRoomEncapL3IPv4 != 0 && s.protocol == ethPIPv6 {
			s.protocol = ethPIP
		}
		if flags&adjRoomEncapL3IPv6 != 0 && s.protocol == ethPIP {
			s.protocol = ethPIPv6
		}
		if flags&(adjRoomEncapL4GRE|adjRoomEncapL4UDP) != 0 {
			nh := 20
			if flags&adjRoomEncapL3IPv6 != 0 {
				nh = 40
			}
			s.transport = s.network + nh
		}
	}
	return 0
}

func (s *skbState) netShrink(off, n int, flags uint64) uint64 {
	if flags&^(adjRoomFixedGSO|adjRoomDecapL3|adjRoomNoCsumReset) != 0 {
		return errno.EINVAL.Return()
	}
	if s.gsoSize != 0 && flags&adjRoomFixedGSO == 0 {
		return errno.ENOTSUPP.Return()
	}
	if !s.netHdrPop(off, n) {
		return errno.ENOMEM.Return()
	}
	switch {
	case flags&adjRoomDecapL3IPv4 != 0:
		s.protocol = ethPIP
	case flags&adjRoomDecapL3IPv6 != 0:
		s.protocol = ethPIPv6
	}
	return 0
}

func skbChangeProto(s *skbState, m *vm.Machine, ctx, proto, flags, _, _ uint64) (uint64, error) {
	if flags != 0 {
		return errno.EINVAL.Return(), nil
	}
	defer s.window()
	to := bswap16(uint16(proto)) // the program passes it in network order
	const diff = 40 - 20
	switch {
	case s.protocol == ethPIP && to == ethPIPv6:
		s.netHdrPush(s.macHeaderLen(), diff)
		s.protocol = ethPIPv6
	case s.protocol == ethPIPv6 && to == ethPIP:
		if !s.netHdrPop(s.macHeaderLen(), diff) {
			return errno.ENOMEM.Return(), nil
		}
		s.protocol = ethPIP
	default:
		return errno.ENOTSUPP.Return(), nil
	}
	s.hash, s.swHash, s.l4Hash = 0, false, false
	return 0, nil
}

func skbVlanPush(s *skbState, m *vm.Machine, ctx, proto, tci, _, _ uint64) (uint64, error) {
	defer s.window()
	p := bswap16(uint16(proto))
	if !isVLANType(p) {
		p = ethP8021Q
	}
	if s.vlanPresent() {
		if s.data != s.mac {
			return errno.EINVAL.Return(), nil // skb_vlan_push wants data at the MAC header
		}
		s.insertVLANTag(s.vlanProto, s.vlanTCI)
		s.protocol = s.vlanProto
		s.macLen += vlanHLen
		s.network -= vlanHLen // skb_vlan_push moves the network header with the tag (measured on 6.18)
	}
	s.vlanProto, s.vlanTCI = p, uint16(tci)
	return 0, nil
}

// insertVLANTag is __vlan_insert_tag: a tag in the frame right after the MAC addresses.
func (s *skbState) insertVLANTag(proto, tci uint16) {
	s.push(vlanHLen)
	copy(s.buf[s.data:], s.buf[s.data+vlanHLen:s.data+vlanHLen+12])
	if s.mac >= 0 {
		s.mac -= vlanHLen
	}
	binary.BigEndian.PutUint16(s.buf[s.data+12:], proto)
	binary.BigEndian.PutUint16(s.buf[s.data+14:], tci)
}

// vlanPop is skb_vlan_pop: the hardware-accelerated tag is cleared, or the outer tag in the frame
// removed; then a tag in the frame, if one follows, becomes the accelerated tag.
func (s *skbState) vlanPop() uint64 {
	if s.vlanPresent() {
		s.vlanProto, s.vlanTCI = 0, 0
	} else {
		if !isVLANType(s.protocol) {
			return 0
		}
		if _, err := s.popFrameTag(); err != 0 {
			return err
		}
	}
	if !isVLANType(s.protocol) {
		return 0
	}
	proto := s.protocol
	tci, err := s.popFrameTag()
	if err != 0 {
		return err
	}
	s.vlanProto, s.vlanTCI = proto, tci
	return 0
}

// popFrameTag is __skb_vlan_pop: the tag after the MAC addresses taken out of the frame.
func (s *skbState) popFrameTag() (uint16, uint64) {
	if s.data != s.mac {
		return 0, errno.EINVAL.Return()
	}
	if !s.pullTail(ETHHdrLen + vlanHLen) {
		return 0, errno.ENOMEM.Return()
	}
	tci := s.be16(s.data + ETHHdrLen)
	copy(s.buf[s.data+vlanHLen:], s.buf[s.data:s.data+12])
	s.pull(vlanHLen)
	s.protocol = s.encapProto(s.data + ETHHdrLen - 2)
	s.mac += vlanHLen
	if s.network-s.data < ETHHdrLen {
		s.network = s.data + ETHHdrLen
	}
	s.macLen = s.network - s.mac
	return tci, 0
}

func skbRedirectNeigh(s *skbState, m *vm.Machine, ifindex, params, plen, flags, _ uint64) (uint64, error) {
	const nhSize = 20 // struct bpf_redir_neigh
	n := uint32(plen)
	if (n != 0 && n < nhSize) || flags != 0 {
		return TCActShot, nil
	}
	r := TCRedirect{Ifindex: uint32(ifindex), Neigh: true}
	if n != 0 {
		b, err := m.Bytes(params, nhSize, false)
		if err != nil {
			return 0, err
		}
		switch le.Uint32(b) {
		case 2: // AF_INET
			r.Nexthop = netip.AddrFrom4([4]byte(b[4:8])).String()
		case 10: // AF_INET6
			r.Nexthop = netip.AddrFrom16([16]byte(b[4:20])).String()
		}
	}
	s.redirect, s.redirSet = r, true
	return TCActRedirect, nil
}

func skbCloneRedirect(s *skbState, m *vm.Machine, ctx, ifindex, flags, _, _ uint64) (uint64, error) {
	if flags&^bpfFIngress != 0 {
		return errno.EINVAL.Return(), nil
	}
	dev, ok := s.r.host.byIndex[uint32(ifindex)]
	if !ok {
		return errno.EINVAL.Return(), nil
	}
	if s.mac < 0 || s.mac >= s.network || s.len() == 0 {
		return errno.ERANGE.Return(), nil // no link-layer header to send
	}
	ingress := flags&bpfFIngress != 0
	if dev.down {
		// A device that is down drops the clone: its receive path with NET_RX_DROP, its noop
		// queue with NET_XMIT_CN.
		if ingress {
			return 1, nil
		}
		return 2, nil
	}
	var scratch []byte
	s.clones = append(s.clones, TCClone{Ifindex: uint32(ifindex), Ingress: ingress, Data: result.Hex(s.bytes(&scratch))})
	return 0, nil
}

func skbFibLookup(s *skbState, m *vm.Machine, ctx, params, plen, flags, _ uint64) (uint64, error) {
	if plen < 64 {
		return errno.EINVAL.Return(), nil
	}
	if flags&^0x1f != 0 {
		return errno.EINVAL.Return(), nil
	}
	b, err := m.Bytes(params, 64, true)
	if err != nil {
		return 0, err
	}
	h := s.r.host
	checkMTU := le.Uint16(b[6:]) != 0
	rc := h.fibLookup(b, flags, checkMTU)
	if rc == 0 && !checkMTU {
		// Without tot_len, the skb is checked against the egress device (is_skb_forwardable).
		dev := h.byIndex[le.Uint32(b[8:])]
		if s.len() > int(dev.MTU)+ETHHdrLen+vlanHLen && s.gsoSize == 0 {
			rc = 8 // BPF_FIB_LKUP_RET_FRAG_NEEDED
		}
		le.PutUint16(b[6:], uint16(dev.MTU))
	}
	return rc, nil
}

func skbCheckMTU(s *skbState, m *vm.Machine, ctx, ifindex, mtuLen, lenDiff, flags uint64) (uint64, error) {
	const chkSegs = 1 // BPF_MTU_CHK_SEGS
	b, err := m.Bytes(mtuLen, 4, true)
	if err != nil {
		return 0, err
	}
	in := le.Uint32(b)
	mtu := uint32(0)
	ret := func(r uint64) (uint64, error) {
		le.PutUint32(b, mtu)
		return r, nil
	}
	if flags&^chkSegs != 0 || flags&chkSegs != 0 && (int32(lenDiff) != 0 || in != 0) {
		return ret(errno.EINVAL.Return())
	}
	ifx := uint32(ifindex)
	if ifx == 0 {
		ifx = s.ifindex
	}
	dev, ok := s.r.host.byIndex[ifx]
	if !ok {
		return ret(errno.ENODEV.Return())
	}
	mtu = dev.MTU
	const hardHeaderLen = 14 // Ethernet, and loopback's too
	skbLen := int64(s.len())
	if in != 0 {
		skbLen = int64(in) + hardHeaderLen
	}
	skbLen += int64(int32(lenDiff))
	if skbLen <= int64(mtu)+hardHeaderLen || s.gsoSize != 0 {
		return ret(0) // BPF_MTU_CHK_RET_SUCCESS
	}
	return ret(1) // BPF_MTU_CHK_RET_FRAG_NEEDED
}

// ecnSetCE is bpf_skb_ecn_set_ce: the IP header's ECN field set to Congestion Experienced when
// the packet is ECN-capable; 1 when the field says CE afterwards, else 0.
func (s *skbState) ecnSetCE() uint64 {
	proto := s.protocol
	if isVLANType(proto) {
		proto = s.innerProtocol()
	}
	nh := s.network
	switch proto {
	case ethPIP:
		if s.headlen() < 20 || nh+20 > s.tail {
			return 0
		}
		tos := s.buf[nh+1]
		ecn := (tos + 1) & 3 // INET_ECN_set_ce's trick: 00 -> 1, 01 -> 2, 10 -> 3, 11 -> 0
		if ecn&2 == 0 {
			if ecn == 0 {
				return 1
			}
			return 0
		}
		// The header checksum adjusted as IP_ECN_set_ce does: csum16_add of
		// htons(0xFFFB) + htons(ecn), in memory order.
		add := bswap16(0xfffb) + bswap16(uint16(ecn))
		sum := le.Uint16(s.buf[nh+10:]) + add
		if sum < add {
			sum++
		}
		le.PutUint16(s.buf[nh+10:], sum)
		s.buf[nh+1] = tos | 3
		return 1
	case ethPIPv6:
		if s.headlen() < 40 || nh+40 > s.tail {
			return 0
		}
		w := binary.BigEndian.Uint32(s.buf[nh:])
		if (w>>20)&3 == 0 {
			return 0 // not ECN-capable
		}
		binary.BigEndian.PutUint32(s.buf[nh:], w|3<<20)
		return 1
	}
	return 0
}

// innerProtocol is vlan_get_protocol for a VLAN-tagged frame: the protocol behind the tags in the
// frame (0 when the frame ends inside them).
func (s *skbState) innerProtocol() uint16 {
	depth := ETHHdrLen
	if s.macLen != 0 {
		depth = s.macLen - vlanHLen
	}
	typ := s.protocol
	for n := 8; isVLANType(typ); n-- { // VLAN_MAX_DEPTH
		if n == 1 || s.data+depth+4 > s.tail {
			return 0
		}
		typ = s.be16(s.data + depth + 2)
		depth += vlanHLen
	}
	return typ
}
