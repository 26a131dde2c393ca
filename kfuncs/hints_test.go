package kfuncs

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

const (
	retENODATA    = -61
	retEOPNOTSUPP = -95
)

// hintResults calls the three hint kfuncs on a frame with hints h and gives what each returned and
// stored; the out-parameters start as 0xaa bytes, so untouched ones show.
type hintResults struct {
	tsRet, hashRet, vlanRet int64
	ts                      uint64
	hash, typ               uint32
	proto                   []byte // as stored: network order
	tci                     uint16
}

func callHints(t *testing.T, h *RxHints) hintResults {
	t.Helper()
	tm := newTestMachine(newTestFrame(t, 0, h))
	addr, mem := tm.stack(0)
	for i := range mem {
		mem[i] = 0xaa
	}
	var r hintResults
	var err error
	if r.tsRet, err = tm.call(t, "bpf_xdp_metadata_rx_timestamp", false, addr); err != nil {
		t.Fatal(err)
	}
	if r.hashRet, err = tm.call(t, "bpf_xdp_metadata_rx_hash", false, addr+8, addr+12); err != nil {
		t.Fatal(err)
	}
	if r.vlanRet, err = tm.call(t, "bpf_xdp_metadata_rx_vlan_tag", false, addr+16, addr+18); err != nil {
		t.Fatal(err)
	}
	r.ts = binary.LittleEndian.Uint64(mem[0:])
	r.hash = binary.LittleEndian.Uint32(mem[8:])
	r.typ = binary.LittleEndian.Uint32(mem[12:])
	r.proto = append([]byte(nil), mem[16:18]...)
	r.tci = binary.LittleEndian.Uint16(mem[18:])
	return r
}

const untouched64, untouched32, untouched16 = 0xaaaaaaaaaaaaaaaa, 0xaaaaaaaa, 0xaaaa

// The rows of the spec's "What the kfuncs return on real packets" table (measured on 6.18), as the
// simulator's profiles reproduce them, and the return codes of spec §4.
func TestHintKfuncsReturnWhatTheKernelReturns(t *testing.T) {
	// What the drivers' xdp_metadata_ops read for a TCP/IPv4 frame of Microsoft's first RSS vector
	// (hash 0x51ccc178 with ports), as package device's profiles compute them: veth for an skb
	// (timestamp 0, the flow hash with L4_ANY), veth for a frame with an in-band tag (type NONE),
	// mlx5 with the frame's 802.1Q tag stripped.
	const v4hash = 0x51ccc178
	all := HintTimestamp | HintHash | HintVLANTag
	vethTCP := RxHints{Supported: all, Valid: HintTimestamp | HintHash, Hash: v4hash, HashType: RSSTypeL4Any}
	vethInband := RxHints{Supported: all, Valid: HintTimestamp | HintHash, Hash: v4hash, HashType: RSSTypeNone}
	vethRedirected := RxHints{Supported: all}
	// veth with the tag set by hardware acceleration (skb vlan push): the simulator's host says so.
	vethAccel := vethTCP
	vethAccel.Valid |= HintVLANTag
	vethAccel.VLANProto, vethAccel.VLANTCI = 0x8100, 0x6064
	none := RxHints{}
	mlx5 := RxHints{Supported: all, Valid: all, Timestamp: 123, Hash: v4hash, HashType: RSSTypeL4IPv4TCP, VLANProto: 0x8100, VLANTCI: 0x6064}

	cases := []struct {
		name                    string
		hints                   *RxHints
		tsRet, hashRet, vlanRet int64
		ts                      uint64
		hash, typ               uint32
		proto                   []byte
		tci                     uint16
	}{
		{"veth with a packet sent as an skb gives timestamp 0, the hash with L4_ANY, and no VLAN data",
			&vethTCP, 0, 0, retENODATA, 0, v4hash, 0x8, []byte{0xaa, 0xaa}, untouched16},
		{"veth with an in-band 802.1Q frame gives rss_type 0 and no VLAN data",
			&vethInband, 0, 0, retENODATA, 0, v4hash, 0, []byte{0xaa, 0xaa}, untouched16},
		{"veth with a hardware-accelerated tag gives proto 0x8100 and TCI 0x6064",
			&vethAccel, 0, 0, 0, 0, v4hash, 0x8, []byte{0x81, 0x00}, 0x6064},
		{"veth with a frame redirected in gives ENODATA for everything",
			&vethRedirected, retENODATA, retENODATA, retENODATA, untouched64, untouched32, untouched32, []byte{0xaa, 0xaa}, untouched16},
		{"a device without metadata ops gives EOPNOTSUPP for everything",
			nil, retEOPNOTSUPP, retEOPNOTSUPP, retEOPNOTSUPP, untouched64, untouched32, untouched32, []byte{0xaa, 0xaa}, untouched16},
		{"the none profile gives EOPNOTSUPP for everything",
			&none, retEOPNOTSUPP, retEOPNOTSUPP, retEOPNOTSUPP, untouched64, untouched32, untouched32, []byte{0xaa, 0xaa}, untouched16},
		{"mlx5 gives the pcap time, the hash with its type, and the stripped tag",
			&mlx5, 0, 0, 0, 123, v4hash, 0x19, []byte{0x81, 0x00}, 0x6064},
		{"a driver that stores before finding no data leaves its values behind",
			&RxHints{Supported: HintHash, WritesOnNoData: HintHash}, retEOPNOTSUPP, retENODATA, retEOPNOTSUPP, untouched64, 0, 0, []byte{0xaa, 0xaa}, untouched16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := callHints(t, c.hints)
			if r.tsRet != c.tsRet || r.hashRet != c.hashRet || r.vlanRet != c.vlanRet {
				t.Errorf("returned %d/%d/%d, want %d/%d/%d", r.tsRet, r.hashRet, r.vlanRet, c.tsRet, c.hashRet, c.vlanRet)
			}
			if r.ts != c.ts {
				t.Errorf("timestamp %#x, want %#x", r.ts, c.ts)
			}
			if r.hash != c.hash || r.typ != c.typ {
				t.Errorf("hash %#x type %#x, want %#x type %#x", r.hash, r.typ, c.hash, c.typ)
			}
			if string(r.proto) != string(c.proto) || r.tci != c.tci {
				t.Errorf("vlan % x/%#x, want % x/%#x", r.proto, r.tci, c.proto, c.tci)
			}
		})
	}
}

func TestHintKfuncsFaultOnBadPointers(t *testing.T) {
	hints := &RxHints{Supported: allHints, Valid: allHints}
	tm := newTestMachine(newTestFrame(t, 0, hints))
	good, _ := tm.stack(0)
	top := vm.Address(vm.RegionStack, vm.MaxFrames*vm.StackSize-4) // 4 bytes left
	cases := []struct {
		name string
		fn   string
		args []uint64
	}{
		{"a NULL timestamp pointer faults", "bpf_xdp_metadata_rx_timestamp", []uint64{0}},
		{"a timestamp pointer with room for 4 of its 8 bytes faults", "bpf_xdp_metadata_rx_timestamp", []uint64{top}},
		{"a read-only hash pointer faults", "bpf_xdp_metadata_rx_hash", []uint64{tm.ro, good}},
		{"a NULL rss_type pointer faults", "bpf_xdp_metadata_rx_hash", []uint64{good, 0}},
		{"a read-only vlan_proto pointer faults", "bpf_xdp_metadata_rx_vlan_tag", []uint64{tm.ro, good}},
		{"a NULL vlan_tci pointer faults", "bpf_xdp_metadata_rx_vlan_tag", []uint64{good, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tm.call(t, c.fn, false, c.args...)
			var f *vm.Fault
			if !errors.As(err, &f) {
				t.Fatalf("error %v, want a *vm.Fault", err)
			}
			k, _ := Lookup(c.fn, Features{})
			var r [5]uint64
			copy(r[1:], c.args)
			if err := k.CheckArgs(tm.m, r[0], r[1], r[2], r[3], r[4]); !errors.As(err, &f) {
				t.Errorf("CheckArgs: %v, want a *vm.Fault", err)
			}
		})
	}
	t.Run("good pointers pass CheckArgs", func(t *testing.T) {
		for _, name := range []string{"bpf_xdp_metadata_rx_timestamp", "bpf_xdp_metadata_rx_hash", "bpf_xdp_metadata_rx_vlan_tag"} {
			k, _ := Lookup(name, Features{})
			if err := k.CheckArgs(tm.m, 0, good, good+8, 0, 0); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

func TestKfuncsNeedAFrameAsHost(t *testing.T) {
	tm := newTestMachine(struct{}{})
	addr, _ := tm.stack(0)
	for _, name := range Names() {
		t.Run(name+" fails the run when the host is not what it needs", func(t *testing.T) {
			k, _ := Lookup(name, Features{Traits: true, ExportToSkb: true})
			var err error
			if len(k.Args) == 0 || k.Args[0].Kind == ArgIter || k.Args[0].Kind == ArgIRQFlag {
				t.Skip("a critical section's or an iterator's kfunc needs no host")
			}
			if k.Args[0].Kind == ArgDynptr {
				t.Skip("a dynptr kfunc needs the host only for a packet's dynptr, which bpf_dynptr_from_xdp makes")
			}
			if name == "bpf_xdp_get_xfrm_state" {
				t.Skip("no host has security associations: the lookup needs none")
			}
			if k.Args[0].Kind == ArgBTFPtr {
				_, err = k.Impl(tm.m, addr, 1, 0, 0, 0)      // a non-NULL object pointer
				if k.Args[0].Struct == "struct xfrm_state" { // no host hands those out
					if err == nil {
						t.Error("a pointer that is no struct xfrm_state did not fail the run")
					}
					return
				}
			} else if k.Args[len(k.Args)-1].Kind == ArgDynptrUninit {
				_, err = k.Impl(tm.m, 0, 0, addr, 0, 0) // bpf_dynptr_from_xdp, flags 0
			} else {
				_, err = tm.call(t, name, false, 1, addr, 8, 0)
			}
			if !errors.Is(err, ErrNoFrame) && !errors.Is(err, ErrNoNetns) && !errors.Is(err, ErrNoPacket) {
				t.Errorf("error %v, want ErrNoFrame, ErrNoNetns or ErrNoPacket", err)
			}
		})
	}
}
