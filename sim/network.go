package sim

import (
	"errors"
	"fmt"
	"net"
	"sort"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/vm"
)

// Network is a small host to simulate: network namespaces with their routes and neighbours,
// devices in them (NICs, veth pairs, netkit pairs), the programs attached to the devices, and the
// way one packet takes across them (see Run). Build it with the Add and Attach methods (package
// sim/topology reads one from a file), then run packets through it. Maps carry over from packet
// to packet. A Network is not safe for concurrent use.
//
// Programs on tcx and netkit attach points are attached through a device.Registry, so their order
// and every refusal are bpf_mprog's; the data path runs them in that order.
type Network struct {
	reg      *device.Registry
	nss      []*netNS
	nsByName map[string]*netNS
	devs     []*netDev
	byIndex  map[uint32]*netDev
	byName   map[string]*netDev
	// progs are the programs known to the registry, by registry id; ids and fds the other way.
	progs   map[uint32]*Program
	progIDs map[*Program]uint32
	progFDs map[*Program]uint32
	links   map[string]uint32 // link name to descriptor
	skb     *skbState
	seed    uint64
	built   bool
	// netdevs is the control interface's view of the devices (Netdevs), made once they are all
	// added.
	netdevs *device.Set

	// MaxHops bounds the steps of one packet's way (default DefaultMaxHops): each arrival from
	// the wire, receive path (with its tc ingress hook), stack decision, transmit (with its tc
	// egress hook) and device transmit routine (with netkit's programs) it passes is a step.
	MaxHops int

	// The packet in flight.
	out      NetworkOutcome
	frameBuf []byte
	metaBuf  []byte
	depth    int // the kernel's transmit recursion counter
	hops     int
	cond     Conditions
	runs     []TCRun
	vias     map[viaKey]string
	texts    map[textKey]string
}

// DefaultMaxHops is the hop bound of a Network: how many steps of its way (see MaxHops) one
// packet may take before the simulator stops it. It models no kernel limit: a packet that loops through receive
// queues (a redirect into a device's own ingress, say) would keep a CPU busy for ever in the
// kernel; forwarding loops end earlier, through the TTL, which the simulated stack decrements.
const DefaultMaxHops = 64

// xmitRecursionLimit is XMIT_RECURSION_LIMIT: how deep transmits may nest on one CPU (a tc or
// netkit program redirecting to a device whose transmit redirects again) before the kernel drops
// the packet.
const xmitRecursionLimit = 8

// netNS is a network namespace: its configuration and the Host the helpers and the stack consult.
type netNS struct {
	name string
	cfg  NamespaceConfig
	host *Host
	// local is the route hop's detail for a local destination.
	local string
}

// Device kinds of a Network.
const (
	KindNIC    = "nic"
	KindVeth   = "veth"
	KindNetkit = "netkit"
)

// netDev is one device of a Network.
type netDev struct {
	name    string
	ifindex uint32
	kind    string
	ns      *netNS
	mac     net.HardwareAddr
	mtu     uint32
	down    bool
	addrs   []string
	peer    *netDev
	// nic is the device model of a NIC (profile, queues, RSS); veth ends use the veth profile.
	nic *device.Netdev
	// xdp runs the device's XDP program, or its programs through libxdp's dispatcher; nil
	// without.
	xdpAtts []Attachment
	xdpOpts device.Options
	xdp     *XDP
	// classic are the cls_bpf programs on ingress (0) and egress (1), after the tcx programs.
	classic [2][]*Program
	// hooks run tc ingress (0) and egress (1); nk the device's netkit programs. nil when none.
	hooks [2]*TC
	nk    *TC
}

// NamespaceConfig is a network namespace: whether it forwards, its routes and its neighbour
// table (the devices and their addresses come with the devices).
type NamespaceConfig struct {
	Name       string
	Forwarding bool
	Routes     []HostRoute
	Neighbours []HostNeigh
}

// DeviceConfig is one device of a Network, or one end of a pair.
type DeviceConfig struct {
	Name string
	// Ifindex must be 2 or more and unique in the whole Network (a simplification: the kernel
	// numbers devices per namespace).
	Ifindex   uint32
	Namespace string
	// MAC is the device's Ethernet address: required for NICs and veth ends and for netkit in L2
	// mode; a netkit device in L3 mode has none (all zeroes).
	MAC string
	// MTU defaults to 1500.
	MTU       uint32
	Addresses []string
	// Down leaves the device down.
	Down bool
}

// NewNetwork returns a network with one namespace, "host", and no devices.
func NewNetwork() *Network {
	n := &Network{reg: device.NewRegistry(), nsByName: map[string]*netNS{}, byIndex: map[uint32]*netDev{},
		byName: map[string]*netDev{}, progs: map[uint32]*Program{}, progIDs: map[*Program]uint32{},
		progFDs: map[*Program]uint32{}, links: map[string]uint32{}, skb: newSkbState(), seed: 1, MaxHops: DefaultMaxHops}
	n.nss = append(n.nss, &netNS{name: "host", cfg: NamespaceConfig{Name: "host"}, local: "an address of host"})
	n.nsByName["host"] = n.nss[0]
	return n
}

// Registry is the network's registry of attach points, for queries (device.Registry.ProgQuery).
func (n *Network) Registry() *device.Registry { return n.reg }

// AddNamespace adds a network namespace, or configures "host" (which always exists).
func (n *Network) AddNamespace(c NamespaceConfig) error {
	if c.Name == "" {
		return errors.New("a namespace needs a name")
	}
	if ns := n.nsByName[c.Name]; ns != nil {
		if c.Name != "host" || ns.cfg.Forwarding || len(ns.cfg.Routes)+len(ns.cfg.Neighbours) > 0 {
			return fmt.Errorf("namespace %s is given twice", c.Name)
		}
		ns.cfg = c
		n.built = false
		return nil
	}
	ns := &netNS{name: c.Name, cfg: c, local: "an address of " + c.Name}
	n.nss = append(n.nss, ns)
	n.nsByName[c.Name] = ns
	n.built = false
	return nil
}

// addDev checks a device's configuration and adds it.
func (n *Network) addDev(c DeviceConfig, kind string, mac net.HardwareAddr) (*netDev, error) {
	switch {
	case c.Name == "":
		return nil, errors.New("a device needs a name")
	case n.byName[c.Name] != nil:
		return nil, fmt.Errorf("device %s is given twice", c.Name)
	case c.Ifindex < 2:
		return nil, fmt.Errorf("device %s: ifindex %d (want 2 or more; 1 is every namespace's lo)", c.Name, c.Ifindex)
	case n.byIndex[c.Ifindex] != nil:
		return nil, fmt.Errorf("device %s: ifindex %d is %s's", c.Name, c.Ifindex, n.byIndex[c.Ifindex].name)
	}
	nsName := c.Namespace
	if nsName == "" {
		nsName = "host"
	}
	ns := n.nsByName[nsName]
	if ns == nil {
		return nil, fmt.Errorf("device %s: no namespace %q", c.Name, nsName)
	}
	if mac == nil {
		var err error
		if mac, err = net.ParseMAC(c.MAC); err != nil || len(mac) != 6 {
			return nil, fmt.Errorf("device %s: mac %q is not an Ethernet address", c.Name, c.MAC)
		}
	}
	mtu := c.MTU
	if mtu == 0 {
		mtu = 1500
	}
	d := &netDev{name: c.Name, ifindex: c.Ifindex, kind: kind, ns: ns, mac: mac, mtu: mtu, down: c.Down, addrs: c.Addresses}
	n.devs = append(n.devs, d)
	n.byIndex[d.ifindex], n.byName[d.name] = d, d
	n.built = false
	return d, nil
}

// AddNIC adds a physical NIC: packets arrive on it from the wire and leave through it. nic gives
// its profile, queues and RSS (nil: the default profile, one queue).
func (n *Network) AddNIC(c DeviceConfig, nic *device.Netdev) error {
	d, err := n.addDev(c, KindNIC, nil)
	if err != nil {
		return err
	}
	if nic == nil {
		nic = device.NewNetdev(defaultProfile())
	}
	if nic.Name == "" {
		nic.Name = d.name
	}
	if nic.Ifindex == 0 {
		nic.Ifindex = d.ifindex
	}
	d.nic = nic
	return n.reg.AddDevice(d.ifindex, d.name)
}

// AddVeth adds a veth pair: what one end transmits, the other receives.
func (n *Network) AddVeth(a, b DeviceConfig) error {
	da, err := n.addDev(a, KindVeth, nil)
	if err != nil {
		return err
	}
	db, err := n.addDev(b, KindVeth, nil)
	if err != nil {
		n.remove(da)
		return err
	}
	da.peer, db.peer = db, da
	da.nic, db.nic = device.NewVethPair(defaultProfile(), da.name, db.name) // the veth profile
	da.nic.Ifindex, db.nic.Ifindex = da.ifindex, db.ifindex
	for _, d := range []*netDev{da, db} {
		if err := n.reg.AddDevice(d.ifindex, d.name); err != nil {
			return err
		}
	}
	return nil
}

// AddNetkit adds a netkit pair. In L3 mode (the default) the devices have no Ethernet address
// (MAC must be empty); in L2 mode it is required (the kernel draws random ones, which a
// simulation cannot use). The configuration is checked as the kernel checks it (an error then
// matches a errno.Errno).
func (n *Network) AddNetkit(primary, peer DeviceConfig, c device.NetkitConfig) error {
	var macs [2]net.HardwareAddr
	for i, dc := range []DeviceConfig{primary, peer} {
		if c.Mode == device.NetkitL3 {
			if dc.MAC != "" {
				return fmt.Errorf("netkit %s: %s: %w", primary.Name, dc.Name, &device.NetkitError{Errno: errno.EOPNOTSUPP,
					Msg: "an L3 netkit device has no Ethernet address"})
			}
			macs[i] = make(net.HardwareAddr, 6)
			continue
		}
		mac, err := net.ParseMAC(dc.MAC)
		if err != nil || len(mac) != 6 {
			return fmt.Errorf("netkit %s: %s: mac %q: an L2 netkit device needs an Ethernet address (the kernel draws a random one)", primary.Name, dc.Name, dc.MAC)
		}
		macs[i] = mac
	}
	if c.Mode == device.NetkitL2 {
		c.MAC, c.PeerMAC = macs[0], macs[1]
	}
	if err := c.Check(); err != nil {
		return fmt.Errorf("netkit %s: %w", primary.Name, err)
	}
	dp, err := n.addDev(primary, KindNetkit, macs[0])
	if err != nil {
		return err
	}
	dq, err := n.addDev(peer, KindNetkit, macs[1])
	if err != nil {
		n.remove(dp)
		return err
	}
	dp.peer, dq.peer = dq, dp
	if err := n.reg.AddNetkit(dp.ifindex, dq.ifindex, dp.name, dq.name, c); err != nil {
		return fmt.Errorf("netkit %s: %w", primary.Name, err)
	}
	return nil
}

// remove takes back a device added by a failed Add.
func (n *Network) remove(d *netDev) {
	n.devs = n.devs[:len(n.devs)-1]
	delete(n.byIndex, d.ifindex)
	delete(n.byName, d.name)
}

// dev finds a device by name.
func (n *Network) dev(name string) (*netDev, error) {
	d := n.byName[name]
	if d == nil {
		return nil, fmt.Errorf("no device %q", name)
	}
	return d, nil
}

// AttachXDP attaches XDP programs to a device's XDP hook (native mode): one program alone, or
// several through libxdp's dispatcher (NewDispatcher: their run priorities, chain-call actions and
// frags support as the attachments' overrides say, the dispatcher as opts models it). netkit
// devices have no native XDP (no ndo_bpf in Linux 6.18).
func (n *Network) AttachXDP(dev string, opts device.Options, atts ...Attachment) error {
	d, err := n.dev(dev)
	if err != nil {
		return err
	}
	switch {
	case d.kind == KindNetkit:
		return fmt.Errorf("%s: a netkit device has no native XDP hook (Linux 6.18's netkit has no ndo_bpf)", dev)
	case len(d.xdpAtts) > 0:
		return fmt.Errorf("%s: XDP programs are attached already (give them all at once, as libxdp's xdp_program__attach_multi takes them)", dev)
	case len(atts) == 0:
		return fmt.Errorf("%s: no XDP program given", dev)
	}
	for _, a := range atts {
		if a.Program.Type != ebpf.XDP {
			return fmt.Errorf("%s: %s is a %s program, not an XDP program", dev, a.Program.Name, a.Program.Type)
		}
	}
	d.xdpAtts, d.xdpOpts = atts, opts
	n.built = false
	return nil
}

// AttachTC attaches a classic tc program (cls_bpf in direct-action mode, sections "tc" and
// "classifier") to a device's tc ingress or egress hook: it runs after the hook's tcx programs,
// in the order attached.
func (n *Network) AttachTC(dev string, ingress bool, p *Program) error {
	d, err := n.dev(dev)
	if err != nil {
		return err
	}
	if p.Type != ebpf.SchedCLS {
		return fmt.Errorf("%s: %s is a %s program, not a tc program", dev, p.Name, p.Type)
	}
	i := 1
	if ingress {
		i = 0
	}
	d.classic[i] = append(d.classic[i], p)
	n.built = false
	return nil
}

// MprogOptions say where a program goes on a tcx or netkit attach point, as BPF_PROG_ATTACH and
// BPF_LINK_CREATE take it: bpf_mprog's flags (device.FlagBefore, FlagAfter, FlagReplace), the
// relative program or link (FlagID and FlagLink follow from which is given), the program to
// replace, the expected revision, and the name of the link to create ("" attaches without one).
type MprogOptions struct {
	Flags            uint32
	Relative         *Program
	RelativeLink     string
	Replace          *Program
	ExpectedRevision uint64
	Link             string
}

// register makes p known to the registry (BPF_PROG_LOAD) and returns its descriptor.
func (n *Network) register(p *Program) uint32 {
	if fd, ok := n.progFDs[p]; ok {
		return fd
	}
	id, fd := n.reg.LoadProgram(p.Name, p.Type)
	n.progs[id], n.progIDs[p], n.progFDs[p] = p, id, fd
	return fd
}

// Attach attaches a program to a tcx hook (ebpf.AttachTCXIngress, AttachTCXEgress) or a netkit
// device (ebpf.AttachNetkitPrimary, AttachNetkitPeer, through the primary) as BPF_PROG_ATTACH, or
// with o.Link as BPF_LINK_CREATE, would: errors match the errno.Errno the kernel returns.
func (n *Network) Attach(dev string, t ebpf.AttachType, p *Program, o MprogOptions) error {
	d, err := n.dev(dev)
	if err != nil {
		return err
	}
	flags, rel, err := n.relative(o)
	if err != nil {
		return err
	}
	fd := n.register(p)
	what := fmt.Sprintf("attach %s to %s %s", p.Name, dev, attachName(t))
	if o.Link != "" {
		if _, dup := n.links[o.Link]; dup {
			return fmt.Errorf("%s: link %q exists", what, o.Link)
		}
		lfd, err := n.reg.LinkCreate(device.LinkAttr{ProgFD: fd, TargetIfindex: d.ifindex, AttachType: t, Flags: flags,
			Relative: rel, ExpectedRevision: o.ExpectedRevision})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n.links[o.Link] = lfd
	} else {
		var repl uint32
		if o.Replace != nil {
			repl = n.register(o.Replace)
		}
		err := n.reg.ProgAttach(device.AttachAttr{TargetIfindex: d.ifindex, AttachBPFFD: fd, AttachType: t, AttachFlags: flags,
			ReplaceBPFFD: repl, Relative: rel, ExpectedRevision: o.ExpectedRevision})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	n.built = false
	return nil
}

// Detach detaches a program (nil: the one o's flags and relative object choose) from a tcx hook
// or a netkit device as BPF_PROG_DETACH would, or with o.Link closes that link.
func (n *Network) Detach(dev string, t ebpf.AttachType, p *Program, o MprogOptions) error {
	d, err := n.dev(dev)
	if err != nil {
		return err
	}
	n.built = false
	if o.Link != "" {
		lfd, ok := n.links[o.Link]
		if !ok {
			return fmt.Errorf("no link %q", o.Link)
		}
		delete(n.links, o.Link)
		return n.reg.Close(lfd)
	}
	flags, rel, err := n.relative(o)
	if err != nil {
		return err
	}
	var fd uint32
	if p != nil {
		fd = n.register(p)
	}
	if err := n.reg.ProgDetach(device.AttachAttr{TargetIfindex: d.ifindex, AttachBPFFD: fd, AttachType: t, AttachFlags: flags,
		Relative: rel, ExpectedRevision: o.ExpectedRevision}); err != nil {
		return fmt.Errorf("detach from %s %s: %w", dev, attachName(t), err)
	}
	return nil
}

// relative turns o's relative object into flags and relative_fd.
func (n *Network) relative(o MprogOptions) (uint32, uint32, error) {
	flags := o.Flags
	switch {
	case o.Relative != nil && o.RelativeLink != "":
		return 0, 0, errors.New("a relative program and a relative link at once")
	case o.Relative != nil:
		return flags, n.register(o.Relative), nil
	case o.RelativeLink != "":
		lfd, ok := n.links[o.RelativeLink]
		if !ok {
			return 0, 0, fmt.Errorf("no link %q", o.RelativeLink)
		}
		return flags | device.FlagLink, lfd, nil
	}
	return flags, 0, nil
}

// attachName names an attach type as bpftool does.
func attachName(t ebpf.AttachType) string {
	switch t {
	case ebpf.AttachTCXIngress:
		return "tcx/ingress"
	case ebpf.AttachTCXEgress:
		return "tcx/egress"
	case ebpf.AttachNetkitPrimary:
		return "netkit/primary"
	case ebpf.AttachNetkitPeer:
		return "netkit/peer"
	}
	return t.String()
}

// SetDevmap fills a devmap or devmap_hash entry with a device of the network by name (struct
// bpf_devmap_val's ifindex; no program).
func (n *Network) SetDevmap(o *Object, mapName string, key uint32, dev string) error {
	d, err := n.dev(dev)
	if err != nil {
		return err
	}
	m, ok := o.Maps[mapName]
	if !ok {
		return fmt.Errorf("map %q: no such map in %s", mapName, o.Path)
	}
	if m.Type() != ebpf.DevMap && m.Type() != ebpf.DevMapHash {
		return fmt.Errorf("map %s is a %s, not a devmap", mapName, m.Type())
	}
	k := make([]byte, m.KeySize())
	if len(k) < 4 {
		return fmt.Errorf("map %s: %d-byte keys", mapName, len(k))
	}
	le.PutUint32(k, key)
	v := make([]byte, m.ValueSize())
	le.PutUint32(v, d.ifindex)
	if err := m.Update(k, v, 0, 0); err != nil {
		return fmt.Errorf("map %s key %d: %w", mapName, key, err)
	}
	return nil
}

// SetCPUMap fills a cpumap entry (struct bpf_cpumap_val's qsize; no program): the CPU is the
// entry's key, and a frame redirected there is received on its device again, on that CPU.
func (n *Network) SetCPUMap(o *Object, mapName string, cpu, qsize uint32) error {
	m, ok := o.Maps[mapName]
	if !ok {
		return fmt.Errorf("map %q: no such map in %s", mapName, o.Path)
	}
	if m.Type() != ebpf.CPUMap {
		return fmt.Errorf("map %s is a %s, not a cpumap", mapName, m.Type())
	}
	if qsize == 0 {
		return fmt.Errorf("map %s key %d: a cpumap entry needs a queue size", mapName, cpu)
	}
	k, v := make([]byte, 4), make([]byte, m.ValueSize())
	le.PutUint32(k, cpu)
	le.PutUint32(v, qsize)
	if err := m.Update(k, v, 0, 0); err != nil {
		return fmt.Errorf("map %s key %d: %w", mapName, cpu, err)
	}
	return nil
}

// SetSeed seeds bpf_get_prandom_u32 of every program.
func (n *Network) SetSeed(seed uint64) {
	n.seed = seed
	n.built = false
}

// Build checks the network and prepares its hooks: it runs before the first packet by itself;
// call it to see the errors early. Namespaces are checked as Host configurations (routes and
// neighbours naming their devices), and every program gets its machine.
func (n *Network) Build() error {
	if n.built {
		return nil
	}
	for _, ns := range n.nss {
		h := &Host{Forwarding: ns.cfg.Forwarding, Routes: ns.cfg.Routes, Neighbours: ns.cfg.Neighbours}
		for _, d := range n.devs {
			if d.ns == ns {
				h.Devices = append(h.Devices, HostDevice{Name: d.name, Ifindex: d.ifindex, MAC: d.mac.String(), MTU: d.mtu, Addresses: d.addrs})
			}
		}
		if err := h.compile(); err != nil {
			return fmt.Errorf("namespace %s: %w", ns.name, err)
		}
		for _, d := range n.devs {
			if d.ns == ns && d.down {
				h.byName[d.name].down = true
			}
		}
		ns.host = h
	}
	for _, d := range n.devs {
		if err := n.buildDev(d); err != nil {
			return err
		}
	}
	n.built = true
	return nil
}

// buildDev prepares a device's hooks.
func (n *Network) buildDev(d *netDev) error {
	d.xdp = nil
	if len(d.xdpAtts) > 0 {
		var x *XDP
		var err error
		if len(d.xdpAtts) == 1 {
			x, err = NewXDP(d.xdpAtts[0].Program)
		} else {
			x, err = NewDispatcher(d.xdpAtts, d.xdpOpts)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		x.SetHost(d.ns.host)
		x.SetDevice(d.nic)
		x.SetSeed(n.seed)
		d.xdp = x
	}
	for i, t := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		tc, err := n.hook(n.attached(d.ifindex, t), d.classic[i], d.ns)
		if err != nil {
			return fmt.Errorf("%s %s: %w", d.name, attachName(t), err)
		}
		d.hooks[i] = tc
	}
	d.nk = nil
	if d.kind == KindNetkit {
		t := ebpf.AttachNetkitPrimary
		if nk, _ := n.reg.Netkit(d.ifindex); !nk.Primary {
			t = ebpf.AttachNetkitPeer
		}
		// The programs run with skb->dev the other device: its namespace answers their helpers.
		tc, err := n.hook(n.attached(d.ifindex, t), nil, d.peer.ns)
		if err != nil {
			return fmt.Errorf("%s %s: %w", d.name, attachName(t), err)
		}
		d.nk = tc
	}
	return nil
}

// attached lists the programs on an attach point in the order the registry holds them.
func (n *Network) attached(ifindex uint32, t ebpf.AttachType) []*Program {
	var out []*Program
	for _, it := range n.reg.Programs(ifindex, t) {
		out = append(out, n.progs[it.Prog])
	}
	return out
}

// hook prepares a hook's programs (those on a tcx or netkit attach point, then classic tc ones)
// to run on the network's skb, with the helpers answering from ns.
func (n *Network) hook(mprog, classic []*Program, ns *netNS) (*TC, error) {
	if len(mprog)+len(classic) == 0 {
		return nil, nil
	}
	t, err := newTC(n.skb, mprog, classic)
	if err != nil {
		return nil, err
	}
	t.SetHost(ns.host)
	t.SetSeed(n.seed)
	t.resolve = func(r *TCRedirect) { n.resolveRedirect(ns, r) }
	return t, nil
}

// Machines lists the machines every program of the network runs on, so that engines, budgets and
// traces can be set on each. It builds the network first.
func (n *Network) Machines() ([]*vm.Machine, error) {
	if err := n.Build(); err != nil {
		return nil, err
	}
	var out []*vm.Machine
	seen := map[*vm.Machine]bool{}
	add := func(m *vm.Machine) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, d := range n.devs {
		if d.xdp != nil {
			for _, m := range d.xdp.Machines() {
				add(m)
			}
		}
		for _, t := range []*TC{d.hooks[0], d.hooks[1], d.nk} {
			if t != nil {
				for _, m := range t.Machines() {
					add(m)
				}
			}
		}
	}
	return out, nil
}

// Place is where a Network runs a program: the device, the hook ("xdp", "tc-ingress",
// "tc-egress" or "netkit", as a Hop names it) and, for an XDP program in libxdp's dispatcher, its
// slot (-1 otherwise).
type Place struct {
	Program *Program
	Device  string
	Hook    string
	Slot    int
	// TCX says a tc hook's program is attached through tcx (bpf_mprog), whose return values are
	// TCX_*; a classic cls_bpf program's are TC_ACT_*.
	TCX bool
}

// String says where the program runs: "eth0 tc-ingress", "slot 1 of eth0's dispatcher".
func (p Place) String() string {
	if p.Slot >= 0 {
		return fmt.Sprintf("slot %d of %s's dispatcher", p.Slot, p.Device)
	}
	return p.Device + " " + p.Hook
}

// Places lists every program of the network where it runs, device by device in the order they
// were added, each device's hooks in the order a received packet meets them (XDP, tc ingress, tc
// egress, netkit). It builds the network first.
func (n *Network) Places() ([]Place, error) {
	if err := n.Build(); err != nil {
		return nil, err
	}
	var out []Place
	for _, d := range n.devs {
		if d.xdp != nil {
			slots := d.xdp.Dispatcher() != nil
			for i, p := range d.xdp.Programs() {
				pl := Place{Program: p, Device: d.name, Hook: "xdp", Slot: -1}
				if slots {
					pl.Slot = i
				}
				out = append(out, pl)
			}
		}
		for i, t := range []*TC{d.hooks[0], d.hooks[1], d.nk} {
			if t == nil {
				continue
			}
			hook := [...]string{"tc-ingress", "tc-egress", "netkit"}[i]
			// A tc hook runs its tcx programs first, then the classic ones (see buildDev).
			tcx := 0
			if i < 2 {
				tcx = len(n.attached(d.ifindex, [...]ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress}[i]))
			}
			for j, p := range t.Programs() {
				out = append(out, Place{Program: p, Device: d.name, Hook: hook, Slot: -1, TCX: j < tcx})
			}
		}
	}
	return out, nil
}

// Objects lists the objects of the network's programs, each once, in the order they were first
// attached.
func (n *Network) Objects() []*Object {
	var out []*Object
	seen := map[*Object]bool{}
	add := func(p *Program) {
		if !seen[p.obj] {
			seen[p.obj] = true
			out = append(out, p.obj)
		}
	}
	for _, d := range n.devs {
		for _, a := range d.xdpAtts {
			add(a.Program)
		}
	}
	ids := make([]uint32, 0, len(n.progs))
	for id := range n.progs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	for _, id := range ids {
		add(n.progs[id])
	}
	for _, d := range n.devs {
		for _, ps := range d.classic {
			for _, p := range ps {
				add(p)
			}
		}
	}
	return out
}

// DeviceNames lists the network's devices in the order they were added.
func (n *Network) DeviceNames() []string {
	out := make([]string, len(n.devs))
	for i, d := range n.devs {
		out[i] = d.name
	}
	return out
}

// NamespaceNames lists the namespaces, "host" first.
func (n *Network) NamespaceNames() []string {
	out := make([]string, len(n.nss))
	for i, ns := range n.nss {
		out[i] = ns.name
	}
	return out
}
