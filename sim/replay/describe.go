package replay

import (
	"fmt"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Describe describes a frame in one line, as tcpdump -n would.
func Describe(data []byte, origLen int) string {
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	s := ""
	if eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		s = fmt.Sprintf("%s > %s", eth.SrcMAC, eth.DstMAC)
	}
	switch {
	case p.Layer(layers.LayerTypeIPv4) != nil:
		ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		s = fmt.Sprintf("IP %s > %s", ip.SrcIP, ip.DstIP)
	case p.Layer(layers.LayerTypeIPv6) != nil:
		ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		s = fmt.Sprintf("IP6 %s > %s", ip.SrcIP, ip.DstIP)
	}
	return fmt.Sprintf("%s, length %d", s, len(data))
}
