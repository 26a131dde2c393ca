package picture

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim"
)

// skbCall writes an skb helper's call with its arguments as the program passed them.
func skbCall(mv sim.SkbMove) string {
	a := mv.Args
	var args string
	switch asm.BuiltinFunc(mv.ID) {
	case asm.FnSkbChangeHead, asm.FnSkbChangeTail:
		args = fmt.Sprintf("%d, %#x", uint32(a[1]), a[2])
	case asm.FnSkbAdjustRoom:
		mode := fmt.Sprint(uint32(a[2]))
		switch uint32(a[2]) {
		case 0:
			mode = "BPF_ADJ_ROOM_NET"
		case 1:
			mode = "BPF_ADJ_ROOM_MAC"
		}
		args = fmt.Sprintf("%d, %s, %#x", int32(a[1]), mode, a[3])
	case asm.FnSkbPullData:
		args = fmt.Sprint(uint32(a[1]))
	case asm.FnSkbVlanPush:
		args = fmt.Sprintf("htons(%#04x), %d", bswap16(uint16(a[1])), uint16(a[2]))
	case asm.FnSkbVlanPop:
		return fmt.Sprintf("%s(skb) = %s", mv.Helper, retName(mv.Ret))
	case asm.FnSkbChangeProto:
		args = fmt.Sprintf("htons(%#04x), %#x", bswap16(uint16(a[1])), a[2])
	default:
		args = "..."
	}
	return fmt.Sprintf("%s(skb, %s) = %s", mv.Helper, args, retName(mv.Ret))
}

func bswap16(v uint16) uint16 { return v>>8 | v<<8 }

// describeSkbMove says what an skb helper call did: the call, a new head if the kernel made one,
// and every pointer, header, length and field it changed.
func describeSkbMove(mv sim.SkbMove, prev, cur Snapshot) string {
	p, c := prev.Skb, cur.Skb
	if p == nil || c == nil {
		return skbCall(mv) + ": nothing moved"
	}
	var moved []string
	if c.Expanded != p.Expanded {
		moved = append(moved, fmt.Sprintf("the kernel gave the skb a new head (pskb_expand_head): end %d -> %d, the contents %d bytes further up", p.End, c.End, c.Moved-p.Moved))
	} else if c.End != p.End {
		moved = append(moved, fmt.Sprintf("end %d -> %d", p.End, c.End))
	}
	num := func(name string, a, b int) {
		if a != b {
			moved = append(moved, fmt.Sprintf("%s %d -> %d", name, a, b))
		}
	}
	hdr := func(name string, a, b int) {
		switch {
		case a == b:
		case a < 0:
			moved = append(moved, fmt.Sprintf("%s set at %d", name, b))
		case b < 0:
			moved = append(moved, name+" unset")
		default:
			num(name, a, b)
		}
	}
	if prev.Data-prev.DataMeta != cur.Data-cur.DataMeta {
		num("data_meta", int(prev.DataMeta), int(cur.DataMeta))
	}
	hdr("mac_header", p.Mac, c.Mac)
	num("data", int(prev.Data), int(cur.Data))
	hdr("network_header", p.Network, c.Network)
	hdr("transport_header", p.Transport, c.Transport)
	num("data_end", int(prev.DataEnd), int(cur.DataEnd))
	if a, b := fragLen(prev), fragLen(cur); a != b {
		moved = append(moved, fmt.Sprintf("paged %d -> %d bytes", a, b))
	}
	num("len", p.Fields.Len, c.Fields.Len)
	if p.Fields.Protocol != c.Fields.Protocol {
		moved = append(moved, fmt.Sprintf("protocol %s -> %s", etherTypeName(uint16(p.Fields.Protocol)), etherTypeName(uint16(c.Fields.Protocol))))
	}
	if p.Fields.VlanProto != c.Fields.VlanProto || p.Fields.VlanTCI != c.Fields.VlanTCI {
		moved = append(moved, fmt.Sprintf("the tag beside the packet %s -> %s", vlanTag(p.Fields), vlanTag(c.Fields)))
	}
	return joinMoves(skbCall(mv), moved)
}

// vlanTag writes the hardware-accelerated VLAN tag an skb carries beside its packet.
func vlanTag(f sim.SkbFields) string {
	if f.VlanProto == 0 && f.VlanTCI == 0 {
		return "none"
	}
	return fmt.Sprintf("%s vlan %d, p %d", etherTypeName(uint16(f.VlanProto)), f.VlanTCI&0xfff, f.VlanTCI>>13)
}

// etherTypeName writes an EtherType as a number with its name when it has one.
func etherTypeName(t uint16) string {
	names := map[uint16]string{0x0800: "IPv4", 0x86dd: "IPv6", 0x0806: "ARP", 0x8100: "802.1Q", 0x88a8: "802.1ad",
		0x0001: "802.3", 0x0004: "802.2"}
	if n, ok := names[t]; ok {
		return fmt.Sprintf("%#04x (%s)", t, n)
	}
	return fmt.Sprintf("%#04x", t)
}

// pktTypes names skb->pkt_type's values.
var pktTypes = []string{"PACKET_HOST", "PACKET_BROADCAST", "PACKET_MULTICAST", "PACKET_OTHERHOST"}

// FieldsLine says in a line what the skb carries beside its bytes, as a tc program reads it from
// struct __sk_buff: len, protocol, pkt_type, the tag beside the packet, mark, priority,
// queue_mapping, hash, tc_index and tc_classid (those that are not 0).
func (s Snapshot) FieldsLine() string {
	if s.Skb == nil {
		return ""
	}
	f := s.Skb.Fields
	pt := fmt.Sprint(f.PktType)
	if int(f.PktType) < len(pktTypes) {
		pt += " (" + pktTypes[f.PktType] + ")"
	}
	parts := []string{fmt.Sprintf("len %d", f.Len), "protocol " + etherTypeName(uint16(f.Protocol)), "pkt_type " + pt}
	if f.VlanProto != 0 || f.VlanTCI != 0 {
		parts = append(parts, "tag beside the packet "+vlanTag(f))
	}
	for _, v := range []struct {
		name, format string
		v            uint64
	}{{"mark", "%#x", uint64(f.Mark)}, {"priority", "%d", uint64(f.Priority)}, {"queue_mapping", "%d", uint64(f.QueueMapping)},
		{"hash", "%#x", uint64(f.Hash)}, {"tc_index", "%d", uint64(f.TCIndex)}, {"tc_classid", "%#x", uint64(f.TCClassid)}} {
		if v.v != 0 {
			parts = append(parts, fmt.Sprintf("%s "+v.format, v.name, v.v))
		}
	}
	return "skb: " + strings.Join(parts, ", ")
}

// skbAreas lists an skb's areas: the head's, then the paged part.
func (s Snapshot) skbAreas(add func(Area)) {
	k := s.Skb
	room := "free: skb_change_head, skb_adjust_room and skb_vlan_push push into it"
	if k.FromXDP {
		room = "the XDP frame's page from data_hard_start: the skb's headroom now"
	}
	add(Area{Kind: KindHeadroom, Name: "headroom", Start: 0, End: int(s.DataMeta), Detail: room})
	if s.DataMeta < s.Data {
		add(Area{Kind: KindMeta, Name: "metadata", Start: int(s.DataMeta), End: int(s.Data), Detail: hexShort(s.Meta(), 24)})
	}
	s.layerAreas(add)
	add(Area{Kind: KindTailroom, Name: "tailroom", Start: int(s.DataEnd), End: k.End,
		Detail: "free: skb_change_tail grows into it"})
	frags := "no fragments"
	if n := fragLen(s); n > 0 {
		frags = fmt.Sprintf("page fragments with %d bytes of the packet (skb->data_len)", n)
	}
	add(Area{Kind: KindSharedInfo, Name: "skb_shared_info", Start: k.End, End: k.End + sim.Tailroom, Detail: frags})
	if len(s.Frags) > 0 {
		lin := int(s.DataEnd - s.Data)
		n := len(s.Frags[0])
		a := Area{Kind: KindFrag, Name: "paged data", Start: 0, End: n, Frag: 1,
			Detail: fmt.Sprintf("packet bytes %d-%d, in page fragments (skb_pull_data makes them linear)", lin, lin+n-1)}
		if names := layersIn(Layers(s.Packet()), lin, lin+n); len(names) > 0 {
			a.Detail += ": " + strings.Join(names, ", ")
		}
		add(a)
	}
}

// skbPointers lists an skb's pointers and header offsets in head order.
func (s Snapshot) skbPointers() []Pointer {
	k := s.Skb
	ps := []Pointer{{"head", 0}}
	if s.DataMeta < s.Data {
		ps = append(ps, Pointer{"data_meta", int(s.DataMeta)})
	}
	for _, h := range []Pointer{{"mac_header", k.Mac}, {"data", int(s.Data)}, {"network_header", k.Network}, {"transport_header", k.Transport}} {
		if h.Off >= 0 {
			ps = append(ps, h)
		}
	}
	ps = append(ps, Pointer{"data_end", int(s.DataEnd)}, Pointer{"end", k.End}, Pointer{"head end", k.End + sim.Tailroom})
	// Headers sit anywhere the helpers put them: keep head order, the named order among equals.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Off < ps[j-1].Off; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	return ps
}
