package picture

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/sim"
)

// Kind says what an area of the frame holds.
type Kind int

// The kinds of area, in page order.
const (
	KindXDPFrame Kind = iota
	KindTraits
	KindHeadroom
	KindMeta
	KindLayer // a protocol layer of the packet (or its payload)
	KindTailroom
	KindSharedInfo
	KindFrag // a fragment page's bytes
)

// Area is a span of the frame: of the page (Frag 0), or of fragment Frag (1-based).
type Area struct {
	Kind       Kind
	Name       string
	Start, End int
	Frag       int
	// Detail says what the area holds ("10.0.0.2 > 203.0.113.2, UDP, ttl 64").
	Detail string
}

// Len is the area's size in bytes.
func (a Area) Len() int { return a.End - a.Start }

// Pointer is one of the xdp_buff's pointers (or a fixed boundary of the page) and where it sits.
type Pointer struct {
	Name string
	Off  int
}

// Pointers lists, for an XDP frame, data_hard_start, data_meta, data, data_end, the frame end
// (data_hard_end) and the page end; for an skb, head, data_meta, the MAC, network and transport
// headers, data, data_end (the tail), end and the end of skb_shared_info; in page order. Without
// metadata support data_meta is left out.
func (s Snapshot) Pointers() []Pointer {
	if s.Skb != nil {
		return s.skbPointers()
	}
	ps := []Pointer{{"data_hard_start", 0}}
	if s.MetaSupported {
		ps = append(ps, Pointer{"data_meta", int(s.DataMeta)})
	}
	ps = append(ps, Pointer{"data", int(s.Data)}, Pointer{"data_end", int(s.DataEnd)},
		Pointer{"frame end", sim.FrameEnd}, Pointer{"page end", sim.FrameSize})
	return ps
}

// Areas lists the frame's areas in order: the page's (or the skb head's), then each fragment's.
func (s Snapshot) Areas() []Area {
	var out []Area
	add := func(a Area) {
		if a.End > a.Start {
			out = append(out, a)
		}
	}
	if s.Skb != nil {
		s.skbAreas(add)
		return out
	}
	add(Area{Kind: KindXDPFrame, Name: "xdp_frame", Start: 0, End: sim.XDPFrameSize,
		Detail: "reserved for struct xdp_frame (XDP_TX, XDP_REDIRECT)"})
	tr := sim.XDPFrameSize + int(s.Traits)
	add(Area{Kind: KindTraits, Name: "packet traits", Start: sim.XDPFrameSize, End: tr, Detail: "the traits RFC's key/value store"})
	add(Area{Kind: KindHeadroom, Name: "headroom", Start: tr, End: int(s.DataMeta), Detail: "free: adjust_head and adjust_meta grow into it"})
	if s.DataMeta < s.Data {
		add(Area{Kind: KindMeta, Name: "metadata", Start: int(s.DataMeta), End: int(s.Data), Detail: hexShort(s.Meta(), 24)})
	}
	s.layerAreas(add)
	add(Area{Kind: KindTailroom, Name: "tailroom", Start: int(s.DataEnd), End: sim.FrameEnd, Detail: "free: adjust_tail grows into it"})
	frags := "no fragments"
	if n := len(s.Frags); n > 0 {
		frags = fmt.Sprintf("%d fragment%s, %d bytes", n, plural(n), fragLen(s))
	}
	add(Area{Kind: KindSharedInfo, Name: "skb_shared_info", Start: sim.FrameEnd, End: sim.FrameSize, Detail: frags})
	ls := Layers(s.Packet())
	pos := int(s.DataEnd - s.Data)
	for i, f := range s.Frags {
		a := Area{Kind: KindFrag, Name: fmt.Sprintf("fragment %d", i+1), Start: 0, End: len(f), Frag: i + 1,
			Detail: fmt.Sprintf("packet bytes %d-%d, in a %d-byte page of its own", pos, pos+len(f)-1, sim.FrameSize)}
		if names := layersIn(ls, pos, pos+len(f)); len(names) > 0 {
			a.Detail += ": " + strings.Join(names, ", ")
		}
		add(a)
		pos += len(f)
	}
	return out
}

// layerAreas adds the protocol layers of the linear packet, data to data_end.
func (s Snapshot) layerAreas(add func(Area)) {
	lin := int(s.DataEnd - s.Data)
	for _, l := range Layers(s.Packet()) {
		if l.Start < lin {
			a := Area{Kind: KindLayer, Name: l.Name, Start: int(s.Data) + l.Start, End: int(s.Data) + min(l.End, lin), Detail: l.Detail}
			if l.End > lin {
				a.Detail += fmt.Sprintf("; %d of them here, the rest in the fragments", a.Len())
			}
			add(a)
		}
	}
}

// layersIn names the layers with bytes between packet offsets lo and hi.
func layersIn(ls []Layer, lo, hi int) []string {
	var names []string
	for _, l := range ls {
		if l.End > lo && l.Start < hi {
			names = append(names, l.Name)
		}
	}
	return names
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func hexShort(b []byte, n int) string {
	if len(b) <= n {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:n]) + "..."
}

// Layer is a protocol layer of a packet: bytes Start to End of the packet.
type Layer struct {
	Name       string
	Start, End int
	Detail     string
}

// Layers decodes an Ethernet frame into its protocol layers with gopacket; what it cannot decode
// is one last layer that says why.
func Layers(pkt []byte) []Layer {
	p := gopacket.NewPacket(pkt, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	var out []Layer
	pos := 0
	for _, l := range p.Layers() {
		n := len(l.LayerContents())
		if n == 0 {
			continue
		}
		if pos+n > len(pkt) {
			n = len(pkt) - pos
		}
		out = append(out, Layer{Name: layerName(l), Start: pos, End: pos + n, Detail: layerDetail(l)})
		pos += n
	}
	if pos < len(pkt) {
		l := Layer{Name: "padding", Start: pos, End: len(pkt), Detail: fmt.Sprintf("%d bytes past the length the headers give (Ethernet padding or a trailer)", len(pkt)-pos)}
		if len(out) == 0 || out[len(out)-1].Name == "Ethernet" {
			// Nothing past the Ethernet header was decoded: an 802.3 length that ends early, or
			// an EtherType gopacket does not know.
			l.Name, l.Detail = "not decoded", fmt.Sprintf("%d bytes the Ethernet header does not describe", len(pkt)-pos)
		}
		out = append(out, l)
	}
	return out
}

func layerName(l gopacket.Layer) string {
	switch l.LayerType() {
	case layers.LayerTypeDot1Q:
		if d, ok := l.(*layers.Dot1Q); ok && len(d.Contents) > 0 {
			return "802.1Q tag"
		}
	case gopacket.LayerTypePayload:
		return "payload"
	case gopacket.LayerTypeDecodeFailure:
		return "undecoded"
	}
	return l.LayerType().String()
}

func layerDetail(l gopacket.Layer) string {
	switch l := l.(type) {
	case *layers.Ethernet:
		return fmt.Sprintf("%s > %s, %s", l.SrcMAC, l.DstMAC, etherType(l.EthernetType, l.Length))
	case *layers.Dot1Q:
		return fmt.Sprintf("vlan %d, p %d, %s", l.VLANIdentifier, l.Priority, etherType(l.Type, 0))
	case *layers.IPv4:
		d := fmt.Sprintf("%s > %s, %s, ttl %d, len %d", l.SrcIP, l.DstIP, l.Protocol, l.TTL, l.Length)
		if l.IHL > 5 {
			d += fmt.Sprintf(", %d bytes of options", int(l.IHL-5)*4)
		}
		if l.FragOffset != 0 || l.Flags&layers.IPv4MoreFragments != 0 {
			d += fmt.Sprintf(", fragment at %d", int(l.FragOffset)*8)
		}
		return d
	case *layers.IPv6:
		return fmt.Sprintf("%s > %s, next %s, hlim %d, payload %d", l.SrcIP, l.DstIP, l.NextHeader, l.HopLimit, l.Length)
	case *layers.IPv6HopByHop:
		return "next " + l.NextHeader.String()
	case *layers.IPv6Routing:
		return fmt.Sprintf("type %d, next %s", l.RoutingType, l.NextHeader)
	case *layers.IPv6Fragment:
		return fmt.Sprintf("offset %d, id %d, next %s", int(l.FragmentOffset)*8, l.Identification, l.NextHeader)
	case *layers.IPv6Destination:
		return "next " + l.NextHeader.String()
	case *layers.TCP:
		return fmt.Sprintf("%d > %d, flags [%s], seq %d", l.SrcPort, l.DstPort, tcpFlags(l), l.Seq)
	case *layers.UDP:
		return fmt.Sprintf("%d > %d, len %d", l.SrcPort, l.DstPort, l.Length)
	case *layers.ICMPv4:
		return fmt.Sprintf("%s, id %d, seq %d", l.TypeCode, l.Id, l.Seq)
	case *layers.ICMPv6:
		return l.TypeCode.String()
	case *layers.ARP:
		switch l.Operation {
		case layers.ARPRequest:
			return fmt.Sprintf("who-has %s tell %s", ipOf(l.DstProtAddress), ipOf(l.SourceProtAddress))
		case layers.ARPReply:
			return fmt.Sprintf("%s is-at %x", ipOf(l.SourceProtAddress), l.SourceHwAddress)
		}
		return fmt.Sprintf("operation %d", l.Operation)
	case *gopacket.DecodeFailure:
		return fmt.Sprintf("%d bytes: %v", len(l.LayerContents()), l.Error())
	}
	return fmt.Sprintf("%d bytes", len(l.LayerContents()))
}

func etherType(t layers.EthernetType, length uint16) string {
	if t == layers.EthernetTypeLLC {
		return fmt.Sprintf("802.3 length %d", length)
	}
	return fmt.Sprintf("%s (0x%04x)", t, uint16(t))
}

func ipOf(b []byte) string {
	if len(b) == 4 {
		return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	}
	return hex.EncodeToString(b)
}

func tcpFlags(t *layers.TCP) string {
	var b strings.Builder
	for _, f := range []struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.URG, 'U'}, {t.ECE, 'E'}, {t.CWR, 'W'}, {t.ACK, '.'}} {
		if f.on {
			b.WriteByte(f.c)
		}
	}
	return b.String()
}
