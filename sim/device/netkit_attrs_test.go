package device

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/xdpsim/xdpsim/errno"
)

func netkitPair(t *testing.T) (*Registry, *Netdev, *Netdev) {
	t.Helper()
	r := NewRegistry()
	c := DefaultNetkitConfig()
	c.PeerPolicy, c.PeerScrub = NetkitDrop, NetkitScrubNone
	if err := r.AddNetkit(10, 11, "nk0", "nk0p", c); err != nil {
		t.Fatal(err)
	}
	a, b := NewNetkitPair(r, "nk0", "nk0p", 10, 11)
	return r, a, b
}

// A netkit pair's IFLA_NETKIT_* settings are layout version 3's members, read from the registry
// that holds them; a policy changes only through the primary, as netkit_change_link allows, and
// lands in the registry, where the device's transmit routine reads it.
func TestNetkitDevicesExposeTheirLinkSettings(t *testing.T) {
	r, nk0, nk0p := netkitPair(t)
	for _, c := range []struct {
		d    *Netdev
		want map[string]string
	}{
		{nk0, map[string]string{"netkit": "1 (primary)", "netkit_mode": "1 (l3)", "netkit_policy": "0 (pass)", "netkit_peer_policy": "2 (drop)",
			"netkit_scrub": "1 (default)", "netkit_peer_scrub": "0 (none)", "peer_ifindex": "11", "xdp_features": "0x0"}},
		{nk0p, map[string]string{"netkit": "2 (peer)", "netkit_policy": "2 (drop)", "netkit_peer_policy": "0 (pass)", "netkit_scrub": "0 (none)", "peer_ifindex": "10"}},
	} {
		t.Run(c.d.Name+" reads its settings", func(t *testing.T) {
			for name, want := range c.want {
				if got := getText(t, c.d, name); got != want {
					t.Errorf("%s %s, want %s", name, got, want)
				}
			}
		})
	}
	t.Run("the primary changes both policies, and the registry has them", func(t *testing.T) {
		if err := latestClient().SetAll(nk0, map[string]string{"netkit_policy": "drop", "netkit_peer_policy": "pass"}); err != nil {
			t.Fatal(err)
		}
		p, _ := r.Netkit(10)
		q, _ := r.Netkit(11)
		if p.Policy != NetkitDrop || q.Policy != NetkitPass {
			t.Errorf("policies %v and %v", p.Policy, q.Policy)
		}
		if got := getText(t, nk0p, "netkit_policy"); got != "0 (pass)" {
			t.Errorf("the peer reads %s", got)
		}
	})
	cases := []struct {
		name, member, value string
		d                   *Netdev
		origin              Origin
		errno               syscall.Errno
		msg                 string
	}{
		{"the peer cannot change a policy", "netkit_policy", "drop", nk0p, FromUser, syscall.EACCES, "netkit link settings can be changed only through the primary device"},
		{"a policy other than pass or drop is EINVAL", "netkit_policy", "7", nk0, FromUser, syscall.EINVAL, "7 is not a default policy"},
		{"the mode is fixed at creation", "netkit_mode", "l2", nk0, FromUser, syscall.EACCES, "read-only"},
		{"the scrub setting is fixed at creation", "netkit_scrub", "none", nk0, FromUser, syscall.EACCES, "read-only"},
		{"a program may not change a policy", "netkit_policy", "pass", nk0, FromProgram, syscall.EPERM, "only user space may"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := r.Netkit(c.d.Ifindex)
			err := setText(t, c.d, Latest(), c.member, c.value, c.origin)
			if !errors.Is(err, c.errno) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v, want %s: %s", err, errno.Errno(c.errno).Name(), c.msg)
			}
			if after, _ := r.Netkit(c.d.Ifindex); after != before {
				t.Errorf("the registry changed: %+v", after)
			}
		})
	}
	t.Run("a device that is not netkit reads zeros and takes no netkit setting", func(t *testing.T) {
		d := mustNetdev(t, "mlx5")
		if got := getText(t, d, "netkit_policy"); got != "0" {
			t.Errorf("netkit_policy %s", got)
		}
		if err := setText(t, d, Latest(), "netkit_policy", "2", FromUser); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("error %v", err)
		}
	})
}
