package sim

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
	"github.com/xdpsim/xdpsim/sim/jsonfile"
)

// Host is the simulated machine's network configuration that helpers consult: devices, routes and
// neighbours, read from a small JSON file (see LoadHost). Without one, the host is a fresh network
// namespace: only the loopback device, nothing forwarded.
//
//	{
//	  "forwarding": true,
//	  "devices": [{"name": "eth0", "ifindex": 2, "mac": "02:00:00:00:aa:01", "mtu": 1500,
//	               "addresses": ["10.1.0.1/24", "2001:db8:1::1/64"]}],
//	  "routes": [{"dst": "192.0.2.0/24", "via": "10.1.0.2", "dev": "eth0"},
//	             {"dst": "203.0.113.0/24", "type": "blackhole"}],
//	  "neighbours": [{"ip": "10.1.0.2", "mac": "02:00:00:00:bb:02", "dev": "eth0"}]
//	}
//
// Route types are unicast (the default), blackhole, unreachable and prohibit; every device address
// also makes a connected route and a local one, as the kernel does.
type Host struct {
	Forwarding bool         `json:"forwarding"`
	Devices    []HostDevice `json:"devices"`
	Routes     []HostRoute  `json:"routes"`
	Neighbours []HostNeigh  `json:"neighbours"`

	byIndex map[uint32]*HostDevice
	byName  map[string]*HostDevice
	routes  []route
	neigh   map[netip.Addr]net.HardwareAddr
	// ct is the namespace's conntrack table, made on first use (conntrack.go).
	ct *conntrack.Table
}

// HostDevice is a network device of the simulated host.
type HostDevice struct {
	Name      string   `json:"name"`
	Ifindex   uint32   `json:"ifindex"`
	MAC       string   `json:"mac"`
	MTU       uint32   `json:"mtu"`
	Addresses []string `json:"addresses"`
	mac       net.HardwareAddr
	// down: the device is not up (a fresh namespace's loopback).
	down bool
}

// HostRoute is a route of the main table.
type HostRoute struct {
	Dst  string `json:"dst"`
	Via  string `json:"via,omitempty"`
	Dev  string `json:"dev,omitempty"`
	Type string `json:"type,omitempty"`
}

// HostNeigh is a neighbour table entry (a resolved ARP or NDP entry).
type HostNeigh struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
	Dev string `json:"dev"`
}

type route struct {
	prefix netip.Prefix
	typ    uint64 // BPF_FIB_LKUP_RET_* for the non-unicast types; 0 unicast; 4 local
	gw     netip.Addr
	dev    *HostDevice
}

// LoadHost reads a host configuration file.
func LoadHost(path string) (*Host, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h Host
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, jsonfile.Explain(b, err))
	}
	if err := h.compile(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &h, nil
}

// bareHost is a fresh network namespace: a loopback device, down, that does not forward. (A host
// read from a file has loopback up, as Commands brings it up.)
func bareHost() *Host {
	h := &Host{}
	if err := h.compile(); err != nil {
		panic(err)
	}
	h.byIndex[1].down = true
	return h
}

// compile checks the configuration and builds its tables.
func (h *Host) compile() error {
	h.byIndex = map[uint32]*HostDevice{}
	h.byName = map[string]*HostDevice{}
	h.neigh = map[netip.Addr]net.HardwareAddr{}
	h.routes = nil
	lo := &HostDevice{Name: "lo", Ifindex: 1, MTU: 65536, mac: make(net.HardwareAddr, 6)}
	h.byIndex[1], h.byName["lo"] = lo, lo
	h.routes = append(h.routes, route{prefix: netip.MustParsePrefix("127.0.0.0/8"), typ: 4, dev: lo},
		route{prefix: netip.MustParsePrefix("::1/128"), typ: 4, dev: lo})
	for i := range h.Devices {
		d := &h.Devices[i]
		if d.Name == "" || d.Ifindex < 2 {
			return fmt.Errorf("device %d: needs a name and an ifindex of 2 or more (1 is lo)", i)
		}
		if _, dup := h.byIndex[d.Ifindex]; dup {
			return fmt.Errorf("device %s: ifindex %d is taken", d.Name, d.Ifindex)
		}
		mac, err := net.ParseMAC(d.MAC)
		if err != nil || len(mac) != 6 {
			return fmt.Errorf("device %s: mac %q is not an Ethernet address", d.Name, d.MAC)
		}
		d.mac = mac
		if d.MTU == 0 {
			d.MTU = 1500
		}
		h.byIndex[d.Ifindex], h.byName[d.Name] = d, d
		for _, a := range d.Addresses {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return fmt.Errorf("device %s: address %q: %v", d.Name, a, err)
			}
			h.routes = append(h.routes,
				route{prefix: p.Masked(), dev: d},
				route{prefix: netip.PrefixFrom(p.Addr(), p.Addr().BitLen()), typ: 4, dev: d})
		}
	}
	for _, r := range h.Routes {
		p, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			return fmt.Errorf("route %q: %v", r.Dst, err)
		}
		rt := route{prefix: p.Masked()}
		switch r.Type {
		case "", "unicast":
		case "blackhole":
			rt.typ = 1
		case "unreachable":
			rt.typ = 2
		case "prohibit":
			rt.typ = 3
		default:
			return fmt.Errorf("route %s: type %q (want unicast, blackhole, unreachable or prohibit)", r.Dst, r.Type)
		}
		if rt.typ == 0 {
			if rt.dev = h.byName[r.Dev]; rt.dev == nil {
				return fmt.Errorf("route %s: no device %q", r.Dst, r.Dev)
			}
			if r.Via != "" {
				if rt.gw, err = netip.ParseAddr(r.Via); err != nil {
					return fmt.Errorf("route %s: via %q: %v", r.Dst, r.Via, err)
				}
			}
		}
		h.routes = append(h.routes, rt)
	}
	for _, n := range h.Neighbours {
		ip, err := netip.ParseAddr(n.IP)
		if err != nil {
			return fmt.Errorf("neighbour %q: %v", n.IP, err)
		}
		mac, err := net.ParseMAC(n.MAC)
		if err != nil || len(mac) != 6 {
			return fmt.Errorf("neighbour %s: mac %q is not an Ethernet address", n.IP, n.MAC)
		}
		h.neigh[ip] = mac
	}
	return nil
}

// lookup finds the longest-prefix route for dst.
func (h *Host) lookup(dst netip.Addr) (route, bool) {
	best, found := route{}, false
	for _, r := range h.routes {
		if r.prefix.Addr().Is4() != dst.Is4() || !r.prefix.Contains(dst) {
			continue
		}
		if !found || r.prefix.Bits() > best.prefix.Bits() {
			best, found = r, true
		}
	}
	return best, found
}

// SetHost gives the simulated host a network configuration (nil: a bare namespace).
func (x *XDP) SetHost(h *Host) {
	for _, rs := range x.runStates() {
		rs.setHost(h)
	}
}

// fibLookup is bpf_fib_lookup against the simulated host, with the order of the kernel's checks
// (measured on 6.18): flags, family, device, IPv6 strict-scope addresses, forwarding, the table,
// the route's type, the MTU (before the neighbour), then the neighbour. checkMTU compares tot_len
// with the route's MTU: XDP programs always ask for that, tc programs when they give a tot_len.
func (h *Host) fibLookup(b []byte, flags uint64, checkMTU bool) uint64 {
	const afInet, afInet6 = 2, 10
	const (
		lookupTBID     = 1 << 3
		lookupSkipNeig = 1 << 2
	)
	family := b[0]
	if family != afInet && family != afInet6 {
		return errno.EAFNOSUPPORT.Return()
	}
	if _, ok := h.byIndex[le.Uint32(b[8:])]; !ok {
		return errno.ENODEV.Return()
	}
	var dst netip.Addr
	if family == afInet {
		dst = netip.AddrFrom4([4]byte(b[32:36]))
	} else {
		if strictScope6(b[16:32]) || strictScope6(b[32:48]) {
			return 4 // BPF_FIB_LKUP_RET_NOT_FWDED
		}
		dst = netip.AddrFrom16([16]byte(b[32:48]))
	}
	if !h.Forwarding {
		return 5 // BPF_FIB_LKUP_RET_FWD_DISABLED
	}
	if flags&lookupTBID != 0 && le.Uint32(b[48:]) != 254 {
		return 4 // no such table
	}
	r, ok := h.lookup(dst)
	if !ok {
		return 4
	}
	if r.typ != 0 {
		return r.typ
	}
	// tot_len (host order) against the egress device's MTU.
	if totLen := uint32(le.Uint16(b[6:])); checkMTU && totLen > r.dev.MTU {
		le.PutUint16(b[6:], uint16(r.dev.MTU))
		return 8 // BPF_FIB_LKUP_RET_FRAG_NEEDED
	}
	le.PutUint32(b[12:], 0) // rt_metric: the route's priority
	le.PutUint32(b[8:], r.dev.Ifindex)
	next := dst
	if r.gw.IsValid() {
		next = r.gw
		if family == afInet {
			a := r.gw.As4()
			copy(b[32:36], a[:])
		} else {
			a := r.gw.As16()
			copy(b[32:48], a[:])
		}
	}
	if flags&lookupSkipNeig == 0 {
		mac, ok := h.neigh[next]
		if !ok {
			return 7 // BPF_FIB_LKUP_RET_NO_NEIGH
		}
		copy(b[58:64], mac)
		copy(b[52:58], r.dev.mac)
	}
	le.PutUint32(b[48:], 0) // h_vlan_proto and h_vlan_TCI
	le.PutUint16(b[6:], uint16(r.dev.MTU))
	return 0
}

// Commands are the ip and sysctl commands that build the same host in a fresh Linux network
// namespace (devices become veth pairs, whose peers are named xpIFINDEX), so the kernel can be
// compared with the simulator under one configuration.
func (h *Host) Commands() [][]string {
	cmds := [][]string{{"ip", "link", "set", "lo", "up"}}
	for _, d := range h.Devices {
		peer := fmt.Sprintf("xp%d", d.Ifindex)
		cmds = append(cmds,
			[]string{"ip", "link", "add", d.Name, "index", fmt.Sprint(d.Ifindex), "address", d.MAC, "mtu", fmt.Sprint(d.MTU),
				"type", "veth", "peer", "name", peer, "index", fmt.Sprint(d.Ifindex + 1000)},
			[]string{"ip", "link", "set", peer, "up"},
			[]string{"ip", "link", "set", d.Name, "up"})
		for _, a := range d.Addresses {
			cmds = append(cmds, []string{"ip", "addr", "add", a, "dev", d.Name, "nodad"})
		}
	}
	if h.Forwarding {
		cmds = append(cmds,
			[]string{"sysctl", "-qw", "net.ipv4.conf.all.forwarding=1"},
			[]string{"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"})
	}
	for _, r := range h.Routes {
		switch r.Type {
		case "", "unicast":
			c := []string{"ip", "route", "add", r.Dst}
			if r.Via != "" {
				c = append(c, "via", r.Via)
			}
			cmds = append(cmds, append(c, "dev", r.Dev))
		default:
			cmds = append(cmds, []string{"ip", "route", "add", r.Type, r.Dst})
		}
	}
	for _, n := range h.Neighbours {
		cmds = append(cmds, []string{"ip", "neigh", "add", n.IP, "lladdr", n.MAC, "dev", n.Dev, "nud", "permanent"})
	}
	return cmds
}
