package kfuncs

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/errno"
)

func TestLookupResolvesKfuncsByName(t *testing.T) {
	all := Features{Traits: true, ExportToSkb: true}
	cases := []struct {
		name     string
		kfunc    string
		features Features
		wantErr  []string // substrings of the error; nil for success
		is       error
	}{
		{"an RX metadata kfunc needs no feature", "bpf_xdp_metadata_rx_hash", Features{}, nil, nil},
		{"an unknown kfunc is an error that names it", "bpf_xdp_metadata_rx_csum", all,
			[]string{"bpf_xdp_metadata_rx_csum", "not provided by xdpsim"}, ErrUnknownKfunc},
		{"a trait kfunc with traits off names the feature flag", "bpf_xdp_trait_get", Features{ExportToSkb: true},
			[]string{"bpf_xdp_trait_get", "--feature traits"}, ErrFeatureOff},
		{"a trait kfunc with traits on resolves", "bpf_xdp_trait_get", Features{Traits: true}, nil, nil},
		{"the export with its feature off names the feature flag", "bpf_xdp_metadata_export_to_skb", Features{Traits: true},
			[]string{"bpf_xdp_metadata_export_to_skb", "--feature export-to-skb"}, ErrFeatureOff},
		{"the export with its feature on resolves", "bpf_xdp_metadata_export_to_skb", Features{ExportToSkb: true}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := Lookup(c.kfunc, c.features)
			if c.wantErr == nil {
				if err != nil || k == nil || k.Impl == nil || k.Name != c.kfunc {
					t.Fatalf("Lookup = %+v, %v", k, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range c.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
}

func TestKfuncsDescribeThemselves(t *testing.T) {
	want := []struct {
		name              string
		devBound, changes bool
		feature           string
		outSizes          []int // sizes of the ArgOut arguments in order
		args              int
		flags             Flags // as nf_conntrack_bpf.c, nf_nat_bpf.c and net/core/xdp.c register them
	}{
		{"bpf_ct_change_status", false, false, "", nil, 2, KFTrustedArgs},
		{"bpf_ct_change_timeout", false, false, "", nil, 2, KFTrustedArgs},
		{"bpf_ct_insert_entry", false, false, "", nil, 1, KFAcquire | KFRetNull | KFRelease},
		{"bpf_ct_release", false, false, "", nil, 1, KFRelease},
		{"bpf_ct_set_nat_info", false, false, "", nil, 4, KFTrustedArgs},
		{"bpf_ct_set_status", false, false, "", nil, 2, KFTrustedArgs},
		{"bpf_ct_set_timeout", false, false, "", nil, 2, KFTrustedArgs},
		{"bpf_dynptr_adjust", false, false, "", nil, 3, 0},
		{"bpf_dynptr_clone", false, false, "", nil, 2, 0},
		{"bpf_dynptr_copy", false, false, "", nil, 5, 0},
		{"bpf_dynptr_from_skb", false, false, "", nil, 3, 0},
		{"bpf_dynptr_from_xdp", false, false, "", nil, 3, 0},
		{"bpf_dynptr_is_null", false, false, "", nil, 1, 0},
		{"bpf_dynptr_is_rdonly", false, false, "", nil, 1, 0},
		{"bpf_dynptr_memset", false, false, "", nil, 4, 0},
		{"bpf_dynptr_size", false, false, "", nil, 1, 0},
		{"bpf_dynptr_slice", false, false, "", nil, 4, KFRetNull},
		{"bpf_dynptr_slice_rdwr", false, false, "", nil, 4, KFRetNull},
		{"bpf_iter_num_destroy", false, false, "", nil, 1, KFIterDestroy},
		{"bpf_iter_num_new", false, false, "", nil, 3, KFIterNew},
		{"bpf_iter_num_next", false, false, "", nil, 1, KFIterNext | KFRetNull},
		{"bpf_local_irq_restore", false, false, "", nil, 1, 0},
		{"bpf_local_irq_save", false, false, "", nil, 1, 0},
		{"bpf_preempt_disable", false, false, "", nil, 0, 0},
		{"bpf_preempt_enable", false, false, "", nil, 0, 0},
		{"bpf_rcu_read_lock", false, false, "", nil, 0, 0},
		{"bpf_rcu_read_unlock", false, false, "", nil, 0, 0},
		{"bpf_skb_ct_alloc", false, false, "", nil, 5, KFAcquire | KFRetNull},
		{"bpf_skb_ct_lookup", false, false, "", nil, 5, KFAcquire | KFRetNull},
		{"bpf_xdp_ct_alloc", false, false, "", nil, 5, KFAcquire | KFRetNull},
		{"bpf_xdp_ct_lookup", false, false, "", nil, 5, KFAcquire | KFRetNull},
		{"bpf_xdp_get_xfrm_state", false, false, "", nil, 3, KFAcquire | KFRetNull},
		{"bpf_xdp_metadata_export_to_skb", true, true, FeatureExportToSkb, nil, 1, 0},
		{"bpf_xdp_metadata_rx_hash", true, false, "", []int{4, 4}, 3, KFTrustedArgs},
		{"bpf_xdp_metadata_rx_timestamp", true, false, "", []int{8}, 2, KFTrustedArgs},
		{"bpf_xdp_metadata_rx_vlan_tag", true, false, "", []int{2, 2}, 3, KFTrustedArgs},
		{"bpf_xdp_pull_data", false, true, "", nil, 2, 0},
		{"bpf_xdp_trait_del", false, false, FeatureTraits, nil, 2, 0},
		{"bpf_xdp_trait_get", false, false, FeatureTraits, nil, 4, 0},
		{"bpf_xdp_trait_is_set", false, false, FeatureTraits, nil, 2, 0},
		{"bpf_xdp_trait_set", false, false, FeatureTraits, nil, 5, 0},
		{"bpf_xdp_xfrm_state_release", false, false, "", nil, 1, KFRelease},
	}
	all := All(Features{})
	if len(all) != len(want) {
		t.Fatalf("%d kfuncs, want %d", len(all), len(want))
	}
	for i, w := range want {
		k := all[i]
		t.Run(w.name+" says what it is", func(t *testing.T) {
			if k.Name != w.name {
				t.Fatalf("kfunc %d is %s", i, k.Name)
			}
			if k.DevBound != w.devBound || k.ChangesPacketData != w.changes || k.Feature != w.feature {
				t.Errorf("dev-bound %v, changes packet data %v, feature %q", k.DevBound, k.ChangesPacketData, k.Feature)
			}
			if k.Flags != w.flags {
				t.Errorf("flags %v, want %v", k.Flags, w.flags)
			}
			if len(k.Args) != w.args {
				t.Errorf("%d args, want %d", len(k.Args), w.args)
			}
			var sizes []int
			for _, a := range k.Args {
				if a.Kind == ArgOut {
					sizes = append(sizes, a.Size)
				}
			}
			if !slices.Equal(sizes, w.outSizes) {
				t.Errorf("out sizes %v, want %v", sizes, w.outSizes)
			}
			if !strings.Contains(k.Proto, " "+k.Name+"(") && !strings.Contains(k.Proto, "*"+k.Name+"(") || strings.Count(k.Proto, ",")+1 != max(len(k.Args), 1) ||
				len(k.Args) == 0 && !strings.HasSuffix(k.Proto, "(void)") {
				t.Errorf("prototype %q does not match %d arguments", k.Proto, len(k.Args))
			}
			ret := strings.TrimSpace(k.Proto[:strings.Index(k.Proto, k.Name+"(")])
			switch {
			case ret == "void":
				if k.Ret != RetVoid {
					t.Errorf("prototype %q returns nothing, Ret is %d", k.Proto, k.Ret)
				}
			case strings.HasSuffix(ret, "*"):
				pointee := strings.TrimSpace(strings.TrimSuffix(ret, "*"))
				if k.Ret != RetBTFPtr && k.Ret != RetMem || k.RetType != pointee {
					t.Errorf("prototype %q returns a pointer, Ret is %d to %q", k.Proto, k.Ret, k.RetType)
				}
			case k.Ret != RetInt:
				t.Errorf("prototype %q returns %s, Ret is %d", k.Proto, ret, k.Ret)
			}
			for _, a := range k.Args {
				if !strings.Contains(k.Proto, a.Type) || !strings.Contains(k.Proto, a.Name) {
					t.Errorf("prototype %q lacks argument %s %s", k.Proto, a.Type, a.Name)
				}
			}
		})
	}
	t.Run("every argument list pairs memory with its size", func(t *testing.T) {
		for _, k := range all {
			for i, a := range k.Args {
				// The kernel pairs a pointer with the argument after it when that one's name ends
				// in __sz (or __szk for a constant size).
				if a.Kind == ArgMem && (i+1 >= len(k.Args) || !(k.Args[i+1].Kind == ArgMemSize && strings.HasSuffix(k.Args[i+1].Name, "__sz") ||
					k.Args[i+1].Kind == ArgConstSize && strings.HasSuffix(k.Args[i+1].Name, "__szk"))) {
					t.Errorf("%s: %s is not followed by a size named ...__sz or ...__szk", k.Name, a.Name)
				}
			}
		}
	})
}

func TestFeaturesAreSwitchedOnByName(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		want  Features
		err   string
	}{
		{"traits turns on the v2 traits", []string{"traits"}, Features{Traits: true}, ""},
		{"traits-v1 turns on the v1 traits", []string{"traits-v1"}, Features{Traits: true, TraitsV1: true}, ""},
		{"export-to-skb turns on the export", []string{"export-to-skb"}, Features{ExportToSkb: true}, ""},
		{"control-map turns on the control map", []string{"control-map"}, Features{ControlMap: true}, ""},
		{"all of them go together", []string{"export-to-skb", "traits", "control-map"}, Features{Traits: true, ExportToSkb: true, ControlMap: true}, ""},
		{"an unknown feature is an error that lists the known ones", []string{"hints"}, Features{}, `unknown feature "hints" (known: control-map, export-to-skb, traits, traits-v1)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var f Features
			var err error
			for _, n := range c.flags {
				if err = f.Enable(n); err != nil {
					break
				}
			}
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || f != c.want {
				t.Errorf("features %+v, %v; want %+v", f, err, c.want)
			}
			for _, n := range c.flags {
				if !f.Enabled(n) {
					t.Errorf("%s not enabled", n)
				}
			}
		})
	}
}

func TestNamesSpeakTheKernelsWords(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"RSS type 0x19 is IPv4 TCP", RSSTypeL4IPv4TCP.String(), "L3_IPV4|L4|L4_TCP"},
		{"RSS type 0 is NONE", RSSTypeNone.String(), "NONE"},
		{"RSS type 0x1e is IPv6 TCP with extension headers", RSSTypeL4IPv6TCPEx.String(), "L3_IPV6|L3_DYNHDR|L4|L4_TCP"},
		{"an unknown RSS bit shows in hex", RSSType(0x201).String(), "L3_IPV4|0x200"},
		{"hints join with a bar", (HintHash | HintVLANTag).String(), "rx_hash|rx_vlan_tag"},
		{"no hints is none", Hint(0).String(), "none"},
		{"ENODATA has its name", errno.ENODATA.Error(), "ENODATA: no data available"},
		{"an unnamed errno shows its number", errno.Errno(200).Error(), "errno 200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("%q, want %q", c.got, c.want)
			}
		})
	}
	t.Run("the RSS type values are those of enum xdp_rss_hash_type", func(t *testing.T) {
		for _, c := range []struct {
			t RSSType
			v uint32
		}{{RSSTypeL3IPv4, 1}, {RSSTypeL3IPv6, 2}, {RSSTypeL3IPv4Opt, 5}, {RSSTypeL3IPv6Ex, 6}, {RSSTypeL4Any, 8},
			{RSSTypeL4IPv4TCP, 0x19}, {RSSTypeL4IPv4UDP, 0x29}, {RSSTypeL4IPv4SCTP, 0x49}, {RSSTypeL4IPv4IPSec, 0x89},
			{RSSTypeL4IPv4ICMP, 0x109}, {RSSTypeL4IPv6TCP, 0x1a}, {RSSTypeL4IPv6UDP, 0x2a}, {RSSTypeL4IPv6SCTP, 0x4a},
			{RSSTypeL4IPv6IPSec, 0x8a}, {RSSTypeL4IPv6ICMP, 0x10a}, {RSSTypeL4IPv6TCPEx, 0x1e}, {RSSTypeL4IPv6UDPEx, 0x2e},
			{RSSTypeL4IPv6SCTPEx, 0x4e}} {
			if uint32(c.t) != c.v {
				t.Errorf("%v is %#x, want %#x", c.t, uint32(c.t), c.v)
			}
		}
	})
}
