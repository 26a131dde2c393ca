package device_test

import (
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/device"
)

// The expected values of these tests come from drivers/net/netkit.c and kernel/bpf/mprog.c as
// Linux 6.18 has them (the machine package kernel's tests run on has no netkit to measure); the
// comment on each case names the lines it derives from.

func TestNetkitConfigurationsAreCheckedAsNewlinkChecksThem(t *testing.T) {
	l2 := func(c device.NetkitConfig) device.NetkitConfig { c.Mode = device.NetkitL2; return c }
	def := device.DefaultNetkitConfig()
	cases := []struct {
		name string
		cfg  func() device.NetkitConfig
		want error
		msg  string
	}{
		// netkit_new_link: mode NETKIT_L3, policies NETKIT_PASS, scrub NETKIT_SCRUB_DEFAULT
		// when the attributes are absent.
		{"the defaults are accepted", func() device.NetkitConfig { return def }, nil, ""},
		// netkit_policy: IFLA_NETKIT_MODE is NLA_POLICY_MAX(NLA_U32, NETKIT_L3).
		{"a mode past L3 is out of range", func() device.NetkitConfig { c := def; c.Mode = 2; return c }, errno.ERANGE, "integer out of range (ERANGE)"},
		// IFLA_NETKIT_SCRUB and _PEER_SCRUB are NLA_POLICY_MAX(NLA_U32, NETKIT_SCRUB_DEFAULT).
		{"a scrub setting past default is out of range", func() device.NetkitConfig { c := def; c.PeerScrub = 2; return c }, errno.ERANGE, ""},
		// netkit_check_policy: only NETKIT_PASS and NETKIT_DROP.
		{"a redirect policy is refused", func() device.NetkitConfig { c := def; c.Policy = device.NetkitRedirect; return c }, errno.EINVAL,
			"Provided default xmit policy not supported (EINVAL)"},
		{"a next policy for the peer is refused", func() device.NetkitConfig { c := def; c.PeerPolicy = device.NetkitNext; return c }, errno.EINVAL, ""},
		{"a drop policy is accepted", func() device.NetkitConfig { c := def; c.PeerPolicy = device.NetkitDrop; return c }, nil, ""},
		// "if (mode != NETKIT_L2 && (tb[IFLA_ADDRESS] || tbp[IFLA_ADDRESS])) return -EOPNOTSUPP"
		{"an address in L3 mode is not supported", func() device.NetkitConfig {
			c := def
			c.PeerMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}
			return c
		}, errno.EOPNOTSUPP, ""},
		// netkit_validate: is_valid_ether_addr, else EADDRNOTAVAIL.
		{"a multicast address is refused in L2 mode", func() device.NetkitConfig {
			c := l2(def)
			c.MAC = net.HardwareAddr{1, 0, 0x5e, 0, 0, 1}
			return c
		}, errno.EADDRNOTAVAIL, ""},
		{"a unicast address is accepted in L2 mode", func() device.NetkitConfig {
			c := l2(def)
			c.MAC, c.PeerMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
			return c
		}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg().Check()
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Check() = %v, want %v", err, c.want)
			}
			if c.msg != "" && err.Error() != c.msg {
				t.Errorf("message %q, want %q", err.Error(), c.msg)
			}
		})
	}
}

// netkitHost is a registry with a netkit pair (primary 10, peer 11) and a veth end (20).
func netkitHost(t *testing.T) *device.Registry {
	t.Helper()
	r := device.NewRegistry()
	if err := r.AddNetkit(10, 11, "nk0", "nk0p", device.DefaultNetkitConfig()); err != nil {
		t.Fatal(err)
	}
	if err := r.AddDevice(20, "veth0"); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNetkitProgramsAreAttachedThroughThePrimaryOnly(t *testing.T) {
	cases := []struct {
		name    string
		ifindex uint32
		typ     ebpf.AttachType
		want    error
	}{
		// netkit_dev_fetch: __dev_get_by_index fails: ENODEV.
		{"an unknown ifindex is no device", 99, ebpf.AttachNetkitPrimary, errno.ENODEV},
		// dev->netdev_ops != &netkit_netdev_ops: ENXIO.
		{"a veth is no netkit device", 20, ebpf.AttachNetkitPeer, errno.ENXIO},
		// !nk->primary: EACCES.
		{"the peer refuses a primary attach", 11, ebpf.AttachNetkitPrimary, errno.EACCES},
		{"the peer refuses a peer attach", 11, ebpf.AttachNetkitPeer, errno.EACCES},
		{"the primary takes a primary attach", 10, ebpf.AttachNetkitPrimary, nil},
		{"the primary takes a peer attach", 10, ebpf.AttachNetkitPeer, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := netkitHost(t)
			_, fd := r.LoadProgram("p", ebpf.SchedCLS)
			err := r.ProgAttach(device.AttachAttr{TargetIfindex: c.ifindex, AttachBPFFD: fd, AttachType: c.typ})
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("attach = %v, want %v", err, c.want)
			}
			_, lerr := r.LinkCreate(device.LinkAttr{ProgFD: fd, TargetIfindex: c.ifindex, AttachType: c.typ})
			if c.want != nil && !errors.Is(lerr, c.want) {
				t.Errorf("link create = %v, want %v as for the attach", lerr, c.want)
			}
			if c.want == nil && !errors.Is(lerr, errno.EEXIST) {
				t.Errorf("link create of the attached program = %v, want EEXIST", lerr)
			}
		})
	}
}

func TestPeerProgramsRunOnThePeersListAndPrimaryProgramsOnThePrimarys(t *testing.T) {
	// BPF_NETKIT_PEER: "dev = rcu_dereference_rtnl(nk->peer)": the programs go to the peer's
	// entry, which netkit_xmit runs when the peer transmits.
	r := netkitHost(t)
	a, fa := r.LoadProgram("a", ebpf.SchedCLS)
	b, fb := r.LoadProgram("b", ebpf.SchedCLS)
	c, fc := r.LoadProgram("c", ebpf.SchedCLS)
	for _, op := range []device.AttachAttr{
		{TargetIfindex: 10, AttachBPFFD: fa, AttachType: ebpf.AttachNetkitPrimary},
		{TargetIfindex: 10, AttachBPFFD: fb, AttachType: ebpf.AttachNetkitPeer},
		{TargetIfindex: 10, AttachBPFFD: fc, AttachType: ebpf.AttachNetkitPeer, AttachFlags: device.FlagBefore},
	} {
		if err := r.ProgAttach(op); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Programs(10, ebpf.AttachNetkitPrimary); !slices.Equal(got, []device.MprogItem{{Prog: a}}) {
		t.Errorf("primary's programs %v, want [a]", got)
	}
	want := []device.MprogItem{{Prog: c}, {Prog: b}}
	if got := r.Programs(11, ebpf.AttachNetkitPeer); !slices.Equal(got, want) {
		t.Errorf("peer's programs %v, want [c b]", got)
	}
	q, err := r.ProgQuery(10, ebpf.AttachNetkitPeer)
	if err != nil || !slices.Equal(q.Items, want) || q.Revision != 3 {
		t.Errorf("query of the peer through the primary = %+v, %v; want [c b] at revision 3", q, err)
	}
}

func TestANetkitDeviceKeepsItsRevisionWhenItsLastProgramLeaves(t *testing.T) {
	// struct netkit embeds its bpf_mprog_bundle (revision 1 at netkit_new_link) and never frees
	// it; netkit_prog_detach sets nk->active to NULL when the last program leaves, and
	// netkit_prog_query passes that NULL entry to bpf_mprog_query, which reports revision 1.
	// An attach fetches the bundle itself (netkit_entry_fetch with the bundle fallback): its
	// revision counted on. tcx frees its bundle instead (see package kernel's tests).
	r := netkitHost(t)
	_, fa := r.LoadProgram("a", ebpf.SchedCLS)
	attach := func(rev uint64) error {
		return r.ProgAttach(device.AttachAttr{TargetIfindex: 10, AttachBPFFD: fa, AttachType: ebpf.AttachNetkitPrimary, ExpectedRevision: rev})
	}
	if err := attach(1); err != nil {
		t.Fatal(err)
	}
	if err := r.ProgDetach(device.AttachAttr{TargetIfindex: 10, AttachBPFFD: fa, AttachType: ebpf.AttachNetkitPrimary, ExpectedRevision: 2}); err != nil {
		t.Fatal(err)
	}
	q, err := r.ProgQuery(10, ebpf.AttachNetkitPrimary)
	if err != nil || len(q.Items) != 0 || q.Revision != 1 {
		t.Fatalf("query after the last detach = %+v, %v; want no programs at revision 1", q, err)
	}
	if err := attach(1); !errors.Is(err, errno.ESTALE) {
		t.Errorf("attach at the queried revision 1 = %v, want ESTALE (the bundle is at 3)", err)
	}
	if err := attach(3); err != nil {
		t.Errorf("attach at revision 3 = %v", err)
	}
	// Detaching from a device without programs: netkit_entry_fetch(dev, false) is NULL.
	r2 := netkitHost(t)
	if err := r2.ProgDetach(device.AttachAttr{TargetIfindex: 10, AttachType: ebpf.AttachNetkitPeer}); !errors.Is(err, errno.ENOENT) {
		t.Errorf("detach without programs = %v, want ENOENT", err)
	}
}

func TestClosingAPeerLinkRemovesItsProgramFromThePeer(t *testing.T) {
	// netkit_link_release detaches from the device the link was made for (nkl->dev, the peer).
	r := netkitHost(t)
	_, fa := r.LoadProgram("a", ebpf.SchedCLS)
	lfd, err := r.LinkCreate(device.LinkAttr{ProgFD: fa, TargetIfindex: 10, AttachType: ebpf.AttachNetkitPeer})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Programs(11, ebpf.AttachNetkitPeer)); n != 1 {
		t.Fatalf("%d programs on the peer, want 1", n)
	}
	if err := r.ProgDetach(device.AttachAttr{TargetIfindex: 10, AttachBPFFD: fa, AttachType: ebpf.AttachNetkitPeer}); !errors.Is(err, errno.EBUSY) {
		t.Errorf("detaching a link's program with BPF_PROG_DETACH = %v, want EBUSY", err)
	}
	if err := r.Close(lfd); err != nil {
		t.Fatal(err)
	}
	if n := len(r.Programs(11, ebpf.AttachNetkitPeer)); n != 0 {
		t.Errorf("%d programs on the peer after closing the link, want 0", n)
	}
}

func TestNetkitPoliciesChangeThroughThePrimaryOnly(t *testing.T) {
	// netkit_change_link: EACCES unless primary; the mode is fixed; policies checked as at
	// creation.
	r := netkitHost(t)
	drop, redirect := device.NetkitDrop, device.NetkitRedirect
	if err := r.SetNetkitPolicy(11, &drop, nil); !errors.Is(err, errno.EACCES) ||
		err.Error() != "netkit link settings can be changed only through the primary device (EACCES)" {
		t.Errorf("a change through the peer = %v, want EACCES with the kernel's message", err)
	}
	if err := r.SetNetkitPolicy(10, nil, &redirect); !errors.Is(err, errno.EINVAL) {
		t.Errorf("a redirect policy = %v, want EINVAL", err)
	}
	if err := r.SetNetkitPolicy(10, nil, &drop); err != nil {
		t.Fatal(err)
	}
	if nk, _ := r.Netkit(11); nk.Policy != device.NetkitDrop {
		t.Errorf("the peer's policy is %v, want NETKIT_DROP", nk.Policy)
	}
	if nk, _ := r.Netkit(10); nk.Policy != device.NetkitPass || !nk.Primary || nk.Peer != 11 {
		t.Errorf("the primary is %+v, want its own policy NETKIT_PASS, primary, peer 11", nk)
	}
	if err := r.SetNetkitMode(10, device.NetkitL2); !errors.Is(err, errno.EACCES) {
		t.Errorf("a mode change = %v, want EACCES", err)
	}
	if err := r.SetNetkitPolicy(20, &drop, nil); !errors.Is(err, errno.ENXIO) {
		t.Errorf("a policy change on a veth = %v, want ENXIO", err)
	}
}
