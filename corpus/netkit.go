package corpus

import "path/filepath"

// Rebuild the netkit setups' objects (netkit/NAME.c -> netkit/NAME.o) and traces.
//
//go:generate sh ./netkit/build.sh
//go:generate go run ./cmd/gennetkit -out netkit

// NetkitSetup is a small host with netkit devices: a topology file (for xdpsim run --topology),
// the objects it attaches and the traces meant for it, all under netkit/.
type NetkitSetup struct {
	Name string
	// Topology is the file's name under netkit/.
	Topology string
	// Objects are the C sources' base names (netkit/NAME.c, built into netkit/NAME.o).
	Objects []string
	// Traces are the traces' names under netkit/; each arrives where the topology says.
	Traces []string
	// Covers says in a line what the setup exercises.
	Covers string
}

// NetkitSetups lists the netkit setups in a stable order.
func NetkitSetups() []NetkitSetup {
	return []NetkitSetup{
		{Name: "pod-egress", Topology: "pod-egress.json", Objects: []string{"pod_egress"},
			Traces: []string{"pod-egress.pod1.pcap", "pod-egress.wire.pcap"},
			Covers: "two pods behind L3 netkit pairs: a pod egress policy on the peer (through the primary, in a bpf_link) that drops SSH, passes pod-to-pod traffic to the host and redirects the rest straight to the NIC with bpf_redirect_neigh; a primary program that admits HTTP and ICMP; a tcx program on the NIC that marks; scrubbing default and none"},
		{Name: "l3-policy", Topology: "l3-policy.json", Objects: []string{"l3_policy"},
			Traces: []string{"l3-policy.pod.pcap", "l3-policy.wire.pcap"},
			Covers: "an L3 netkit pair whose default policies are DROP: two peer programs in bpf_mprog order (BPF_F_BEFORE) chained by NETKIT_NEXT, a NEXT at the end passing despite the policy, and the primary's policy dropping what the host sends without a program"},
	}
}

// NetkitPath is the path of a file under netkit/.
func NetkitPath(name string) string { return filepath.Join(Dir(), "netkit", name) }
