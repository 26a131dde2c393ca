package device_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/device"
)

// tcxHost is a registry with one device (ifindex 5) and SCHED_CLS programs a..e loaded (and an
// XDP program x); it returns the registry and the programs' descriptors and ids by name.
func tcxHost(t *testing.T) (*device.Registry, map[string]uint32, map[string]uint32) {
	t.Helper()
	r := device.NewRegistry()
	if err := r.AddDevice(5, "eth0"); err != nil {
		t.Fatal(err)
	}
	fds, ids := map[string]uint32{}, map[string]uint32{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ids[n], fds[n] = r.LoadProgram(n, ebpf.SchedCLS)
	}
	ids["x"], fds["x"] = r.LoadProgram("x", ebpf.XDP)
	return r, fds, ids
}

func order(r *device.Registry, t ebpf.AttachType) string {
	var names []string
	for _, it := range r.Programs(5, t) {
		names = append(names, r.ProgramName(it.Prog))
	}
	return strings.Join(names, " ")
}

// The tcx side of these rules is held to the real kernel by package kernel's tests; these cases
// keep the rules checked where no kernel is at hand. Each expectation follows from
// kernel/bpf/mprog.c as the comment says.
func TestMprogRulesPlaceAndRemovePrograms(t *testing.T) {
	type step struct {
		detach   bool
		prog     string
		flags    uint32
		rel      string
		replace  string
		revision uint64
		want     error
	}
	cases := []struct {
		name  string
		steps []step
		order string
	}{
		// pos_before without a relative object is -1: insert at 0.
		{"before without a relative program goes to the front",
			[]step{{prog: "a"}, {prog: "b"}, {prog: "c", flags: device.FlagBefore}}, "c a b"},
		// pos_after returns i+1: insert just after the relative program.
		{"after a program goes just behind it",
			[]step{{prog: "a"}, {prog: "b"}, {prog: "c", flags: device.FlagAfter, rel: "a"}}, "a c b"},
		// Both rules must give the same index: before b is 0, after a is 1.
		{"before and after that disagree are out of range",
			[]step{{prog: "a"}, {prog: "b"}, {prog: "c", flags: device.FlagBefore | device.FlagAfter, rel: "b", want: errno.ERANGE}}, "a b"},
		// pos_exact finds the program to replace; the position does not change.
		{"replace keeps the position",
			[]step{{prog: "a"}, {prog: "b"}, {prog: "c", flags: device.FlagReplace, replace: "a"}}, "c b"},
		// bpf_mprog_exists before anything else but the revision.
		{"a program attached twice exists",
			[]step{{prog: "a"}, {prog: "a", flags: device.FlagBefore, rel: "e", want: errno.EEXIST}}, "a"},
		// tuple_relative: a relative program of another type is EINVAL.
		{"a relative XDP program is invalid",
			[]step{{prog: "a"}, {prog: "b", flags: device.FlagBefore, rel: "x", want: errno.EINVAL}}, "a"},
		// revision check first of all.
		{"a stale revision wins over an existing program",
			[]step{{prog: "a"}, {prog: "a", revision: 1, want: errno.ESTALE}}, "a"},
		// detach: pos_before of the first program is -1, which bpf_mprog_fetch turns into 0.
		{"detaching before the first program removes the first program",
			[]step{{prog: "a"}, {prog: "b"}, {detach: true, flags: device.FlagBefore, rel: "a"}}, "b"},
		// detach without a program or flags: idx = total, fetched as the last.
		{"detaching without anything removes the last program",
			[]step{{prog: "a"}, {prog: "b"}, {detach: true}}, "a"},
		// detach with a relative object but no flags: EINVAL.
		{"detaching with a relative program alone is invalid",
			[]step{{prog: "a"}, {prog: "b"}, {detach: true, rel: "a", want: errno.EINVAL}}, "a b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, fds, _ := tcxHost(t)
			for i, s := range c.steps {
				a := device.AttachAttr{TargetIfindex: 5, AttachBPFFD: fds[s.prog], AttachType: ebpf.AttachTCXIngress,
					AttachFlags: s.flags, ReplaceBPFFD: fds[s.replace], Relative: fds[s.rel], ExpectedRevision: s.revision}
				var err error
				if s.detach {
					err = r.ProgDetach(a)
				} else {
					err = r.ProgAttach(a)
				}
				if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
					t.Fatalf("step %d: %v, want %v", i+1, err, s.want)
				}
			}
			if got := order(r, ebpf.AttachTCXIngress); got != c.order {
				t.Errorf("order %q, want %q", got, c.order)
			}
		})
	}
}

func TestAHookHoldsSixtyThreePrograms(t *testing.T) {
	// BPF_MPROG_MAX is 64 and bpf_mprog_max() one less: the 64th attach is out of range.
	r := device.NewRegistry()
	if err := r.AddDevice(5, "eth0"); err != nil {
		t.Fatal(err)
	}
	for i := range device.MprogMax + 1 {
		_, fd := r.LoadProgram(fmt.Sprint("p", i), ebpf.SchedCLS)
		err := r.ProgAttach(device.AttachAttr{TargetIfindex: 5, AttachBPFFD: fd, AttachType: ebpf.AttachTCXEgress})
		if i < device.MprogMax && err != nil {
			t.Fatalf("program %d: %v", i+1, err)
		}
		if i == device.MprogMax && !errors.Is(err, errno.ERANGE) {
			t.Fatalf("program %d: %v, want ERANGE", i+1, err)
		}
	}
}

// Attach three programs to a device's tcx ingress hook, one before the others by id, and query
// the hook as bpftool net would.
func ExampleRegistry() {
	r := device.NewRegistry()
	_ = r.AddDevice(2, "eth0")
	_, fw := r.LoadProgram("firewall", ebpf.SchedCLS)
	_, lb := r.LoadProgram("balancer", ebpf.SchedCLS)
	monID, mon := r.LoadProgram("monitor", ebpf.SchedCLS)
	_ = r.ProgAttach(device.AttachAttr{TargetIfindex: 2, AttachBPFFD: mon, AttachType: ebpf.AttachTCXIngress})
	_ = r.ProgAttach(device.AttachAttr{TargetIfindex: 2, AttachBPFFD: lb, AttachType: ebpf.AttachTCXIngress})
	_ = r.ProgAttach(device.AttachAttr{TargetIfindex: 2, AttachBPFFD: fw, AttachType: ebpf.AttachTCXIngress,
		AttachFlags: device.FlagAfter | device.FlagID, Relative: monID})
	err := r.ProgAttach(device.AttachAttr{TargetIfindex: 2, AttachBPFFD: fw, AttachType: ebpf.AttachTCXIngress})
	fmt.Println("again:", err)
	q, _ := r.ProgQuery(2, ebpf.AttachTCXIngress)
	for _, it := range q.Items {
		fmt.Println(r.ProgramName(it.Prog))
	}
	fmt.Println("revision", q.Revision)
	// Output:
	// again: EEXIST: file exists
	// monitor
	// firewall
	// balancer
	// revision 4
}
