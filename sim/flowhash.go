package sim

import "encoding/binary"

// flowHash is the hash bpf_get_hash_recalc computes for an skb without one (__skb_get_hash): it
// dissects the packet as the kernel's flow dissector does for skb_get_hash (VLAN tags, IPv4 or
// IPv6 addresses, the IPv6 flow label, which stops the dissection, the L4 protocol, and the ports
// of TCP, UDP, UDP-Lite, SCTP and DCCP unless the packet is a fragment), orders the two ends so
// that both directions of a flow hash alike (__flow_hash_consistentify), and hashes the result.
// The kernel keys its hash with a random number chosen at boot, so its values differ from boot to
// boot and from the simulator's; the simulator's key is fixed, so runs are reproducible. l4 says
// the hash covers ports or a flow label (skb->l4_hash).
func (s *skbState) flowHash() (hash uint32, l4 bool) {
	var k [44]byte // n_proto(2) ip_proto(1) vlan(2) label(4) ports(4) addrs(32)
	proto := s.protocol
	off := s.network
	if off < 0 {
		off = s.data + ETHHdrLen
	}
	if s.vlanPresent() {
		binary.BigEndian.PutUint16(k[3:], s.vlanTCI&0xfff)
	}
	for depth := 0; isVLANType(proto) && depth < 2; depth++ {
		if off+vlanHLen > s.tail {
			return s.finishHash(k[:]), false
		}
		binary.BigEndian.PutUint16(k[3:], s.be16(off)&0xfff)
		proto = s.be16(off + 2)
		off += vlanHLen
	}
	binary.BigEndian.PutUint16(k[0:], proto)
	var ipProto byte
	var src, dst []byte
	ports := true
	switch proto {
	case ethPIP:
		if off+20 > s.tail {
			return s.finishHash(k[:]), false
		}
		h := s.buf[off:]
		ihl := int(h[0]&0xf) * 4
		ipProto, src, dst = h[9], h[12:16], h[16:20]
		if binary.BigEndian.Uint16(h[6:])&0x3fff != 0 {
			ports = false // a fragment: the dissector leaves the ports alone
		}
		off += max(ihl, 20)
	case ethPIPv6:
		if off+40 > s.tail {
			return s.finishHash(k[:]), false
		}
		h := s.buf[off:]
		ipProto, src, dst = h[6], h[8:24], h[24:40]
		if label := binary.BigEndian.Uint32(h) & 0xfffff; label != 0 {
			binary.BigEndian.PutUint32(k[5:], label)
			ports = false // FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL
			l4 = true
		}
		off += 40
	default:
		return s.finishHash(k[:]), false
	}
	k[2] = ipProto
	var sp, dp []byte
	switch ipProto {
	case 6, 17, 132, 33, 136: // TCP, UDP, SCTP, DCCP, UDP-Lite
		if ports && off+4 <= s.tail {
			sp, dp = s.buf[off:off+2], s.buf[off+2:off+4]
			l4 = binary.BigEndian.Uint32(s.buf[off:]) != 0
		}
	}
	// Order the ends: the lower address (then port) first.
	swap := string(dst) < string(src) || string(dst) == string(src) && sp != nil && string(dp) < string(sp)
	if swap {
		src, dst, sp, dp = dst, src, dp, sp
	}
	if sp != nil {
		copy(k[9:], sp)
		copy(k[11:], dp)
	}
	copy(k[13:], src)
	copy(k[13+len(src):], dst)
	return s.finishHash(k[:]), l4
}

// finishHash is the FNV-1a hash of the flow key with the simulator's fixed key mixed in; never 0,
// as the kernel's is never 0.
func (s *skbState) finishHash(k []byte) uint32 {
	h := uint32(2166136261) ^ 0x5eed7c5
	for _, b := range k {
		h ^= uint32(b)
		h *= 16777619
	}
	if h == 0 {
		h = 1
	}
	return h
}
