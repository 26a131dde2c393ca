package kernel_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/vm"
)

// edgeCase is one call of an XDP helper at the edge of what the kernel allows. want is the return
// value the spec (shared/spec/xdp-kernel.md §2) derives; wantLen is the length of the output data
// (-1: not checked). Both the simulator and, where it is available, the kernel must give them, and
// the two must agree on the output bytes and metadata too.
type edgeCase struct {
	name    string
	pktLen  int
	metaLen int
	body    asm.Instructions // runs with r6 = ctx; leaves the helper's result in r0
	maps    map[string]*ebpf.MapSpec
	want    int32
	wantLen int
}

// call builds "r1 = ctx; r2..r5 = args; call f".
func call(f asm.BuiltinFunc, args ...int32) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R1, asm.R6)}
	for i, a := range args {
		insns = append(insns, asm.Mov.Imm(asm.Register(2+i), a))
	}
	return append(insns, f.Call())
}

// withStackU32 puts v at r10-8 and passes its address as argument register reg.
func withStackU32(reg asm.Register, v int32) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, -8, int64(v), asm.Word),
		asm.Mov.Reg(reg, asm.R10),
		asm.Add.Imm(reg, -8),
	}
}

func edgeCases() []edgeCase {
	const (
		eINVAL  = -22
		eFAULT  = -14
		eACCES  = -13
		eNODEV  = -19
		aborted = 0
	)
	devmap := map[string]*ebpf.MapSpec{"devs": {Name: "devs", Type: ebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 4}}
	cpumap := map[string]*ebpf.MapSpec{"cpus": {Name: "cpus", Type: ebpf.CPUMap, KeySize: 4, ValueSize: 4, MaxEntries: 2}}
	redirectMap := func(name string, flags int32) asm.Instructions {
		return asm.Instructions{
			asm.LoadMapPtr(asm.R1, 0).WithReference(name),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Imm(asm.R3, flags),
			asm.FnRedirectMap.Call(),
		}
	}
	checkMTU := func(ifindex, mtuLen, lenDiff, flags int32) asm.Instructions {
		insns := withStackU32(asm.R3, mtuLen)
		return append(insns,
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.Mov.Imm(asm.R2, ifindex),
			asm.Mov.Imm(asm.R4, lenDiff),
			asm.Mov.Imm(asm.R5, flags),
			asm.FnCheckMtu.Call(),
		)
	}
	bytesHelper := func(f asm.BuiltinFunc, off, n int32) asm.Instructions {
		return asm.Instructions{
			asm.StoreImm(asm.R10, -16, 0x11223344, asm.Word),
			asm.StoreImm(asm.R10, -12, 0x55667788, asm.Word),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.Mov.Imm(asm.R2, off),
			asm.Mov.Reg(asm.R3, asm.R10),
			asm.Add.Imm(asm.R3, -16),
			asm.Mov.Imm(asm.R4, n),
			f.Call(),
		}
	}
	// csumDiff diffs from = bytes 04 03 02 01 0a 0b 0c fd at r10-16 against to = bytes
	// af 9f 8f 7f dd 22 ee 11 at r10-8; a zero size passes NULL.
	csumDiff := func(fromSize, toSize, seed int32) asm.Instructions {
		insns := asm.Instructions{
			asm.StoreImm(asm.R10, -16, 0x01020304, asm.Word),
			asm.StoreImm(asm.R10, -12, -0x2f3f4f6, asm.Word), // 0xfd0c0b0a
			asm.StoreImm(asm.R10, -8, 0x7f8f9faf, asm.Word),
			asm.StoreImm(asm.R10, -4, 0x11ee22dd, asm.Word),
			asm.Mov.Imm(asm.R1, 0),
			asm.Mov.Imm(asm.R2, fromSize),
			asm.Mov.Imm(asm.R3, 0),
			asm.Mov.Imm(asm.R4, toSize),
			asm.Mov.Imm(asm.R5, seed),
		}
		if fromSize > 0 {
			insns = append(insns, asm.Mov.Reg(asm.R1, asm.R10), asm.Add.Imm(asm.R1, -16))
		}
		if toSize > 0 {
			insns = append(insns, asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -8))
		}
		return append(insns, asm.FnCsumDiff.Call())
	}
	return []edgeCase{
		{name: "adjust_head pops an Ethernet header", pktLen: 64, body: call(asm.FnXdpAdjustHead, 14), want: 0, wantLen: 50},
		{name: "adjust_head pushes 16 bytes", pktLen: 64, body: call(asm.FnXdpAdjustHead, -16), want: 0, wantLen: 80},
		{name: "adjust_head pushes the whole headroom after the xdp_frame", pktLen: 64, body: call(asm.FnXdpAdjustHead, -216), want: 0, wantLen: 280},
		{name: "adjust_head cannot push into the xdp_frame", pktLen: 64, body: call(asm.FnXdpAdjustHead, -217), want: eINVAL, wantLen: 64},
		{name: "adjust_head cannot push past the page", pktLen: 64, body: call(asm.FnXdpAdjustHead, -4096), want: eINVAL, wantLen: 64},
		{name: "adjust_head may leave exactly an Ethernet header", pktLen: 64, body: call(asm.FnXdpAdjustHead, 50), want: 0, wantLen: 14},
		{name: "adjust_head may not leave less than an Ethernet header", pktLen: 64, body: call(asm.FnXdpAdjustHead, 51), want: eINVAL, wantLen: 64},
		{name: "adjust_head moves metadata with the data", pktLen: 64, metaLen: 8, body: call(asm.FnXdpAdjustHead, -208), want: 0, wantLen: 272},
		{name: "adjust_head counts metadata against the headroom", pktLen: 64, metaLen: 8, body: call(asm.FnXdpAdjustHead, -209), want: eINVAL, wantLen: 64},
		{name: "adjust_meta grows 4 bytes of metadata", pktLen: 64, body: call(asm.FnXdpAdjustMeta, -4), want: 0, wantLen: 64},
		{name: "adjust_meta grows 216 bytes, up to the xdp_frame", pktLen: 64, body: call(asm.FnXdpAdjustMeta, -216), want: 0, wantLen: 64},
		{name: "adjust_meta cannot reach into the xdp_frame", pktLen: 64, body: call(asm.FnXdpAdjustMeta, -220), want: eINVAL, wantLen: 64},
		{name: "adjust_meta refuses a length that is not a multiple of 4", pktLen: 64, body: call(asm.FnXdpAdjustMeta, -2), want: eACCES, wantLen: 64},
		{name: "adjust_meta cannot move metadata past data", pktLen: 64, body: call(asm.FnXdpAdjustMeta, 4), want: eINVAL, wantLen: 64},
		{name: "adjust_meta shrinks given metadata to nothing", pktLen: 64, metaLen: 8, body: call(asm.FnXdpAdjustMeta, 8), want: 0, wantLen: 64},
		{name: "adjust_tail grows 32 zeroed bytes", pktLen: 64, body: call(asm.FnXdpAdjustTail, 32), want: 0, wantLen: 96},
		{name: "adjust_tail shrinks to an Ethernet header", pktLen: 64, body: call(asm.FnXdpAdjustTail, -50), want: 0, wantLen: 14},
		{name: "adjust_tail may not shrink below an Ethernet header", pktLen: 64, body: call(asm.FnXdpAdjustTail, -51), want: eINVAL, wantLen: 64},
		{name: "adjust_tail grows up to the tailroom", pktLen: 64, body: call(asm.FnXdpAdjustTail, 3456), want: 0, wantLen: 3520},
		{name: "adjust_tail may not grow into the tailroom", pktLen: 64, body: call(asm.FnXdpAdjustTail, 3457), want: eINVAL, wantLen: 64},
		{name: "adjust_tail grows the last fragment of a jumbo frame", pktLen: 9000, body: call(asm.FnXdpAdjustTail, 100), want: 0, wantLen: 9100},
		{name: "adjust_tail shrinks a jumbo frame into its linear part", pktLen: 9000, body: call(asm.FnXdpAdjustTail, -5500), want: 0, wantLen: 3500},
		{name: "get_buff_len counts the linear part", pktLen: 64, body: call(asm.FnXdpGetBuffLen), want: 64, wantLen: 64},
		{name: "get_buff_len counts fragments", pktLen: 9000, body: call(asm.FnXdpGetBuffLen), want: 9000, wantLen: 9000},
		{name: "load_bytes refuses a range past the end", pktLen: 64, body: bytesHelper(asm.FnXdpLoadBytes, 60, 8), want: eINVAL, wantLen: 64},
		{name: "load_bytes refuses an offset above 0xffff", pktLen: 64, body: bytesHelper(asm.FnXdpLoadBytes, 0x10000, 4), want: eFAULT, wantLen: 64},
		{name: "load_bytes reads across the linear part and a fragment", pktLen: 9000, body: bytesHelper(asm.FnXdpLoadBytes, 3516, 8), want: 0, wantLen: 9000},
		{name: "store_bytes writes across the linear part and a fragment", pktLen: 9000, body: bytesHelper(asm.FnXdpStoreBytes, 3518, 8), want: 0, wantLen: 9000},
		{name: "store_bytes writes the last bytes", pktLen: 64, body: bytesHelper(asm.FnXdpStoreBytes, 56, 8), want: 0, wantLen: 64},
		{name: "redirect with flags aborts", pktLen: 64, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 1), asm.FnRedirect.Call()}, want: aborted, wantLen: 64},
		{name: "redirect without flags redirects", pktLen: 64, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 0), asm.FnRedirect.Call()}, want: 4, wantLen: 64},
		{name: "redirect_map to an empty devmap slot falls back to the flags' action", pktLen: 64, maps: devmap, body: redirectMap("devs", 2), want: 2, wantLen: 64},
		{name: "redirect_map with an unknown flag aborts", pktLen: 64, maps: devmap, body: redirectMap("devs", 1<<5|2), want: aborted, wantLen: 64},
		{name: "redirect_map broadcasts over a devmap", pktLen: 64, maps: devmap, body: redirectMap("devs", 1<<3), want: 4, wantLen: 64},
		{name: "redirect_map cannot broadcast over a cpumap", pktLen: 64, maps: cpumap, body: redirectMap("cpus", 1<<3|1), want: aborted, wantLen: 64},
		{name: "check_mtu passes a small packet", pktLen: 64, body: checkMTU(0, 0, 0, 0), want: 0, wantLen: 64},
		{name: "check_mtu says a grown packet needs fragmenting", pktLen: 64, body: checkMTU(0, 0, 70000, 0), want: 1, wantLen: 64},
		{name: "check_mtu takes the length to check from mtu_len", pktLen: 64, body: checkMTU(0, 65536, 1, 0), want: 1, wantLen: 64},
		{name: "check_mtu refuses flags", pktLen: 64, body: checkMTU(0, 0, 0, 1), want: eINVAL, wantLen: 64},
		{name: "check_mtu names a missing device", pktLen: 64, body: checkMTU(999, 0, 0, 0), want: eNODEV, wantLen: 64},
		// bpf_csum_diff on 6.18 (measured): to's sum plus seed, minus from's, folded to 16 bits
		// without complementing; any size is accepted. The expected values are that arithmetic
		// done by hand on the bytes above, in 16-bit little-endian words.
		{name: "csum_diff sums the new words", pktLen: 64, body: csumDiff(0, 4, 0), want: 0x1f3f, wantLen: 64},                      // 9faf+7f8f=11f3e -> 1f3f
		{name: "csum_diff adds the seed", pktLen: 64, body: csumDiff(0, 4, 0x10000), want: 0x1f40, wantLen: 64},                     // + (0x10000 folds to 1)
		{name: "csum_diff subtracts the old words", pktLen: 64, body: csumDiff(4, 4, 0), want: 0x1b39, wantLen: 64},                 // 7f8f9faf + ~01020304 -> 7e8d9cab -> 1b39
		{name: "csum_diff of old words alone is their negation", pktLen: 64, body: csumDiff(4, 0, 0), want: 0xfbf9, wantLen: 64},    // ~01020304 = fefdfcfb -> fbf9
		{name: "csum_diff takes sizes that are not multiples of 4", pktLen: 64, body: csumDiff(0, 3, 0), want: 0xa03e, wantLen: 64}, // 9faf + 008f
		{name: "csum_diff takes odd sizes on both sides", pktLen: 64, body: csumDiff(2, 6, 0), want: 0x3f18, wantLen: 64},
		{name: "csum_diff of nothing folds the seed", pktLen: 64, body: csumDiff(0, 0, 0x12345678), want: 0x68ac, wantLen: 64},
	}
}

func edgeSpec(c edgeCase) *ebpf.CollectionSpec {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	insns = append(insns, c.body...)
	insns = append(insns, asm.Return())
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{"edge": {Name: "edge", Type: ebpf.XDP, License: "GPL", Instructions: insns}},
	}
	for n, m := range c.maps {
		spec.Maps[n] = m.Copy()
	}
	return spec
}

func TestHelperEdgeConditions(t *testing.T) {
	kerr := kernel.Available()
	for _, c := range edgeCases() {
		t.Run(c.name, func(t *testing.T) {
			pkt := make([]byte, c.pktLen)
			for i := range pkt {
				pkt[i] = byte(i*7 + 1)
			}
			meta := bytes.Repeat([]byte{0xaa}, c.metaLen)
			var s sim.Outcome
			for _, e := range vm.Engines() {
				o, err := sim.LoadSpec("edge", edgeSpec(c), sim.LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				p, err := o.FindProgram("edge")
				if err != nil {
					t.Fatal(err)
				}
				x, err := sim.NewXDP(p)
				if err != nil {
					t.Fatal(err)
				}
				x.Machine().SetEngine(e)
				s = x.Run(pkt, meta, sim.Conditions{IngressIfindex: 1})
				if s.Err != "" {
					t.Fatalf("simulator (%s engine): %s", e.Name(), s.Err)
				}
				if int32(s.Ret) != c.want && !(c.want == 4 && s.Ret == 4) {
					t.Errorf("simulator (%s engine) returned %d, the spec says %d", e.Name(), int32(s.Ret), c.want)
				}
				if c.wantLen >= 0 && len(s.Data) != c.wantLen {
					t.Errorf("simulator (%s engine) left %d bytes of data, the spec says %d", e.Name(), len(s.Data), c.wantLen)
				}
				s.Data, s.Meta = bytes.Clone(s.Data), bytes.Clone(s.Meta)
			}
			if kerr != nil {
				t.Logf("kernel side skipped: %v", kerr)
				return
			}
			kp, err := kernel.LoadSpec("edge", edgeSpec(c), kernel.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer kp.Close()
			k := kp.Run(pkt, meta, kernel.Context{IngressIfindex: 1})
			if k.Err != "" {
				t.Fatalf("kernel: %s", k.Err)
			}
			if int32(k.Ret) != c.want {
				t.Errorf("kernel returned %d, the spec says %d (the spec or this case is wrong)", int32(k.Ret), c.want)
			}
			if s.Ret != k.Ret || !bytes.Equal(s.Data, k.Data) || !bytes.Equal(s.Meta, k.Meta) {
				t.Errorf("simulator and kernel disagree: ret %d/%d, data %d/%d bytes equal=%v, meta %s/%s",
					s.Ret, k.Ret, len(s.Data), len(k.Data), bytes.Equal(s.Data, k.Data), fmt.Sprintf("%x", s.Meta), fmt.Sprintf("%x", k.Meta))
			}
		})
	}
}
