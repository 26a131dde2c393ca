package topology_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/topology"
)

const setups = "../../corpus/netkit/"

// frames reads a trace's records.
func frames(t testing.TB, name string) [][]byte {
	t.Helper()
	var out [][]byte
	err := replay.ReadAll([]string{setups + name}, func(r *replay.Record) error {
		out = append(out, append([]byte(nil), r.Data...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func load(t testing.TB, name string) *topology.Topology {
	t.Helper()
	tp, err := topology.Load(setups+name, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// The corpus setups, each packet of their traces with the end it is built for (the trace
// generator's comments say why, from the programs' C and the kernel's rules).
func TestTheNetkitSetupsTakeEachPacketWhereItsProgramsAndTheKernelSendIt(t *testing.T) {
	cases := []struct {
		setup, trace string
		ends         []string
	}{
		{"pod-egress.json", "pod-egress.pod1.pcap", []string{"sent out of eth0", "dropped at nk0p", "delivered to pod2", "sent out of eth0", "dropped at nk1"}},
		{"pod-egress.json", "pod-egress.wire.pcap", []string{"delivered to pod1", "delivered to pod2", "dropped at nk0", "delivered to host", "dropped at host"}},
		{"l3-policy.json", "l3-policy.pod.pcap", []string{"sent out of eth0", "sent out of eth0", "dropped at nk0p", "sent out of eth0", "sent out of eth0"}},
		{"l3-policy.json", "l3-policy.wire.pcap", []string{"dropped at nk0", "delivered to host"}},
	}
	for _, c := range cases {
		t.Run(c.trace, func(t *testing.T) {
			tp := load(t, c.setup)
			a, err := tp.Arrival(c.trace)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range frames(t, c.trace) {
				o := tp.Network.Run(f, nil, sim.Conditions{}, a)
				if o.Err != "" {
					t.Fatalf("packet %d: %s", i+1, o.Err)
				}
				if got := o.Network.End.Summary(); got != c.ends[i] {
					t.Errorf("packet %d: %s (%s), want %s; path %s", i+1, got, o.Network.End.Reason, c.ends[i], replay.PathLine(o.Network))
				}
			}
		})
	}
}

func TestPodEgressShowsWhatScrubbingLeavesOfMarkAndPriority(t *testing.T) {
	// host_mark marks packets to the pods 0x77; ip_forward gives TOS 0x10 priority 6. nk0
	// scrubs (default) when the packet crosses into pod1: mark and priority 0; nk1 is
	// "scrub": "none": pod2's side sees both. nk_seen is keyed by the peer's ifindex.
	tp := load(t, "pod-egress.json")
	a, _ := tp.Arrival("pod-egress.wire.pcap")
	for _, f := range frames(t, "pod-egress.wire.pcap")[:2] {
		tp.Network.Run(f, nil, sim.Conditions{}, a)
	}
	seen := tp.Objects["pod_egress.o"].Maps["nk_seen"]
	for _, c := range []struct {
		ifindex        uint32
		mark, priority uint32
	}{{11, 0, 0}, {13, 0x77, 6}} {
		k := make([]byte, 4)
		binary.LittleEndian.PutUint32(k, c.ifindex)
		v, err := seen.Lookup(k, 0)
		if err != nil {
			t.Fatalf("ifindex %d: %v", c.ifindex, err)
		}
		mark, prio, iif := binary.LittleEndian.Uint32(v), binary.LittleEndian.Uint32(v[4:]), binary.LittleEndian.Uint32(v[8:])
		if mark != c.mark || prio != c.priority || iif != 0 {
			t.Errorf("ifindex %d: mark %#x, priority %d, ingress_ifindex %d; want %#x, %d, 0", c.ifindex, mark, prio, iif, c.mark, c.priority)
		}
	}
}

func TestTopologyFilesAreCheckedAsTheKernelWould(t *testing.T) {
	dir := t.TempDir()
	obj, err := filepath.Abs(setups + "pod_egress.o")
	if err != nil {
		t.Fatal(err)
	}
	base := `"devices": [{"name": "eth0", "kind": "nic", "ifindex": 2, "mac": "02:00:00:00:00:01"},
	  {"name": "nk0", "kind": "netkit", "ifindex": 10, "peer": {"name": "nk0p", "ifindex": 11}%s}]`
	cases := []struct {
		name, body string
		errIs      error
		msg        string
	}{
		{"a netkit program attached through the peer is refused with EACCES",
			`{` + strings.Replace(base, "%s", "", 1) + `, "attach": [{"device": "nk0p", "hook": "netkit/peer", "program": "OBJ:pod_egress"}], "arrivals": [{"device": "eth0"}]}`,
			errno.EACCES, "attach[0] (OBJ:pod_egress on nk0p netkit/peer)"},
		{"a netkit program on a NIC is refused with ENXIO",
			`{` + strings.Replace(base, "%s", "", 1) + `, "attach": [{"device": "eth0", "hook": "netkit/primary", "program": "OBJ:pod_ingress"}], "arrivals": [{"device": "eth0"}]}`,
			errno.ENXIO, ""},
		{"a redirect policy is refused with EINVAL",
			`{` + strings.Replace(base, "%s", `, "policy": "redirect"`, 1) + `, "arrivals": [{"device": "eth0"}]}`,
			errno.EINVAL, "Provided default xmit policy not supported"},
		{"an address on an L3 netkit device is refused with EOPNOTSUPP",
			`{"devices": [{"name": "nk0", "kind": "netkit", "ifindex": 10, "mac": "02:00:00:00:00:05", "peer": {"name": "nk0p", "ifindex": 11}}], "arrivals": [{"device": "nk0"}]}`,
			errno.EOPNOTSUPP, ""},
		{"a stale expected revision is refused with ESTALE",
			`{` + strings.Replace(base, "%s", "", 1) + `, "attach": [{"device": "nk0", "hook": "netkit/primary", "program": "OBJ:pod_ingress", "revision": 2}], "arrivals": [{"device": "eth0"}]}`,
			errno.ESTALE, ""},
		{"more queues than the NIC's driver has is an error",
			`{"devices": [{"name": "eth0", "kind": "nic", "profile": "igc", "queues": 5, "ifindex": 2}], "arrivals": [{"device": "eth0"}]}`,
			nil, "queues: 5 is outside 1 to 4 (igc's most)"},
		{"negative queues are an error",
			`{"devices": [{"name": "eth0", "kind": "nic", "queues": -1, "ifindex": 2}], "arrivals": [{"device": "eth0"}]}`,
			nil, "queues: -1 is outside 1 to"},
		{"an unknown key is an error", `{"device": []}`, nil, `unknown field "device"`},
		{"a file without arrivals is an error", `{` + strings.Replace(base, "%s", "", 1) + `}`, nil, "no arrivals"},
		{"classic tc takes no mprog options", `{` + strings.Replace(base, "%s", "", 1) + `, "attach": [{"device": "eth0", "hook": "tc/ingress", "program": "OBJ:host_mark", "before": "first"}], "arrivals": [{"device": "eth0"}]}`,
			nil, "classic tc (cls_bpf) takes no bpf_mprog options"},
		{"an object with several programs for a hook needs a name", `{` + strings.Replace(base, "%s", "", 1) + `, "attach": [{"device": "nk0", "hook": "netkit/primary", "program": "OBJ"}], "arrivals": [{"device": "eth0"}]}`,
			nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "t.json")
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(c.body, "OBJ", obj)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := topology.Load(path, sim.LoadOptions{})
			if err == nil {
				if c.name == "an object with several programs for a hook needs a name" {
					return // pod_egress.o has one netkit/primary program: it is found by itself
				}
				t.Fatal("loaded; want an error")
			}
			if c.errIs != nil && !errors.Is(err, c.errIs) {
				t.Errorf("%v, want %v", err, c.errIs)
			}
			if !strings.Contains(err.Error(), strings.ReplaceAll(c.msg, "OBJ", obj)) || !strings.HasPrefix(err.Error(), path) {
				t.Errorf("%v: want the file named and %q", err, c.msg)
			}
		})
	}
}

// BenchmarkPodEgress replays the pod-egress setup's two traces: ns per packet (each packet
// passes two to five hooks and decisions) and allocations per packet.
func BenchmarkPodEgress(b *testing.B) {
	tp := load(b, "pod-egress.json")
	var pkts [][]byte
	var arrivals []sim.Arrival
	for _, tr := range []string{"pod-egress.pod1.pcap", "pod-egress.wire.pcap"} {
		a, _ := tp.Arrival(tr)
		for _, f := range frames(b, tr) {
			pkts, arrivals = append(pkts, f), append(arrivals, a)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % len(pkts)
		tp.Network.Run(pkts[k], nil, sim.Conditions{}, arrivals[k])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

func TestDevmapAndCPUMapEntriesNameDevicesAndCPUs(t *testing.T) {
	// The corpus devmap program sends IPv4 to ports[last octet % 16]; the entries name a NIC
	// (ndo_xdp_xmit sends the frame) and a veth end whose peer has no XDP program (veth_xdp_xmit
	// fails with ENXIO). The cpumap program steers by flow hash to cpus[...]; with every CPU's
	// entry filled, the frame is received again on eth0, on that CPU, and the host delivers it.
	dir := t.TempDir()
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	devmap, cpumap := abs("../../corpus/devmap.v4.o"), abs("../../corpus/cpumap.v4.o")
	file := filepath.Join(dir, "t.json")
	body := `{
	  "namespaces": [{"name": "host"}],
	  "devices": [
	    {"name": "eth0", "kind": "nic", "ifindex": 2, "mac": "02:00:00:00:00:01", "addresses": ["10.9.9.1/24"]},
	    {"name": "eth1", "kind": "nic", "ifindex": 3, "mac": "02:00:00:00:00:02"},
	    {"name": "eth2", "kind": "nic", "ifindex": 4, "mac": "02:00:00:00:00:03", "addresses": ["10.9.8.1/24"]},
	    {"name": "veth0", "kind": "veth", "ifindex": 20, "mac": "02:00:00:00:01:01", "peer": {"name": "veth0p", "ifindex": 21, "mac": "02:00:00:00:01:02"}}
	  ],
	  "attach": [{"device": "eth0", "hook": "xdp", "program": "DEVMAP"}, {"device": "eth2", "hook": "xdp", "program": "CPUMAP"}],
	  "devmaps": [{"object": "DEVMAP", "map": "ports", "key": 3, "device": "eth1"}, {"object": "DEVMAP", "map": "ports", "key": 5, "device": "veth0"}],
	  "cpumaps": [{"object": "CPUMAP", "map": "cpus", "cpu": 0, "qsize": 64}, {"object": "CPUMAP", "map": "cpus", "cpu": 1, "qsize": 64},
	              {"object": "CPUMAP", "map": "cpus", "cpu": 2, "qsize": 64}, {"object": "CPUMAP", "map": "cpus", "cpu": 3, "qsize": 64}],
	  "arrivals": [{"match": "eth2*", "device": "eth2"}, {"device": "eth0"}]
	}`
	body = strings.ReplaceAll(strings.ReplaceAll(body, "DEVMAP", devmap), "CPUMAP", cpumap)
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tp, err := topology.Load(file, sim.LoadOptions{CPUs: 4})
	if err != nil {
		t.Fatal(err)
	}
	pkt := func(dst string, a sim.Arrival) []byte {
		mac := "02:00:00:00:00:01"
		if a.Device == "eth2" {
			mac = "02:00:00:00:00:03"
		}
		return udp4(t, "02:00:00:00:00:fe", mac, "10.9.9.7", dst)
	}
	for _, c := range []struct {
		dst, end, reason string
		arrival          sim.Arrival
	}{
		{"10.9.9.3", "sent out of eth1", "", sim.Arrival{Device: "eth0"}},
		{"10.9.9.5", "dropped at eth0", "its peer veth0p runs no NAPI (no XDP program), so veth_xdp_xmit fails with ENXIO", sim.Arrival{Device: "eth0"}},
		{"10.9.9.1", "delivered to host", "", sim.Arrival{Device: "eth0"}},
		{"10.9.8.1", "delivered to host", "", sim.Arrival{Device: "eth2"}},
	} {
		o := tp.Network.Run(pkt(c.dst, c.arrival), nil, sim.Conditions{}, c.arrival)
		if o.Err != "" || o.Network.End.Summary() != c.end || !strings.Contains(o.Network.End.Reason, c.reason) {
			t.Errorf("to %s: %s (%s), want %s; path %s", c.dst, o.Network.End.Summary(), o.Network.End.Reason, c.end, replay.PathLine(o.Network))
		}
		if c.arrival.Device == "eth2" {
			if h := o.Network.Path[0]; h.Hook != "xdp" || !strings.HasPrefix(h.Detail, "cpumap cpus entry") {
				t.Errorf("first hop %+v, want the cpumap redirect", h)
			}
		}
	}
}

// udp4 builds a UDP frame.
func udp4(t *testing.T, src, dst, from, to string) []byte {
	t.Helper()
	s, _ := net.ParseMAC(src)
	d, _ := net.ParseMAC(dst)
	eth := &layers.Ethernet{SrcMAC: s, DstMAC: d, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(from).To4(), DstIP: net.ParseIP(to).To4()}
	u := &layers.UDP{SrcPort: 1000, DstPort: 2000}
	_ = u.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, u, gopacket.Payload("abcd")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzNetworkPaths sends arbitrary frames through the pod-egress setup, from the wire and from a
// pod: every packet's way must end with a known kind, within the hop bound, and a path whose
// hops name a hook.
func FuzzNetworkPaths(f *testing.F) {
	for _, tr := range []string{"pod-egress.pod1.pcap", "pod-egress.wire.pcap"} {
		for _, fr := range frames(f, tr) {
			f.Add(fr, tr == "pod-egress.wire.pcap")
		}
	}
	tp := load(f, "pod-egress.json")
	kinds := map[string]bool{"delivered": true, "sent": true, "dropped": true, "stolen": true, "xsk": true, "fault": true, "loop": true}
	f.Fuzz(func(t *testing.T, frame []byte, wire bool) {
		a := sim.Arrival{Namespace: "pod1"}
		if wire {
			a = sim.Arrival{Device: "eth0"}
		}
		o := tp.Network.Run(frame, nil, sim.Conditions{}, a)
		if o.Network == nil {
			if len(frame) >= 14 {
				t.Fatalf("no path for a %d-byte frame: %s", len(frame), o.Err)
			}
			return
		}
		if !kinds[o.Network.End.Kind] || len(o.Network.Path) > sim.DefaultMaxHops {
			t.Fatalf("end %+v after %d hops", o.Network.End, len(o.Network.Path))
		}
		for _, h := range o.Network.Path {
			if h.Hook == "" || h.Verdict == "" {
				t.Fatalf("hop %+v", h)
			}
		}
	})
}

func TestSeveralXDPProgramsOnADeviceRunThroughLibxdpsDispatcher(t *testing.T) {
	// The corpus's "pipeline" dispatcher set on eth0: the network's XDP hop must list the slots
	// that ran and end in the verdict that sim.NewDispatcher (held to the real libxdp by package
	// kernel's tests) gives for the same frames, programs and priority override.
	set, ok := corpus.LookupDispatcher("pipeline")
	if !ok {
		t.Fatal("no dispatcher set pipeline")
	}
	var attach []string
	var atts []sim.Attachment
	for i, name := range set.Programs {
		p, ok := corpus.Lookup(name)
		if !ok {
			t.Fatalf("no corpus program %s", name)
		}
		extra := ""
		if i == 0 {
			extra = `, "priority": 99`
		}
		attach = append(attach, fmt.Sprintf(`{"device": "eth0", "hook": "xdp", "program": %q%s}`, p.Object("v4")+":"+p.Entry, extra))
		o, err := sim.Load(p.Object("v4"), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		prog, err := o.FindProgram(p.Entry)
		if err != nil {
			t.Fatal(err)
		}
		a := sim.Attachment{Program: prog}
		if i == 0 {
			prio := uint32(99)
			a.Override.Priority = &prio
		}
		atts = append(atts, a)
	}
	file := filepath.Join(t.TempDir(), "t.json")
	body := `{"devices": [{"name": "eth0", "kind": "nic", "ifindex": 2, "mac": "02:00:00:00:00:01"}],
	  "attach": [` + strings.Join(attach, ",") + `], "arrivals": [{"device": "eth0"}]}`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tp, err := topology.Load(file, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := sim.NewDispatcher(atts, device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref.SetDevice(device.NewNetdev(mustProfile(t)))
	verdicts := map[string]int{}
	err = replay.ReadAll([]string{corpus.TracePath("mixed.pcap")}, func(r *replay.Record) error {
		if r.Index > 300 {
			return nil
		}
		cond := sim.Conditions{IngressIfindex: 2, TimeNs: uint64(r.Time.UnixNano())}
		want := ref.Run(r.Data, nil, cond)
		var wantSlots []string
		for _, s := range want.Dispatch {
			wantSlots = append(wantSlots, s.Program)
		}
		o := tp.Network.Run(r.Data, nil, cond, sim.Arrival{Device: "eth0"})
		if want.Err != "" {
			if o.Err == "" {
				t.Errorf("record %d: the dispatcher refused it (%s), the network did not", r.Index, want.Err)
			}
			return nil
		}
		h := o.Network.Path[0]
		var gotSlots []string
		for _, p := range h.Programs {
			gotSlots = append(gotSlots, p.Program)
		}
		if h.Hook != "xdp" || h.Verdict != result.VerdictName(want.Ret) || strings.Join(gotSlots, " ") != strings.Join(wantSlots, " ") {
			t.Errorf("record %d: hop %+v, want %s after slots %v", r.Index, h, result.VerdictName(want.Ret), wantSlots)
		}
		verdicts[h.Verdict]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) < 2 {
		t.Errorf("verdicts %v: the frames should take more than one way through the pipeline", verdicts)
	}
}

func mustProfile(t *testing.T) *device.Profile {
	t.Helper()
	p, err := device.LookupProfile(device.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
