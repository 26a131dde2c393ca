package kernel_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/device"
)

// controlClient is a client of the simulated kernel's control interface BTF.
func controlClient(t *testing.T) *device.Client {
	t.Helper()
	raw, err := device.Latest().BTF()
	if err != nil {
		t.Fatal(err)
	}
	c, err := device.NewClient(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// simVeth builds the simulated veth pair of a setup, with the queue counts the kernel reports,
// and reads both ends' attributes through the control interface's BTF client, as a user of the
// proposal would.
func simVeth(t *testing.T, s kernel.VethSetup, k kernel.VethReport) (end, peer map[string]string, attachErr error) {
	t.Helper()
	p, err := device.LookupProfile("veth")
	if err != nil {
		t.Fatal(err)
	}
	a, b := device.NewVethPair(p, "xsveth0", "xsveth1")
	c := controlClient(t)
	for _, x := range []struct {
		d     *device.Netdev
		k     kernel.NetdevFeatures
		gro   bool
		xdp   bool
		other *device.Netdev
	}{{a, k.End, s.GRO, s.XDP, b}, {b, k.Peer, s.PeerGRO, s.PeerXDP, a}} {
		attrs := map[string]string{"rx_queues": fmt.Sprint(x.k.RxQueues), "tx_queues": fmt.Sprint(x.k.TxQueues)}
		if s.MTU > 0 {
			attrs["mtu"] = fmt.Sprint(s.MTU)
		}
		if x.gro {
			attrs["offloads"] = "gro"
		}
		if err := c.SetAll(x.d, attrs); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []struct {
		d  *device.Netdev
		on bool
	}{{a, s.XDP}, {b, s.PeerXDP}} {
		if x.on && attachErr == nil {
			attachErr = x.d.AttachXDP(&device.XDPProgram{Frags: s.Frags})
		}
	}
	read := func(d *device.Netdev) map[string]string {
		v := d.Attributes()
		m := map[string]string{}
		for _, name := range []string{"xdp_features", "xdp_rx_metadata_features", "xsk_features", "xdp_zc_max_segs", "mtu", "min_mtu", "max_mtu"} {
			f, err := c.Field(name)
			if err != nil {
				t.Fatal(err)
			}
			m[name] = c.Format(v, f)
		}
		return m
	}
	return read(a), read(b), attachErr
}

// kernelAttrs puts what netlink and rtnetlink report in the control interface's words: the same
// text the BTF client prints for the members of struct if_xdp_attributes.
func kernelAttrs(t *testing.T, f kernel.NetdevFeatures) map[string]string {
	t.Helper()
	c := controlClient(t)
	v := make([]byte, c.Size())
	put := func(name string, x uint64) {
		fl, err := c.Field(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Parse(v, fl, fmt.Sprint(x)); err != nil {
			t.Fatal(err)
		}
	}
	put("xdp_features", f.XDPFeatures)
	put("xdp_rx_metadata_features", f.XDPRxMetadataFeatures)
	put("xsk_features", f.XSKFeatures)
	put("xdp_zc_max_segs", uint64(f.XDPZCMaxSegs)) // 0: not reported, as the struct says it
	put("mtu", uint64(f.MTU))
	put("min_mtu", uint64(f.MinMTU))
	put("max_mtu", uint64(f.MaxMTU))
	m := map[string]string{}
	for _, name := range []string{"xdp_features", "xdp_rx_metadata_features", "xsk_features", "xdp_zc_max_segs", "mtu", "min_mtu", "max_mtu"} {
		fl, _ := c.Field(name)
		m[name] = c.Format(v, fl)
	}
	return m
}

// The simulated veth's attributes against a real veth pair's, read through the netdev generic
// netlink family (xdp-features, xdp-rx-metadata-features, xsk-features, xdp-zc-max-segs),
// rtnetlink (MTU and its limits) and ethtool (queues), in the setups that change them: XDP
// programs on either end, with and without frags support, GRO, MTUs at and past XDP's limit, and
// more TX queues on one side than RX queues on the other.
func TestTheSimulatedVethReportsWhatARealVethReports(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: no kernel to compare with: %v", err)
	}
	cases := []struct {
		name  string
		setup kernel.VethSetup
		errno syscall.Errno // what attaching fails with, 0 for success
	}{
		{"a fresh pair", kernel.VethSetup{}, 0},
		{"an XDP program on one end makes the other a redirect target and lowers its max_mtu", kernel.VethSetup{XDP: true}, 0},
		{"an XDP program on the peer does the same the other way round", kernel.VethSetup{PeerXDP: true}, 0},
		{"programs on both ends", kernel.VethSetup{XDP: true, PeerXDP: true}, 0},
		{"a frags-aware program raises the peer's max_mtu by 17 pages", kernel.VethSetup{XDP: true, Frags: true}, 0},
		{"GRO on one end makes the other a redirect target", kernel.VethSetup{GRO: true}, 0},
		{"GRO on the peer", kernel.VethSetup{PeerGRO: true}, 0},
		{"an MTU of 3506 takes a program without frags support", kernel.VethSetup{MTU: 3506, XDP: true}, 0},
		{"an MTU of 3507 refuses it with ERANGE", kernel.VethSetup{MTU: 3507, XDP: true}, syscall.ERANGE},
		{"an MTU of 9000 takes a frags-aware program", kernel.VethSetup{MTU: 9000, PeerXDP: true, Frags: true}, 0},
		{"more TX queues on the peer than RX queues here refuse a program with ENOSPC", kernel.VethSetup{TxQueues: 2, XDP: true}, syscall.ENOSPC},
		{"more RX queues here take it", kernel.VethSetup{RxQueues: 2, TxQueues: 2, PeerRxQueues: 2, PeerTxQueues: 2, XDP: true}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := kernel.VethFeatures(c.setup)
			if err != nil {
				t.Fatal(err)
			}
			if (c.errno == 0) != (k.AttachErr == nil) || (c.errno != 0 && !errors.Is(k.AttachErr, c.errno)) {
				t.Fatalf("the kernel's attach: %v, expected errno %d", k.AttachErr, c.errno)
			}
			end, peer, serr := simVeth(t, c.setup, k)
			if (k.AttachErr == nil) != (serr == nil) || (c.errno != 0 && !errors.Is(serr, c.errno)) {
				t.Errorf("attach: kernel %v, simulator %v", k.AttachErr, serr)
			}
			for _, side := range []struct {
				name string
				k    kernel.NetdevFeatures
				sim  map[string]string
			}{{"end", k.End, end}, {"peer", k.Peer, peer}} {
				kern := kernelAttrs(t, side.k)
				for name, kv := range kern {
					if sv := side.sim[name]; sv != kv {
						t.Errorf("%s %s: kernel %s, simulator %s", side.name, name, kv, sv)
					}
				}
				t.Logf("%s: %v (queues rx %d tx %d)", side.name, kern, side.k.RxQueues, side.k.TxQueues)
			}
		})
	}
}

// lo, as a fresh network namespace has it, against the simulator's loopback.
func TestTheSimulatedLoopbackReportsWhatLoReports(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: no kernel to compare with: %v", err)
	}
	k, err := kernel.LoopbackFeatures()
	if err != nil {
		t.Fatal(err)
	}
	lo := device.NewLoopback()
	want := kernelAttrs(t, k)
	c := controlClient(t)
	v := lo.Attributes()
	for name, kv := range want {
		f, _ := c.Field(name)
		if sv := c.Format(v, f); sv != kv {
			t.Errorf("%s: kernel %s, simulator %s", name, kv, sv)
		}
	}
}

// The control interface's BTF is BTF the kernel takes: BPF_BTF_LOAD checks every type, name and
// member offset, so both layout versions' blobs must load.
func TestTheKernelTakesTheControlInterfacesBTF(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: no kernel to load BTF into: %v", err)
	}
	for v := 1; v <= device.LatestVersion; v++ {
		t.Run(fmt.Sprintf("layout version %d", v), func(t *testing.T) {
			l, err := device.LayoutVersion(v)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := l.BTF()
			if err != nil {
				t.Fatal(err)
			}
			h, err := btf.NewHandleFromRawBTF(raw)
			if err != nil {
				t.Fatalf("BPF_BTF_LOAD: %v", err)
			}
			defer h.Close()
			spec, err := h.Spec(nil)
			if err != nil {
				t.Fatal(err)
			}
			var st *btf.Struct
			if err := spec.TypeByName(device.StructName, &st); err != nil || int(st.Size) != l.Size {
				t.Errorf("the kernel's copy: %v, %v", st, err)
			}
		})
	}
}
