package sim_test

import (
	"fmt"
	"net"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/device"
	"github.com/xdpsim/xdpsim/sim/topology"
)

// A pod behind an L3 netkit pair whose default policies drop, two programs on the pod's egress in
// bpf_mprog order (pod_count attached before pod_allow), and a TCP packet the pod sends to port 53
// (pod_allow passes UDP 53 only): both programs return NETKIT_NEXT, which passes whatever the
// policy, and the host forwards the packet out of eth0.
func ExampleNetwork() {
	obj, err := sim.Load("../corpus/netkit/l3_policy.o", sim.LoadOptions{})
	if err != nil {
		panic(err)
	}
	count, _ := obj.FindProgram("pod_count")
	allow, _ := obj.FindProgram("pod_allow")

	n := sim.NewNetwork()
	_ = n.AddNamespace(sim.NamespaceConfig{Name: "host", Forwarding: true,
		Routes:     []sim.HostRoute{{Dst: "0.0.0.0/0", Via: "10.0.0.254", Dev: "eth0"}, {Dst: "10.1.0.2/32", Dev: "nk0"}},
		Neighbours: []sim.HostNeigh{{IP: "10.0.0.254", MAC: "02:00:00:00:00:fe", Dev: "eth0"}}})
	_ = n.AddNamespace(sim.NamespaceConfig{Name: "pod", Routes: []sim.HostRoute{{Dst: "0.0.0.0/0", Dev: "nk0p"}}})
	_ = n.AddNIC(sim.DeviceConfig{Name: "eth0", Ifindex: 2, MAC: "02:00:00:00:00:01", Addresses: []string{"10.0.0.1/24"}}, nil)
	cfg := device.DefaultNetkitConfig()
	cfg.Policy, cfg.PeerPolicy = device.NetkitDrop, device.NetkitDrop
	_ = n.AddNetkit(sim.DeviceConfig{Name: "nk0", Ifindex: 10},
		sim.DeviceConfig{Name: "nk0p", Ifindex: 11, Namespace: "pod", Addresses: []string{"10.1.0.2/32"}}, cfg)
	_ = n.Attach("nk0", ebpf.AttachNetkitPeer, allow, sim.MprogOptions{})
	_ = n.Attach("nk0", ebpf.AttachNetkitPeer, count, sim.MprogOptions{Flags: device.FlagBefore, Relative: allow})
	// Attaching through the peer is refused, as the kernel refuses it.
	fmt.Println(n.Attach("nk0p", ebpf.AttachNetkitPeer, count, sim.MprogOptions{}))

	dns := ipv4(make(net.HardwareAddr, 6), make(net.HardwareAddr, 6), "10.1.0.2", "8.8.8.8", 64, 0, 53)
	o := n.Run(dns, nil, sim.Conditions{}, sim.Arrival{Namespace: "pod"})
	for _, h := range o.Network.Path {
		fmt.Println(h.Device, h.Namespace, h.Hook, h.Programs, h.Verdict)
	}
	fmt.Println(o.Network.End.Summary())
	// Output:
	// attach pod_count to nk0p netkit/peer: EACCES: permission denied
	//  pod route [] output
	// nk0p pod netkit [{pod_count -1} {pod_allow -1}] NETKIT_NEXT
	// nk0 host route [] forward
	// eth0 host xmit [] sent
	// sent out of eth0
}

// Where the programs of corpus/netkit/pod-egress.json run: host_mark on eth0's tcx ingress, each
// pair's primary program (pod_ingress) on its host end and each peer program (pod_egress, attached
// through the primary) on the pod's end, where the pod's packets leave.
func ExampleNetwork_Places() {
	topo, err := topology.Load("../corpus/netkit/pod-egress.json", sim.LoadOptions{})
	if err != nil {
		panic(err)
	}
	places, err := topo.Network.Places()
	if err != nil {
		panic(err)
	}
	for _, p := range places {
		fmt.Printf("%s: %s", p, p.Program.Name)
		if p.TCX {
			fmt.Print(" (through tcx)")
		}
		fmt.Println()
	}
	// Output:
	// eth0 tc-ingress: host_mark (through tcx)
	// nk0 netkit: pod_ingress
	// nk0p netkit: pod_egress
	// nk1 netkit: pod_ingress
	// nk1p netkit: pod_egress
}
