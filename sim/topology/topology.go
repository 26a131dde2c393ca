// Package topology reads a small host to simulate from a JSON file and builds it as a
// sim.Network: network namespaces with routes and neighbours, devices (NICs with a profile, queues
// and RSS; veth pairs; netkit pairs), what is attached where, devmap entries naming devices, and
// which device (or namespace) each trace arrives on. xdpsim run --topology FILE reads one.
//
// The file is JSON, like --host's: the format is small and flat, and JSON needs no dependency
// beyond the standard library (YAML would, for no gain in what can be said). Unknown keys are
// errors, so a typo does not pass for a default. Paths of objects are relative to the file.
//
//	{
//	  "namespaces": [
//	    {"name": "host", "forwarding": true,
//	     "routes": [{"dst": "0.0.0.0/0", "via": "10.0.0.254", "dev": "eth0"},
//	                {"dst": "10.1.0.2/32", "dev": "nk0"}],
//	     "neighbours": [{"ip": "10.0.0.254", "mac": "02:00:00:00:00:fe", "dev": "eth0"}]},
//	    {"name": "pod1", "routes": [{"dst": "0.0.0.0/0", "dev": "nk0p"}]}
//	  ],
//	  "devices": [
//	    {"name": "eth0", "kind": "nic", "ifindex": 2, "mac": "02:00:00:00:00:01",
//	     "addresses": ["10.0.0.1/24"], "profile": "mlx5", "queues": 4},
//	    {"name": "nk0", "kind": "netkit", "ifindex": 10, "mode": "l3",
//	     "policy": "pass", "peer_policy": "drop", "scrub": "default", "peer_scrub": "default",
//	     "peer": {"name": "nk0p", "ifindex": 11, "namespace": "pod1", "addresses": ["10.1.0.2/32"]}},
//	    {"name": "veth0", "kind": "veth", "ifindex": 20, "mac": "02:00:00:00:01:01",
//	     "peer": {"name": "veth0p", "ifindex": 21, "namespace": "pod2", "mac": "02:00:00:00:01:02"}}
//	  ],
//	  "attach": [
//	    {"device": "eth0", "hook": "xdp", "program": "fw.o:xdp_fw"},
//	    {"device": "eth0", "hook": "tcx/ingress", "program": "pol.o:host_in"},
//	    {"device": "eth0", "hook": "tcx/ingress", "program": "pol.o:mon", "before": "pol.o:host_in"},
//	    {"device": "eth0", "hook": "tc/egress", "program": "qos.o"},
//	    {"device": "nk0", "hook": "netkit/peer", "program": "pol.o:pod_egress", "link": "egress"},
//	    {"device": "nk0", "hook": "netkit/primary", "program": "pol.o:pod_ingress", "revision": 1}
//	  ],
//	  "devmaps": [{"object": "fw.o", "map": "tx_ports", "key": 0, "device": "veth0"}],
//	  "cpumaps": [{"object": "fw.o", "map": "cpus", "cpu": 1, "qsize": 192}],
//	  "arrivals": [{"match": "pod1-*.pcap", "namespace": "pod1"}, {"device": "eth0"}]
//	}
//
// Devices: "nic" (profile, queues and rss_key as --device, --queues and --rss-key; default the
// veth profile), "veth" and "netkit" pairs (the peer's fields as a device's; netkit: "mode" l2 or
// l3, default l3, "policy" and "peer_policy" pass or drop, "scrub" and "peer_scrub" default or
// none, "headroom" and "tailroom"). "down": true leaves a device down. Ifindexes are unique in the
// whole file.
//
// Attach entries run in the order given, each as the kernel's attach call would: "xdp" (several on
// one device go through libxdp's dispatcher, in run-priority order: "priority", "actions" and
// "frags_aware" override a program's run configuration as libxdp's API does; a device's
// "libxdp" says which libxdp's dispatcher, 1.3.1 or 1.5.5), "tcx/ingress" and "tcx/egress" (bpf_mprog:
// "before", "after" and "replace" name programs, "before_link"/"after_link" links, "revision"
// is the expected revision, "link" attaches through a named bpf_link), "tc/ingress" and
// "tc/egress" (classic cls_bpf in direct-action mode, after the tcx programs), "netkit/primary"
// and "netkit/peer" (on the primary device, as the kernel requires; bpf_mprog as for tcx). A
// program is "OBJECT.o" (its only program that fits the hook) or "OBJECT.o:NAME".
//
// Arrivals say where each trace enters: a device receives it (a NIC from the wire; a veth or
// netkit device as from its peer), or transmits it as a packet socket would ("transmit": true: its
// tc egress hook, then the device), or a namespace's stack sends it; "match" selects traces by file
// name (a path.Match pattern on the base name); the first arrival that matches is used.
package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/jsonfile"
)

// File is a topology file as it is written.
type File struct {
	Namespaces []Namespace   `json:"namespaces"`
	Devices    []Device      `json:"devices"`
	Attach     []Attach      `json:"attach"`
	Devmaps    []Devmap      `json:"devmaps"`
	CPUMaps    []CPUMap      `json:"cpumaps"`
	Arrivals   []sim.Arrival `json:"arrivals"`
	// MaxHops bounds the hooks and devices a packet may pass (default sim.DefaultMaxHops).
	MaxHops int `json:"max_hops,omitempty"`
}

// Namespace is a network namespace: "host" exists without being named.
type Namespace struct {
	Name       string          `json:"name"`
	Forwarding bool            `json:"forwarding"`
	Routes     []sim.HostRoute `json:"routes"`
	Neighbours []sim.HostNeigh `json:"neighbours"`
}

// Device is a NIC, or the first device of a veth or netkit pair (Peer the other).
type Device struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Ifindex   uint32   `json:"ifindex"`
	Namespace string   `json:"namespace,omitempty"`
	MAC       string   `json:"mac,omitempty"`
	MTU       uint32   `json:"mtu,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	Down      bool     `json:"down,omitempty"`
	// NIC.
	Profile string `json:"profile,omitempty"`
	Queues  int    `json:"queues,omitempty"`
	RSSKey  string `json:"rss_key,omitempty"`
	// Pairs.
	Peer *Device `json:"peer,omitempty"`
	// netkit.
	Mode       *device.NetkitMode   `json:"mode,omitempty"`
	Policy     *device.NetkitAction `json:"policy,omitempty"`
	PeerPolicy *device.NetkitAction `json:"peer_policy,omitempty"`
	Scrub      *device.NetkitScrub  `json:"scrub,omitempty"`
	PeerScrub  *device.NetkitScrub  `json:"peer_scrub,omitempty"`
	Headroom   uint16               `json:"headroom,omitempty"`
	Tailroom   uint16               `json:"tailroom,omitempty"`
	// LibXDP is the libxdp whose dispatcher attaches several XDP programs: "1.3.1" (the
	// default, Debian 12's) or "1.5.5".
	LibXDP string `json:"libxdp,omitempty"`
}

// Attach is one attach call.
type Attach struct {
	Device  string `json:"device"`
	Hook    string `json:"hook"`
	Program string `json:"program"`
	// bpf_mprog (tcx and netkit).
	Before     string `json:"before,omitempty"`
	After      string `json:"after,omitempty"`
	BeforeLink string `json:"before_link,omitempty"`
	AfterLink  string `json:"after_link,omitempty"`
	Replace    string `json:"replace,omitempty"`
	Revision   uint64 `json:"revision,omitempty"`
	Link       string `json:"link,omitempty"`
	// XDP through libxdp's dispatcher: the run priority and chain-call actions (a list of XDP
	// action names, "" for none) that override the program's BTF run configuration, and whether
	// the application marks the program frags-aware.
	Priority   *uint32 `json:"priority,omitempty"`
	Actions    *string `json:"actions,omitempty"`
	FragsAware bool    `json:"frags_aware,omitempty"`
}

// Devmap fills a devmap entry with a device by name.
type Devmap struct {
	Object string `json:"object"`
	Map    string `json:"map"`
	Key    uint32 `json:"key"`
	Device string `json:"device"`
}

// CPUMap fills a cpumap entry: the CPU (the key) and its queue size.
type CPUMap struct {
	Object string `json:"object"`
	Map    string `json:"map"`
	CPU    uint32 `json:"cpu"`
	QSize  uint32 `json:"qsize"`
}

// Topology is a topology file built: the network, its arrivals and the objects it loaded.
type Topology struct {
	Path     string
	Network  *sim.Network
	Arrivals []sim.Arrival
	// Objects are the loaded objects by path as the file names them.
	Objects map[string]*sim.Object
	// Order lists the objects' names in the order the file first names them.
	Order []string
}

// Read parses a topology file without building it.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, jsonfile.Explain(b, err))
	}
	return &f, nil
}

// Load reads a topology file and builds it, loading every object it names with opts.
func Load(path string, opts sim.LoadOptions) (*Topology, error) {
	f, err := Read(path)
	if err != nil {
		return nil, err
	}
	t, err := f.Build(filepath.Dir(path), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// Build builds the network the file describes; object paths are relative to dir.
func (f *File) Build(dir string, opts sim.LoadOptions) (*Topology, error) {
	t := &Topology{Network: sim.NewNetwork(), Objects: map[string]*sim.Object{}}
	n := t.Network
	if f.MaxHops < 0 {
		return nil, fmt.Errorf("max_hops %d: want a positive bound", f.MaxHops)
	}
	if f.MaxHops > 0 {
		n.MaxHops = f.MaxHops
	}
	for i, ns := range f.Namespaces {
		if err := n.AddNamespace(sim.NamespaceConfig{Name: ns.Name, Forwarding: ns.Forwarding, Routes: ns.Routes, Neighbours: ns.Neighbours}); err != nil {
			return nil, fmt.Errorf("namespaces[%d]: %w", i, err)
		}
	}
	for i, d := range f.Devices {
		if err := addDevice(n, d); err != nil {
			return nil, fmt.Errorf("devices[%d] (%s): %w", i, d.Name, err)
		}
	}
	load := func(name string) (*sim.Object, error) {
		if o := t.Objects[name]; o != nil {
			return o, nil
		}
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		o, err := sim.Load(p, opts)
		if err != nil {
			return nil, err
		}
		t.Objects[name] = o
		t.Order = append(t.Order, name)
		return o, nil
	}
	xdp := map[string][]sim.Attachment{}
	var xdpOrder []string
	for i, a := range f.Attach {
		if err := t.attach(a, load, xdp, &xdpOrder); err != nil {
			return nil, fmt.Errorf("attach[%d] (%s on %s %s): %w", i, a.Program, a.Device, a.Hook, err)
		}
	}
	for _, dev := range xdpOrder {
		version := "1.3.1"
		for _, d := range f.Devices {
			if d.Name == dev && d.LibXDP != "" {
				version = d.LibXDP
			}
		}
		opts, err := device.LibXDPOptions(version)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", dev, err)
		}
		if err := n.AttachXDP(dev, opts, xdp[dev]...); err != nil {
			return nil, err
		}
	}
	for i, m := range f.Devmaps {
		o, err := load(m.Object)
		if err != nil {
			return nil, fmt.Errorf("devmaps[%d]: %w", i, err)
		}
		if err := n.SetDevmap(o, m.Map, m.Key, m.Device); err != nil {
			return nil, fmt.Errorf("devmaps[%d]: %w", i, err)
		}
	}
	for i, m := range f.CPUMaps {
		o, err := load(m.Object)
		if err != nil {
			return nil, fmt.Errorf("cpumaps[%d]: %w", i, err)
		}
		if err := n.SetCPUMap(o, m.Map, m.CPU, m.QSize); err != nil {
			return nil, fmt.Errorf("cpumaps[%d]: %w", i, err)
		}
	}
	if len(f.Arrivals) == 0 {
		return nil, errors.New("no arrivals: say which device (or namespace) the traces arrive on")
	}
	for i, a := range f.Arrivals {
		if (a.Device == "") == (a.Namespace == "") {
			return nil, fmt.Errorf("arrivals[%d]: name a device or a namespace", i)
		}
		if a.Transmit && a.Device == "" {
			return nil, fmt.Errorf("arrivals[%d]: transmit names the device that sends", i)
		}
		if a.Device != "" && !contains(n.DeviceNames(), a.Device) {
			return nil, fmt.Errorf("arrivals[%d]: no device %q", i, a.Device)
		}
		if a.Namespace != "" && !contains(n.NamespaceNames(), a.Namespace) {
			return nil, fmt.Errorf("arrivals[%d]: no namespace %q", i, a.Namespace)
		}
	}
	t.Arrivals = f.Arrivals
	if err := n.Build(); err != nil {
		return nil, err
	}
	// Control maps (--feature control-map) reach the topology's devices.
	devs := n.Netdevs()
	for _, o := range t.Objects {
		o.SetDevices(devs)
	}
	return t, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addDevice adds one device (or pair) to the network.
func addDevice(n *sim.Network, d Device) error {
	cfg := func(d Device) sim.DeviceConfig {
		return sim.DeviceConfig{Name: d.Name, Ifindex: d.Ifindex, Namespace: d.Namespace, MAC: d.MAC, MTU: d.MTU, Addresses: d.Addresses, Down: d.Down}
	}
	isNetkit := d.Mode != nil || d.Policy != nil || d.PeerPolicy != nil || d.Scrub != nil || d.PeerScrub != nil || d.Headroom != 0 || d.Tailroom != 0
	if isNetkit && d.Kind != sim.KindNetkit {
		return fmt.Errorf("mode, policies, scrub, headroom and tailroom are netkit's, and this is a %q device", d.Kind)
	}
	if (d.Profile != "" || d.Queues != 0 || d.RSSKey != "") && d.Kind != sim.KindNIC {
		return fmt.Errorf("profile, queues and rss_key are a NIC's, and this is a %q device", d.Kind)
	}
	switch d.Kind {
	case sim.KindNIC:
		if d.Peer != nil {
			return errors.New("a NIC has no peer")
		}
		name := d.Profile
		if name == "" {
			name = device.DefaultProfile
		}
		p, err := device.LookupProfile(name)
		if err != nil {
			return fmt.Errorf("profile %s: %w", name, err)
		}
		nic := device.NewNetdev(p)
		if d.Queues != 0 {
			if err := nic.SetRxQueues(d.Queues); err != nil {
				return fmt.Errorf("queues: %w", err)
			}
		}
		if d.RSSKey != "" {
			k, err := parseHex(d.RSSKey)
			if err != nil || len(k) < 4 {
				return fmt.Errorf("rss_key %q: want at least 4 bytes of hex", d.RSSKey)
			}
			nic.SetRSSKey(k)
		}
		return n.AddNIC(cfg(d), nic)
	case sim.KindVeth, sim.KindNetkit:
		if d.Peer == nil {
			return fmt.Errorf("a %s device needs its peer", d.Kind)
		}
		if d.Peer.Peer != nil || d.Peer.Kind != "" {
			return errors.New("the peer takes a device's name, ifindex, namespace, mac, mtu, addresses and down only")
		}
		if d.Kind == sim.KindVeth {
			return n.AddVeth(cfg(d), cfg(*d.Peer))
		}
		c := device.DefaultNetkitConfig()
		if d.Mode != nil {
			c.Mode = *d.Mode
		}
		if d.Policy != nil {
			c.Policy = *d.Policy
		}
		if d.PeerPolicy != nil {
			c.PeerPolicy = *d.PeerPolicy
		}
		if d.Scrub != nil {
			c.Scrub = *d.Scrub
		}
		if d.PeerScrub != nil {
			c.PeerScrub = *d.PeerScrub
		}
		c.Headroom, c.Tailroom = d.Headroom, d.Tailroom
		return n.AddNetkit(cfg(d), cfg(*d.Peer), c)
	}
	return fmt.Errorf("kind %q: want nic, veth or netkit", d.Kind)
}

func parseHex(s string) ([]byte, error) {
	b := make([]byte, 0, len(s)/2)
	s = strings.TrimPrefix(strings.ReplaceAll(s, ":", ""), "0x")
	for i := 0; i+1 < len(s); i += 2 {
		var v byte
		if _, err := fmt.Sscanf(s[i:i+2], "%02x", &v); err != nil {
			return nil, err
		}
		b = append(b, v)
	}
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	return b, nil
}

// hooks maps the file's hook names to what they attach.
var hooks = map[string]ebpf.AttachType{
	"tcx/ingress":    ebpf.AttachTCXIngress,
	"tcx/egress":     ebpf.AttachTCXEgress,
	"netkit/primary": ebpf.AttachNetkitPrimary,
	"netkit/peer":    ebpf.AttachNetkitPeer,
}

// attach makes one attach call.
func (t *Topology) attach(a Attach, load func(string) (*sim.Object, error), xdp map[string][]sim.Attachment, xdpOrder *[]string) error {
	n := t.Network
	prog := func(spec string, want ebpf.ProgramType, hook string) (*sim.Program, error) {
		path, name := splitProgram(spec)
		o, err := load(path)
		if err != nil {
			return nil, err
		}
		if name == "" {
			var fits []string
			for _, c := range o.Spec.Programs {
				if c.Type == want && fitsHook(c, hook) {
					fits = append(fits, c.Name)
				}
			}
			if len(fits) != 1 {
				return nil, fmt.Errorf("%s holds %d programs for %s (%s): name one as %s:NAME", path, len(fits), hook, strings.Join(fits, ", "), path)
			}
			name = fits[0]
		}
		p, err := o.FindProgram(name)
		if err != nil {
			return nil, err
		}
		if p.Type != want {
			return nil, fmt.Errorf("%s is a %s program; %s takes %s programs", p.Name, p.Type, hook, want)
		}
		return p, nil
	}
	switch a.Hook {
	case "xdp":
		if a.Before+a.After+a.BeforeLink+a.AfterLink+a.Replace+a.Link != "" || a.Revision != 0 {
			return errors.New("the XDP hook takes no bpf_mprog options (its order is libxdp's, by run priority)")
		}
		p, err := prog(a.Program, ebpf.XDP, a.Hook)
		if err != nil {
			return err
		}
		att := sim.Attachment{Program: p}
		att.Override.Priority = a.Priority
		if a.Actions != nil {
			acts, err := device.ParseActions(*a.Actions)
			if err != nil {
				return err
			}
			att.Override.Actions = &acts
		}
		if a.FragsAware {
			yes := true
			att.Override.Frags = &yes
		}
		if _, seen := xdp[a.Device]; !seen {
			*xdpOrder = append(*xdpOrder, a.Device)
		}
		xdp[a.Device] = append(xdp[a.Device], att)
		return nil
	case "tc/ingress", "tc/egress":
		if a.Before+a.After+a.BeforeLink+a.AfterLink+a.Replace+a.Link != "" || a.Revision != 0 {
			return errors.New("classic tc (cls_bpf) takes no bpf_mprog options: its programs run in the order given, after the tcx programs")
		}
		if a.Priority != nil || a.Actions != nil || a.FragsAware {
			return errors.New("priority, actions and frags_aware are libxdp's, for the XDP hook")
		}
		p, err := prog(a.Program, ebpf.SchedCLS, a.Hook)
		if err != nil {
			return err
		}
		return n.AttachTC(a.Device, a.Hook == "tc/ingress", p)
	}
	typ, ok := hooks[a.Hook]
	if !ok {
		return fmt.Errorf("hook %q: want xdp, tcx/ingress, tcx/egress, tc/ingress, tc/egress, netkit/primary or netkit/peer", a.Hook)
	}
	if a.Priority != nil || a.Actions != nil || a.FragsAware {
		return errors.New("priority, actions and frags_aware are libxdp's, for the XDP hook")
	}
	p, err := prog(a.Program, ebpf.SchedCLS, a.Hook)
	if err != nil {
		return err
	}
	o := sim.MprogOptions{ExpectedRevision: a.Revision, Link: a.Link}
	rels := 0
	for _, r := range []struct {
		spec, link string
		flag       uint32
	}{{a.Before, "", device.FlagBefore}, {a.After, "", device.FlagAfter}, {"", a.BeforeLink, device.FlagBefore}, {"", a.AfterLink, device.FlagAfter}} {
		if r.spec == "" && r.link == "" {
			continue
		}
		rels++
		o.Flags |= r.flag
		if r.link != "" {
			o.RelativeLink = r.link
			continue
		}
		// "first" and "last" are before and after without a relative program.
		if r.spec == "first" || r.spec == "last" {
			continue
		}
		if o.Relative, err = prog(r.spec, ebpf.SchedCLS, a.Hook); err != nil {
			return err
		}
	}
	if rels > 1 {
		return errors.New("give one of before, after, before_link and after_link (bpf_mprog takes one relative object)")
	}
	if a.Replace != "" {
		o.Flags |= device.FlagReplace
		if o.Replace, err = prog(a.Replace, ebpf.SchedCLS, a.Hook); err != nil {
			return err
		}
	}
	return n.Attach(a.Device, typ, p, o)
}

// fitsHook says whether a program's section suits a hook, for picking an object's only program.
func fitsHook(ps *ebpf.ProgramSpec, hook string) bool {
	switch hook {
	case "xdp":
		return ps.Type == ebpf.XDP
	case "tc/ingress", "tc/egress":
		return ps.AttachType != ebpf.AttachTCXIngress && ps.AttachType != ebpf.AttachTCXEgress &&
			ps.AttachType != ebpf.AttachNetkitPrimary && ps.AttachType != ebpf.AttachNetkitPeer
	}
	return ps.AttachType == hooks[hook]
}

// splitProgram splits "OBJECT.o:NAME".
func splitProgram(spec string) (string, string) {
	if i := strings.LastIndexByte(spec, ':'); i > 0 && !strings.ContainsRune(spec[i+1:], '/') {
		return spec[:i], spec[i+1:]
	}
	return spec, ""
}

// Arrival is the arrival for a trace file: the first that matches it.
func (t *Topology) Arrival(file string) (sim.Arrival, error) {
	if a, ok := sim.ArrivalFor(t.Arrivals, file); ok {
		return a, nil
	}
	return sim.Arrival{}, fmt.Errorf("%s: no arrival in %s matches this trace", file, t.Path)
}
