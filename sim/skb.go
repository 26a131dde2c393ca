package sim

import (
	"encoding/binary"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// The sk_buff a tc program runs on, as the kernel builds it and as its helpers change it.
//
// The linear part of the packet lives in buf, the skb's head: headroom, then the linear data
// [data, tail), then tailroom. Offsets into buf stand for the kernel's pointers; the MAC, network
// and transport headers are offsets too (-1 when unset). The rest of the packet, the page
// fragments an XDP multi-buffer frame brings, is paged. The program reaches the linear data
// directly through the packet region, whose window is data_meta..data_end (bpf_compute_data_pointers:
// data_meta = data - skb_metadata_len, data_end = data + skb_headlen).

// Sizes of the skb model (x86_64, Linux 6.18).
const (
	// skbPad is NET_SKB_PAD (64) + NET_IP_ALIGN (0): the headroom BPF_PROG_TEST_RUN reserves.
	skbPad = 64
	// SkbMaxLinear is the longest packet BPF_PROG_TEST_RUN takes for a tc program: a page less
	// the headroom and the 320 bytes of skb_shared_info; longer ones are refused with EINVAL
	// (measured on 6.18).
	SkbMaxLinear = FrameSize - skbPad - Tailroom
	// skbMaxLen is BPF_SKB_MAX_LEN (SKB_MAX_ALLOC): the longest packet the size-changing helpers
	// make.
	skbMaxLen = 4*FrameSize - Tailroom
	// skbBufSize is the initial head: room for the longest packet the helpers make, and as
	// much headroom again.
	skbBufSize = 2*skbMaxLen + FrameSize
)

// Packet types (skb->pkt_type).
const (
	packetHost      = 0
	packetBroadcast = 1
	packetMulticast = 2
	packetOtherhost = 3
)

// EtherTypes the skb code looks at, as numbers.
const (
	ethPIP     = 0x0800
	ethPIPv6   = 0x86dd
	ethP8021Q  = 0x8100
	ethP8021AD = 0x88a8
	ethP8023   = 0x0001
	ethP8022   = 0x0004
	vlanHLen   = 4
)

// skbState is the kernel's view of the packet while a tc program runs: the sk_buff, shared by the
// programs of a tc chain.
type skbState struct {
	r *runState // the run state of the program that runs now
	// pkt and ctx are the regions of the packet and of the __sk_buff on r's machine.
	pkt, ctx int

	buf        []byte
	data, tail int
	// end is skb->end: the linear part may grow up to it, skb_shared_info lies behind it.
	end int
	// expanded counts the heads pskb_expand_head made for this packet, moved the bytes they
	// moved everything up by (in all).
	expanded, moved int
	paged           []byte // the packet's bytes past the linear part (page fragments)
	pagedStore      []byte
	mac, network    int // offsets into buf; -1 unset
	transport       int
	macLen          int
	metaLen         int // skb_metadata_len: the metadata lies just before the MAC header

	protocol        uint16 // skb->protocol as a number (it is big-endian in the skb)
	pktType         uint8
	mark, priority  uint32
	queueMapping    uint16
	vlanProto       uint16 // as a number; the hardware-accelerated tag is present when vlanProto|vlanTCI != 0
	vlanTCI         uint16
	skbIif          uint32 // skb->skb_iif: ingress_ifindex
	ifindex         uint32 // skb->dev
	tcIndex         uint16
	tcClassid       uint16 // qdisc_skb_cb(skb)->tc_classid
	cb              [verifier.SkbCBSize]byte
	hash            uint32
	l4Hash, swHash  bool
	napiID          uint32
	tstamp          uint64
	tstampType      uint8
	atIngress       bool   // skb->tc_at_ingress
	pktLen          uint32 // qdisc_skb_cb(skb)->pkt_len: wire_len
	gsoSegs         uint16
	gsoSize         uint16
	hwtstamp        uint64
	encapsulation   bool
	csumLevel       uint8
	csumUnnecessary bool // ip_summed is CHECKSUM_UNNECESSARY (else CHECKSUM_NONE)

	// tstampTypeAccess: the running program reads tstamp_type, so tstamp is a plain field to it.
	tstampTypeAccess bool
	// redirect is what bpf_redirect and friends chose for the verdict TC_ACT_REDIRECT.
	redirect TCRedirect
	redirSet bool
	clones   []TCClone
	// obs watches the skb (TC.SetSkbObserver); it stays from packet to packet.
	obs SkbObserver
}

func newSkbState() *skbState {
	return &skbState{buf: make([]byte, skbBufSize), mac: -1, network: -1, transport: -1}
}

// reset empties the skb for a new packet: every field zero, as a new sk_buff is.
func (s *skbState) reset() {
	buf, store, clones, obs := s.buf, s.pagedStore, s.clones[:0], s.obs
	*s = skbState{buf: buf, pagedStore: store, clones: clones, obs: obs, mac: -1, network: -1, transport: -1}
}

// headlen is skb_headlen: the bytes of the linear part.
func (s *skbState) headlen() int { return s.tail - s.data }

// len is skb->len.
func (s *skbState) len() int { return s.headlen() + len(s.paged) }

// read copies len(buf) bytes of the packet from off (linear part, then fragments), which the
// caller made sure exist: skb_copy_bits.
func (s *skbState) read(off int, buf []byte) {
	n := copy(buf, s.buf[s.data+min(off, s.headlen()):s.tail])
	if n < len(buf) {
		copy(buf[n:], s.paged[max(off-s.headlen(), 0):])
	}
}

// bytes is the whole packet from data, for the outcome; scratch holds a copy when the skb has
// fragments.
func (s *skbState) bytes(scratch *[]byte) []byte {
	if len(s.paged) == 0 {
		return s.buf[s.data:s.tail:s.tail]
	}
	*scratch = append(append((*scratch)[:0], s.buf[s.data:s.tail]...), s.paged...)
	return *scratch
}

// window moves the packet region's accessible window to data_meta..data_end after the skb
// changed, as bpf_compute_data_pointers does.
func (s *skbState) window() {
	if s.r == nil {
		return
	}
	s.r.m.SetWindow(s.pkt, uint32(s.data-s.metaLen), uint32(s.tail))
}

// The kernel's allocation sizes the skb's head follows (x86_64, Linux 6.18, measured through
// bpf_cast_to_kern_ctx in kernel/skb_layout_test.go): the head of BPF_PROG_TEST_RUN's skb and a
// head pskb_expand_head reallocates come from kmalloc, whose sizes from 512 bytes on are powers of
// two, less the cache-aligned struct skb_shared_info at skb->end; pskb_expand_head takes heads of
// up to skbSmallHead bytes from the skbuff_small_head cache.
const (
	// skbDataAlign is SMP_CACHE_BYTES: SKB_DATA_ALIGN rounds up to it.
	skbDataAlign = 64
	// skbSmallHead is SKB_SMALL_HEAD_CACHE_SIZE on 6.18's x86_64 configuration (measured: a head
	// of 192 bytes grown by 64 ends at 256, a whole 576-byte object).
	skbSmallHead = 576
	// skbPullSlack is what __pskb_pull_tail asks for past what it pulls when the head must grow.
	skbPullSlack = 128
)

// kmallocSize is the size of the object kmalloc gives for n bytes (n >= 512): the next power of
// two (the kmalloc caches up to 8 KiB, whole pages past them).
func kmallocSize(n int) int {
	size := 512
	for size < n {
		size *= 2
	}
	return size
}

// alignUp rounds n up to a multiple of a (a power of two).
func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// testRunEnd is skb->end of the skb BPF_PROG_TEST_RUN builds for an n-byte packet: the head is
// kzalloc'd for the headroom, the packet and skb_shared_info, and slab_build_skb uses all of the
// object kmalloc gave.
func testRunEnd(n int) int {
	return kmallocSize(alignUp(n, skbDataAlign)+skbPad+Tailroom) - Tailroom
}

// expandHead is pskb_expand_head(skb, nhead, ntail): a new head with nhead more bytes in front and
// ntail more behind, sized as kmalloc_reserve sizes it; everything from the old head to the tail
// moves up by nhead, and the header offsets with it. The simulator's buffer keeps the head at
// offset 0, so that packet pointers are offsets from skb->head as in the kernel; it grows (and
// allocates) only when the new head does not fit in it. Packet pointers the program held are then
// stale, as in the kernel; the helpers that call this invalidate them.
func (s *skbState) expandHead(nhead, ntail int) {
	s.end = max(s.end, s.tail)
	obj := alignUp(s.end+nhead+ntail, skbDataAlign) + Tailroom
	if obj <= skbSmallHead {
		obj = skbSmallHead
	} else {
		obj = kmallocSize(obj)
	}
	if obj > len(s.buf) {
		nb := make([]byte, max(len(s.buf)*2, obj))
		copy(nb, s.buf[:s.tail])
		s.buf = nb
		if s.r != nil {
			s.r.m.Region(s.pkt).Data = s.buf
		}
	}
	if nhead > 0 {
		copy(s.buf[nhead:], s.buf[:s.tail])
		clear(s.buf[:nhead])
		s.data += nhead
		s.tail += nhead
		if s.mac >= 0 {
			s.mac += nhead
		}
		if s.network >= 0 {
			s.network += nhead
		}
		if s.transport >= 0 {
			s.transport += nhead
		}
	}
	s.end = obj - Tailroom
	s.expanded++
	s.moved += nhead
}

// cow is skb_cow and skb_cow_head: a head with room for n bytes in front of data (the metadata
// lies there too), expanded by whole NET_SKB_PADs when it has less.
func (s *skbState) cow(n int) {
	if n > s.data {
		s.expandHead(alignUp(n-s.data, skbPad), 0)
	}
}

// growTail makes room for n more bytes behind the tail as __skb_grow does: the head expands by
// what the tailroom lacks.
func (s *skbState) growTail(n int) {
	if room := s.end - s.tail; n > room {
		s.expandHead(0, n-max(room, 0))
	}
}

// push is skb_push: n more bytes of headroom become packet data.
func (s *skbState) push(n int) {
	s.cow(n)
	s.data -= n
}

// pull is __skb_pull on the linear part.
func (s *skbState) pull(n int) { s.data += n }

// pullTail is pskb_may_pull: it makes the first n bytes of the packet linear, moving bytes from
// the fragments; false when the packet is shorter than n.
func (s *skbState) pullTail(n int) bool {
	if n <= s.headlen() {
		return true
	}
	if n > s.len() {
		return false
	}
	k := n - s.headlen()
	if eat := s.tail + k - s.end; eat > 0 {
		s.expandHead(0, eat+skbPullSlack) // __pskb_pull_tail
	}
	copy(s.buf[s.tail:], s.paged[:k])
	s.tail += k
	s.paged = s.paged[k:]
	return true
}

// linearize makes the whole packet linear (skb_linearize).
func (s *skbState) linearize() { s.pullTail(s.len()) }

// setTailLen changes the packet's length to n, zeroing what it grows by (__skb_grow_rcsum,
// __skb_trim_rcsum after skb_linearize).
func (s *skbState) setTailLen(n int) {
	s.linearize()
	if n > s.headlen() {
		s.growTail(n - s.headlen())
		clear(s.buf[s.tail : s.data+n])
	}
	s.tail = s.data + n
}

// macHeaderLen is skb_mac_header_len: from the MAC header to the network header.
func (s *skbState) macHeaderLen() int { return s.network - s.mac }

// vlanPresent is skb_vlan_tag_present.
func (s *skbState) vlanPresent() bool { return s.vlanProto != 0 || s.vlanTCI != 0 }

// be16 reads the big-endian 16-bit word at buf offset off (the headroom included), or 0 past the
// linear data.
func (s *skbState) be16(off int) uint16 {
	if off < 0 || off+2 > s.tail {
		return 0
	}
	return binary.BigEndian.Uint16(s.buf[off:])
}

// ethTypeTrans is eth_type_trans on the linear data from data: the MAC header is set, the
// Ethernet header pulled, pkt_type decided against the device's address and broadcast address,
// and the protocol returned.
func (s *skbState) ethTypeTrans(devAddr, devBroadcast []byte) uint16 {
	s.mac = s.data
	eth := s.buf[s.data : s.data+ETHHdrLen]
	s.pull(ETHHdrLen)
	switch {
	case string(eth[:6]) == string(devAddr):
	case eth[0]&1 != 0 && string(eth[:6]) == string(devBroadcast):
		s.pktType = packetBroadcast
	case eth[0]&1 != 0:
		s.pktType = packetMulticast
	default:
		s.pktType = packetOtherhost
	}
	return uint16(skbProtocol802(eth[12:14], s.buf[s.data:s.tail]))
}

// skbProtocol802 is what eth_type_trans makes of an EtherType field and what follows the header:
// the EtherType when it is one (>= 0x600), else 802.3 framing.
func skbProtocol802(typ, rest []byte) EtherType {
	t := EtherType(typ[0])<<8 | EtherType(typ[1])
	switch {
	case t >= 0x600:
		return t
	case len(rest) >= 2 && rest[0] == 0xff && rest[1] == 0xff:
		return ethP8023
	}
	return ethP8022
}

// encapProto is vlan_set_encap_proto: the protocol behind a VLAN header whose encapsulated
// protocol is at off.
func (s *skbState) encapProto(off int) uint16 {
	p := s.be16(off)
	if p >= 0x600 {
		return p
	}
	if s.be16(off+2) == 0xffff {
		return ethP8023
	}
	return ethP8022
}

func isVLANType(p uint16) bool { return p == ethP8021Q || p == ethP8021AD }

// The __sk_buff context: loads and stores of the program, as the kernel's rewritten accesses
// behave (verifier.SkbNarrow gives what narrow loads yield).

// skbAccessOK caches verifier.SkbTCAccess for every offset and size (1, 2, 4, 8), for loads and
// for stores: the hooks check every access the program makes.
var skbAccessOK = func() (ok [2][verifier.SkbSize][4]bool) {
	for w := range 2 {
		for off := range verifier.SkbSize {
			for i, size := range []int{1, 2, 4, 8} {
				_, ok[w][off][i] = verifier.SkbTCAccess(off, size, w == 1, false)
			}
		}
	}
	return ok
}()

// skbAccessAllowed looks the access up in skbAccessOK.
func skbAccessAllowed(off, size uint32, write bool) bool {
	if off >= verifier.SkbSize {
		return false
	}
	w := 0
	if write {
		w = 1
	}
	switch size {
	case 1:
		return skbAccessOK[w][off][0]
	case 2:
		return skbAccessOK[w][off][1]
	case 4:
		return skbAccessOK[w][off][2]
	case 8:
		return skbAccessOK[w][off][3]
	}
	return false
}

func (s *skbState) loadCtx(m *vm.Machine, off, size uint32) (uint64, bool) {
	if !skbAccessAllowed(off, size, false) {
		return 0, false
	}
	if int(off) >= verifier.SkbCB && int(off) < verifier.SkbCB+verifier.SkbCBSize {
		b := s.cb[int(off)-verifier.SkbCB:]
		switch size {
		case 1:
			return uint64(b[0]), true
		case 2:
			return uint64(le.Uint16(b)), true
		case 4:
			return uint64(le.Uint32(b)), true
		}
		return le.Uint64(b), true
	}
	base, shift, mask := verifier.SkbNarrow(int(off), int(size))
	return (s.field(base) >> shift) & mask, true
}

// field is the value of the __sk_buff field at off as the kernel's rewrite loads it.
func (s *skbState) field(off int) uint64 {
	switch off {
	case verifier.SkbLen:
		return uint64(s.len())
	case verifier.SkbPktType:
		return uint64(s.pktType)
	case verifier.SkbMark:
		return uint64(s.mark)
	case verifier.SkbQueueMapping:
		return uint64(s.queueMapping)
	case verifier.SkbProtocol:
		return uint64(bswap16(s.protocol))
	case verifier.SkbVlanPresent:
		if s.vlanPresent() {
			return 1
		}
		return 0
	case verifier.SkbVlanTCI:
		return uint64(s.vlanTCI)
	case verifier.SkbVlanProto:
		return uint64(bswap16(s.vlanProto))
	case verifier.SkbPriority:
		return uint64(s.priority)
	case verifier.SkbIngressIfindex:
		return uint64(s.skbIif)
	case verifier.SkbIfindex:
		return uint64(s.ifindex)
	case verifier.SkbTCIndex:
		return uint64(s.tcIndex)
	case verifier.SkbHash:
		return uint64(s.hash)
	case verifier.SkbTCClassid:
		return uint64(s.tcClassid)
	case verifier.SkbData:
		return vm.Address(s.pkt, uint32(s.data))
	case verifier.SkbDataEnd:
		return vm.Address(s.pkt, uint32(s.tail))
	case verifier.SkbDataMeta:
		return vm.Address(s.pkt, uint32(s.data-s.metaLen))
	case verifier.SkbNapiID:
		if s.napiID < 257 { // MIN_NAPI_ID
			return 0
		}
		return uint64(s.napiID)
	case verifier.SkbTstamp:
		if !s.tstampTypeAccess && s.atIngress && s.tstampType != 0 {
			return 0 // a delivery time reads as 0 at ingress
		}
		return s.tstamp
	case verifier.SkbWireLen:
		return uint64(s.pktLen)
	case verifier.SkbGSOSegs:
		return uint64(s.gsoSegs)
	case verifier.SkbGSOSize:
		return uint64(s.gsoSize)
	case verifier.SkbTstampType:
		return uint64(s.tstampType)
	case verifier.SkbHwtstamp:
		return s.hwtstamp
	}
	// skb->sk: tc ingress runs before any socket is looked up.
	return 0
}

func (s *skbState) storeCtx(m *vm.Machine, off, size uint32, v uint64) bool {
	if !skbAccessAllowed(off, size, true) {
		return false
	}
	o := int(off)
	switch {
	case o >= verifier.SkbCB && o < verifier.SkbCB+verifier.SkbCBSize:
		b := s.cb[o-verifier.SkbCB:]
		switch size {
		case 1:
			b[0] = byte(v)
		case 2:
			le.PutUint16(b, uint16(v))
		case 4:
			le.PutUint32(b, uint32(v))
		default:
			le.PutUint64(b, v)
		}
	case o == verifier.SkbMark:
		s.mark = uint32(v)
	case o == verifier.SkbPriority:
		s.priority = uint32(v)
	case o == verifier.SkbTCIndex:
		s.tcIndex = uint16(v)
	case o == verifier.SkbTCClassid:
		s.tcClassid = uint16(v)
	case o == verifier.SkbQueueMapping:
		if v < 0xffff { // NO_QUEUE_MAPPING and above are ignored
			s.queueMapping = uint16(v)
		}
	case o == verifier.SkbTstamp:
		if !s.tstampTypeAccess && s.atIngress {
			s.tstampType = 0 // at ingress, a written tstamp is a receive time
		}
		s.tstamp = v
	default:
		return false
	}
	return true
}

func bswap16(v uint16) uint16 { return v>>8 | v<<8 }
