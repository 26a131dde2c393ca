package kernel_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
)

// tcEdgeCase is one call of a tc helper at the edge of what the kernel allows, run on a packet as
// BPF_PROG_TEST_RUN runs a tc program. want is the return value measured on Linux 6.18; wantLen
// the length of the packet afterwards (-1: not checked). The simulator must give both, and agree
// with the kernel, where there is one, on the packet's bytes and on the __sk_buff it gives back
// (the bodies leave what else they observe in cb[]).
type tcEdgeCase struct {
	name    string
	pkt     []byte
	body    asm.Instructions // runs with r6 = ctx; leaves the helper's result in r0
	maps    map[string]*ebpf.MapSpec
	want    int32
	wantLen int
}

// Frames for the tc cases: Ethernet to 02:00:00:00:00:02 from 02:00:00:00:00:01.
func tcEth(etherType uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, 0}
	binary.BigEndian.PutUint16(b[12:], etherType)
	return b
}

// ipv4Header is a 20-byte IPv4 header of a packet of total length n (from the IP header), with
// its checksum, from 10.0.0.1 to 10.0.0.2; tos carries the ECN bits.
func ipv4Header(n int, proto, tos byte) []byte {
	h := []byte{0x45, tos, 0, 0, 0x12, 0x34, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	binary.BigEndian.PutUint16(h[2:], uint16(n))
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	return h
}

// udp4 is an Ethernet/IPv4/UDP frame of n bytes, ports 1234 -> 5678, UDP checksum csum.
func udp4(n int, tos byte, csum uint16) []byte {
	b := append(tcEth(0x0800), ipv4Header(n-14, 17, tos)...)
	u := []byte{0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(u[4:], uint16(n-34))
	binary.BigEndian.PutUint16(u[6:], csum)
	b = append(b, u...)
	for len(b) < n {
		b = append(b, byte(len(b)*3+1))
	}
	return b[:n]
}

// udp6 is an Ethernet/IPv6/UDP frame of n bytes; tclass carries the ECN bits.
func udp6(n int, tclass byte) []byte {
	b := tcEth(0x86dd)
	h := make([]byte, 40)
	binary.BigEndian.PutUint32(h, 6<<28|uint32(tclass)<<20)
	binary.BigEndian.PutUint16(h[4:], uint16(n-54))
	h[6], h[7] = 17, 64
	h[8], h[23] = 0x20, 1
	h[24], h[39] = 0x20, 2
	b = append(b, h...)
	b = append(b, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 0)
	for len(b) < n {
		b = append(b, byte(len(b)*5+3))
	}
	return b[:n]
}

// tagged is an 802.1Q frame, VID 5, around an IPv4/UDP packet of n bytes in all.
func tagged(n int) []byte {
	in := udp4(n-4, 0, 0)
	b := append(append([]byte{}, in[:12]...), 0x81, 0x00, 0x00, 0x05)
	return append(b, in[12:]...)
}

func arpFrame(n int) []byte {
	b := tcEth(0x0806)
	for len(b) < n {
		b = append(b, byte(len(b)))
	}
	return b
}

// tcCall builds "r1 = ctx; r2..r5 = args; call f".
func tcCall(f asm.BuiltinFunc, args ...int64) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R1, asm.R6)}
	for i, a := range args {
		insns = append(insns, asm.LoadImm(asm.Register(2+i), a, asm.DWord))
	}
	return append(insns, f.Call())
}

func tcEdgeCases() []tcEdgeCase {
	const (
		eFAULT      = -14
		eINVAL      = -22
		eNOMEM      = -12
		eACCES      = -13
		eNODEV      = -19
		eNOTSUPP    = -524
		eAFNOSUPP   = -97
		eRANGE      = -34
		tcActShot   = 2
		tcActRedir  = 7
		ipCsumOff   = 24
		udpCsumOff  = 40
		udpDportOff = 36
	)
	// stack puts words at r10-24 on and points reg at them.
	stack := func(reg asm.Register, words ...int32) asm.Instructions {
		var out asm.Instructions
		for i, w := range words {
			out = append(out, asm.StoreImm(asm.R10, int16(-24+4*i), int64(w), asm.Word))
		}
		return append(out, asm.Mov.Reg(reg, asm.R10), asm.Add.Imm(reg, -24))
	}
	// bytesCall calls f(ctx, off, r10-16, n[, extra]) with the stack preset to two known words,
	// and saves the first word of the buffer afterwards to cb[0].
	bytesCall := func(f asm.BuiltinFunc, off int64, n int32, extra ...int64) asm.Instructions {
		insns := stack(asm.R3, 0x11223344, 0x55667788)
		insns = append(insns, asm.Mov.Reg(asm.R1, asm.R6), asm.LoadImm(asm.R2, off, asm.DWord), asm.Mov.Imm(asm.R4, n))
		for i, a := range extra {
			insns = append(insns, asm.LoadImm(asm.Register(5+i), a, asm.DWord))
		}
		return append(insns, f.Call(),
			asm.LoadMem(asm.R2, asm.R10, -24, asm.Word), asm.StoreMem(asm.R6, 48, asm.R2, asm.Word))
	}
	// readField loads a __sk_buff field after the helper into cb[3].
	readField := func(insns asm.Instructions, off int16) asm.Instructions {
		return append(insns, asm.LoadMem(asm.R2, asm.R6, off, asm.Word), asm.StoreMem(asm.R6, 60, asm.R2, asm.Word))
	}
	checkMTU := func(ifindex, mtuLen, lenDiff, flags int32) asm.Instructions {
		insns := asm.Instructions{asm.StoreImm(asm.R10, -8, int64(mtuLen), asm.Word), asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -8)}
		return append(insns, asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R2, ifindex), asm.Mov.Imm(asm.R4, lenDiff), asm.Mov.Imm(asm.R5, flags),
			asm.FnCheckMtu.Call(), asm.LoadMem(asm.R2, asm.R10, -8, asm.Word), asm.StoreMem(asm.R6, 52, asm.R2, asm.Word))
	}
	neigh := func(plen, flags int32) asm.Instructions {
		insns := stack(asm.R2, 2, 0x0100000a, 0, 0, 0)
		return append(insns, asm.Mov.Imm(asm.R1, 1), asm.Mov.Imm(asm.R3, plen), asm.Mov.Imm(asm.R4, flags), asm.FnRedirectNeigh.Call())
	}
	u := udp4(64, 0, 0x1234)
	return []tcEdgeCase{
		{name: "skb_load_bytes reads the packet", pkt: u, body: bytesCall(asm.FnSkbLoadBytes, 14, 8), want: 0, wantLen: 64},
		{name: "skb_load_bytes reads the last bytes", pkt: u, body: bytesCall(asm.FnSkbLoadBytes, 56, 8), want: 0, wantLen: 64},
		{name: "skb_load_bytes past the end fails and zeroes the buffer", pkt: u, body: bytesCall(asm.FnSkbLoadBytes, 60, 8), want: eFAULT, wantLen: 64},
		{name: "skb_load_bytes refuses an offset above INT_MAX", pkt: u, body: bytesCall(asm.FnSkbLoadBytes, 0x80000000, 4), want: eFAULT, wantLen: 64},
		{name: "skb_load_bytes_relative reads the MAC header", pkt: u, body: bytesCall(asm.FnSkbLoadBytesRelative, 0, 8, 0), want: 0, wantLen: 64},
		{name: "skb_load_bytes_relative reads from the network header", pkt: u, body: bytesCall(asm.FnSkbLoadBytesRelative, 12, 8, 1), want: 0, wantLen: 64},
		{name: "skb_load_bytes_relative stops at the tail", pkt: u, body: bytesCall(asm.FnSkbLoadBytesRelative, 46, 8, 1), want: eFAULT, wantLen: 64},
		{name: "skb_load_bytes_relative refuses an unknown start header", pkt: u, body: bytesCall(asm.FnSkbLoadBytesRelative, 0, 8, 2), want: eFAULT, wantLen: 64},
		{name: "skb_load_bytes_relative refuses an offset above 0xffff", pkt: u, body: bytesCall(asm.FnSkbLoadBytesRelative, 0x10000, 4, 0), want: eFAULT, wantLen: 64},
		{name: "skb_store_bytes writes", pkt: u, body: bytesCall(asm.FnSkbStoreBytes, 50, 8, 0), want: 0, wantLen: 64},
		{name: "skb_store_bytes with both flags writes", pkt: u, body: bytesCall(asm.FnSkbStoreBytes, 50, 8, 3), want: 0, wantLen: 64},
		{name: "skb_store_bytes refuses an unknown flag", pkt: u, body: bytesCall(asm.FnSkbStoreBytes, 50, 8, 4), want: eINVAL, wantLen: 64},
		{name: "skb_store_bytes past the end fails", pkt: u, body: bytesCall(asm.FnSkbStoreBytes, 60, 8, 0), want: eFAULT, wantLen: 64},
		{name: "skb_store_bytes refuses an offset above INT_MAX", pkt: u, body: bytesCall(asm.FnSkbStoreBytes, 0x80000000, 4, 0), want: eFAULT, wantLen: 64},
		{name: "l3_csum_replace of a 4-byte field", pkt: u, body: tcCall(asm.FnL3CsumReplace, ipCsumOff, 0x0100000a, 0x0200000a, 4), want: 0, wantLen: 64},
		{name: "l3_csum_replace of a 2-byte field", pkt: u, body: tcCall(asm.FnL3CsumReplace, ipCsumOff, 0x4000, 0x3f00, 2), want: 0, wantLen: 64},
		{name: "l3_csum_replace by a difference", pkt: u, body: tcCall(asm.FnL3CsumReplace, ipCsumOff, 0, 0x1234, 0), want: 0, wantLen: 64},
		{name: "l3_csum_replace by a difference needs from 0", pkt: u, body: tcCall(asm.FnL3CsumReplace, ipCsumOff, 1, 0x1234, 0), want: eINVAL, wantLen: 64},
		{name: "l3_csum_replace refuses field size 3", pkt: u, body: tcCall(asm.FnL3CsumReplace, ipCsumOff, 1, 2, 3), want: eINVAL, wantLen: 64},
		{name: "l3_csum_replace refuses flags past the field size", pkt: u, body: tcCall(asm.FnL3CsumReplace, ipCsumOff, 1, 2, 0x14), want: eINVAL, wantLen: 64},
		{name: "l3_csum_replace refuses an odd offset", pkt: u, body: tcCall(asm.FnL3CsumReplace, 25, 1, 2, 2), want: eFAULT, wantLen: 64},
		{name: "l3_csum_replace refuses an offset past the end", pkt: u, body: tcCall(asm.FnL3CsumReplace, 64, 1, 2, 2), want: eFAULT, wantLen: 64},
		{name: "l4_csum_replace with the pseudo header", pkt: u, body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 0x0100000a, 0x0300000a, 0x14), want: 0, wantLen: 64},
		{name: "l4_csum_replace of a port", pkt: u, body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 0x2e16, 0x5000, 2), want: 0, wantLen: 64},
		{name: "l4_csum_replace by a difference", pkt: u, body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 0, 0xabcd, 0x10), want: 0, wantLen: 64},
		{name: "l4_csum_replace leaves a zero UDP checksum with MARK_MANGLED_0", pkt: udp4(64, 0, 0), body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 0x0100000a, 0x0300000a, 0x34), want: 0, wantLen: 64},
		{name: "l4_csum_replace writes 0xffff for a result of 0 with MARK_MANGLED_0", pkt: udp4(64, 0, 0x00ff), body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 0, 0xff00, 0x20), want: 0, wantLen: 64},
		{name: "l4_csum_replace enforces a zero checksum with MARK_ENFORCE", pkt: udp4(64, 0, 0), body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 0x0100000a, 0x0300000a, 0x74), want: 0, wantLen: 64},
		{name: "l4_csum_replace takes BPF_F_IPV6", pkt: udp6(80, 0), body: tcCall(asm.FnL4CsumReplace, 60, 0x0100000a, 0x0300000a, 0x94), want: 0, wantLen: 80},
		{name: "l4_csum_replace refuses an unknown flag", pkt: u, body: tcCall(asm.FnL4CsumReplace, udpCsumOff, 1, 2, 0x104), want: eINVAL, wantLen: 64},
		{name: "csum_update needs CHECKSUM_COMPLETE", pkt: u, body: tcCall(asm.FnCsumUpdate, 0x1234), want: eNOTSUPP, wantLen: 64},
		{name: "csum_level query on CHECKSUM_NONE is refused", pkt: u, body: tcCall(asm.FnCsumLevel, 0), want: eACCES, wantLen: 64},
		{name: "csum_level inc then query gives level 0", pkt: u, body: append(tcCall(asm.FnCsumLevel, 1), tcCall(asm.FnCsumLevel, 0)...), want: 0, wantLen: 64},
		{name: "csum_level refuses an unknown level", pkt: u, body: tcCall(asm.FnCsumLevel, 4), want: eINVAL, wantLen: 64},
		{name: "skb_change_head adds zeroed headroom", pkt: u, body: readField(tcCall(asm.FnSkbChangeHead, 14, 0), 0), want: 0, wantLen: 78},
		{name: "skb_change_head refuses flags", pkt: u, body: tcCall(asm.FnSkbChangeHead, 14, 1), want: eINVAL, wantLen: 64},
		{name: "skb_change_head may reach the longest packet", pkt: u, body: tcCall(asm.FnSkbChangeHead, 16064-64, 0), want: 0, wantLen: 16064},
		{name: "skb_change_head may not pass the longest packet", pkt: u, body: tcCall(asm.FnSkbChangeHead, 16065-64, 0), want: eINVAL, wantLen: 64},
		{name: "skb_change_tail grows with zeroes", pkt: u, body: tcCall(asm.FnSkbChangeTail, 100, 0), want: 0, wantLen: 100},
		{name: "skb_change_tail shrinks to the network header", pkt: u, body: tcCall(asm.FnSkbChangeTail, 14, 0), want: 0, wantLen: 14},
		{name: "skb_change_tail may not cut into the MAC header", pkt: u, body: tcCall(asm.FnSkbChangeTail, 13, 0), want: eINVAL, wantLen: 64},
		{name: "skb_change_tail may reach the longest packet", pkt: u, body: tcCall(asm.FnSkbChangeTail, 16064, 0), want: 0, wantLen: 16064},
		{name: "skb_change_tail may not pass the longest packet", pkt: u, body: tcCall(asm.FnSkbChangeTail, 16065, 0), want: eINVAL, wantLen: 64},
		{name: "skb_change_tail refuses flags", pkt: u, body: tcCall(asm.FnSkbChangeTail, 60, 1), want: eINVAL, wantLen: 64},
		{name: "skb_pull_data of 0 pulls the linear part", pkt: u, body: tcCall(asm.FnSkbPullData, 0), want: 0, wantLen: 64},
		{name: "skb_pull_data of the whole packet", pkt: u, body: tcCall(asm.FnSkbPullData, 64), want: 0, wantLen: 64},
		{name: "skb_pull_data past the end fails", pkt: u, body: tcCall(asm.FnSkbPullData, 65), want: eNOMEM, wantLen: 64},
		{name: "skb_adjust_room grows behind the IPv4 header", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 8, 0, 0), want: 0, wantLen: 72},
		{name: "skb_adjust_room shrinks behind the IPv4 header", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, -8, 0, 0), want: 0, wantLen: 56},
		{name: "skb_adjust_room grows behind the MAC header for an IPIP encapsulation", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 20, 1, 2), want: 0, wantLen: 84},
		{name: "skb_adjust_room grows for UDP in IPv4 encapsulation", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 28, 1, 2|16), want: 0, wantLen: 92},
		{name: "skb_adjust_room grows for Ethernet in UDP", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 50, 1, 2|16|64|14<<56), want: 0, wantLen: 114},
		{name: "skb_adjust_room decapsulates to IPv4", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, -20, 1, 128), want: 0, wantLen: 44},
		{name: "skb_adjust_room refuses to decapsulate while growing", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 20, 1, 128), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses both decapsulations", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, -20, 1, 384), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses both L3 encapsulations", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 40, 1, 6), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses GRE and UDP together", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 40, 1, 2|8|16), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses an inner MAC header of other than 14 bytes", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 50, 1, 2|16|64|12<<56), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses an inner MAC header longer than the room", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 10, 1, 2|16<<56), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses encapsulation flags when shrinking", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, -8, 1, 2), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses an unknown flag", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 8, 0, 1<<9), want: eINVAL, wantLen: 64},
		{name: "skb_adjust_room refuses more than 0xfff bytes", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 0x1000, 0, 0), want: eFAULT, wantLen: 64},
		{name: "skb_adjust_room refuses an unknown mode", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, 8, 2, 0), want: eNOTSUPP, wantLen: 64},
		{name: "skb_adjust_room works on IP only", pkt: arpFrame(60), body: tcCall(asm.FnSkbAdjustRoom, 8, 1, 0), want: eNOTSUPP, wantLen: 60},
		{name: "skb_adjust_room cannot shrink into the IPv4 header", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, -31, 0, 0), want: eNOTSUPP, wantLen: 64},
		{name: "skb_adjust_room may leave the IPv4 header alone", pkt: u, body: tcCall(asm.FnSkbAdjustRoom, -30, 0, 0), want: 0, wantLen: 34},
		{name: "skb_adjust_room shrinks the IPv6 payload", pkt: udp6(80, 0), body: tcCall(asm.FnSkbAdjustRoom, -8, 0, 0), want: 0, wantLen: 72},
		{name: "skb_change_proto makes room for an IPv6 header", pkt: u, body: readField(tcCall(asm.FnSkbChangeProto, 0xdd86, 0), 16), want: 0, wantLen: 84},
		{name: "skb_change_proto takes an IPv6 header down to IPv4", pkt: udp6(80, 0), body: readField(tcCall(asm.FnSkbChangeProto, 0x0008, 0), 16), want: 0, wantLen: 60},
		{name: "skb_change_proto to the same protocol is not supported", pkt: u, body: tcCall(asm.FnSkbChangeProto, 0x0008, 0), want: eNOTSUPP, wantLen: 64},
		{name: "skb_change_proto refuses flags", pkt: u, body: tcCall(asm.FnSkbChangeProto, 0xdd86, 1), want: eINVAL, wantLen: 64},
		{name: "skb_change_type to PACKET_HOST", pkt: u, body: readField(tcCall(asm.FnSkbChangeType, 0), 4), want: 0, wantLen: 64},
		{name: "skb_change_type refuses PACKET_OUTGOING", pkt: u, body: tcCall(asm.FnSkbChangeType, 4), want: eINVAL, wantLen: 64},
		{name: "skb_vlan_push puts the tag beside the packet", pkt: u, body: readField(tcCall(asm.FnSkbVlanPush, 0x0081, 0x2005), 24), want: 0, wantLen: 64},
		{name: "skb_vlan_push twice moves the first tag into the packet", pkt: u, body: readField(append(tcCall(asm.FnSkbVlanPush, 0xa888, 7), tcCall(asm.FnSkbVlanPush, 0x0081, 9)...), 16), want: 0, wantLen: 68},
		{name: "skb_vlan_push makes any other protocol 802.1Q", pkt: u, body: readField(tcCall(asm.FnSkbVlanPush, 0x0008, 3), 28), want: 0, wantLen: 64},
		{name: "skb_vlan_pop of an untagged frame does nothing", pkt: u, body: tcCall(asm.FnSkbVlanPop), want: 0, wantLen: 64},
		{name: "skb_vlan_pop takes the tag out of the frame", pkt: tagged(68), body: readField(tcCall(asm.FnSkbVlanPop), 16), want: 0, wantLen: 64},
		{name: "skb_vlan_pop of a tag the frame cuts short fails", pkt: tagged(68)[:17], body: tcCall(asm.FnSkbVlanPop), want: eNOMEM, wantLen: 17},
		{name: "redirect to egress", pkt: u, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 0), asm.FnRedirect.Call()}, want: tcActRedir, wantLen: 64},
		{name: "redirect to ingress", pkt: u, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 1), asm.FnRedirect.Call()}, want: tcActRedir, wantLen: 64},
		{name: "redirect with another flag drops", pkt: u, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 2), asm.FnRedirect.Call()}, want: tcActShot, wantLen: 64},
		{name: "redirect_peer", pkt: u, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 0), asm.FnRedirectPeer.Call()}, want: tcActRedir, wantLen: 64},
		{name: "redirect_peer with a flag drops", pkt: u, body: asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 1), asm.FnRedirectPeer.Call()}, want: tcActShot, wantLen: 64},
		{name: "redirect_neigh without a nexthop", pkt: u, body: asm.Instructions{asm.Mov.Imm(asm.R1, 1), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0), asm.FnRedirectNeigh.Call()}, want: tcActRedir, wantLen: 64},
		{name: "redirect_neigh with a nexthop", pkt: u, body: neigh(20, 0), want: tcActRedir, wantLen: 64},
		{name: "redirect_neigh with a short nexthop drops", pkt: u, body: neigh(8, 0), want: tcActShot, wantLen: 64},
		{name: "redirect_neigh with flags drops", pkt: u, body: neigh(20, 1), want: tcActShot, wantLen: 64},
		// The test runs in a fresh namespace, where loopback is down: a down device's queue (noop)
		// drops the clone and says NET_XMIT_CN; its receive path drops it with NET_RX_DROP.
		{name: "clone_redirect to a device that is down is dropped by its queue", pkt: u, body: tcCall(asm.FnCloneRedirect, 1, 0), want: 2, wantLen: 64},
		{name: "clone_redirect into a device that is down is dropped", pkt: u, body: tcCall(asm.FnCloneRedirect, 1, 1), want: 1, wantLen: 64},
		{name: "clone_redirect to a missing device", pkt: u, body: tcCall(asm.FnCloneRedirect, 999, 0), want: eINVAL, wantLen: 64},
		{name: "clone_redirect refuses flags but BPF_F_INGRESS", pkt: u, body: tcCall(asm.FnCloneRedirect, 1, 2), want: eINVAL, wantLen: 64},
		{name: "get_hash_recalc gives a hash", pkt: u, body: append(tcCall(asm.FnGetHashRecalc), asm.JNE.Imm(asm.R0, 0, "set"), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("set")), want: 1, wantLen: 64},
		{name: "set_hash then the field reads it", pkt: u, body: readField(tcCall(asm.FnSetHash, 0xabcdef), 68), want: 0, wantLen: 64},
		{name: "set_hash_invalid clears it", pkt: u, body: readField(append(tcCall(asm.FnSetHash, 0xabcdef), tcCall(asm.FnSetHashInvalid)...), 68), want: 0, wantLen: 64},
		{name: "get_cgroup_classid is 0", pkt: u, body: tcCall(asm.FnGetCgroupClassid), want: 0, wantLen: 64},
		{name: "get_route_realm is 0 without a route", pkt: u, body: tcCall(asm.FnGetRouteRealm), want: 0, wantLen: 64},
		{name: "skb_ecn_set_ce leaves a packet that is not ECN-capable", pkt: udp4(64, 0, 0), body: tcCall(asm.FnSkbEcnSetCe), want: 0, wantLen: 64},
		{name: "skb_ecn_set_ce marks ECT(0) with its checksum", pkt: udp4(64, 2, 0), body: tcCall(asm.FnSkbEcnSetCe), want: 1, wantLen: 64},
		{name: "skb_ecn_set_ce marks ECT(1) with its checksum", pkt: udp4(64, 0xb9, 0), body: tcCall(asm.FnSkbEcnSetCe), want: 1, wantLen: 64},
		{name: "skb_ecn_set_ce says CE for CE", pkt: udp4(64, 3, 0), body: tcCall(asm.FnSkbEcnSetCe), want: 1, wantLen: 64},
		{name: "skb_ecn_set_ce marks IPv6", pkt: udp6(80, 1), body: tcCall(asm.FnSkbEcnSetCe), want: 1, wantLen: 80},
		{name: "skb_ecn_set_ce leaves ARP", pkt: arpFrame(60), body: tcCall(asm.FnSkbEcnSetCe), want: 0, wantLen: 60},
		{name: "check_mtu passes a small packet and gives the MTU", pkt: u, body: checkMTU(0, 0, 0, 0), want: 0, wantLen: 64},
		{name: "check_mtu says a grown packet needs fragmenting", pkt: u, body: checkMTU(0, 0, 70000, 0), want: 1, wantLen: 64},
		{name: "check_mtu takes the L3 length from mtu_len", pkt: u, body: checkMTU(0, 65536, 1, 0), want: 1, wantLen: 64},
		{name: "check_mtu refuses unknown flags and zeroes mtu_len", pkt: u, body: checkMTU(0, 0, 0, 2), want: eINVAL, wantLen: 64},
		{name: "check_mtu refuses BPF_MTU_CHK_SEGS with a length difference", pkt: u, body: checkMTU(0, 0, 4, 1), want: eINVAL, wantLen: 64},
		{name: "check_mtu names a missing device", pkt: u, body: checkMTU(999, 0, 0, 0), want: eNODEV, wantLen: 64},
		{name: "fib_lookup refuses a short parameter block", pkt: u, body: append(stack(asm.R2, 0, 0, 0, 0), asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R3, 16), asm.Mov.Imm(asm.R4, 0), asm.FnFibLookup.Call()), want: eINVAL, wantLen: 64},
		{name: "fib_lookup refuses an unknown family", pkt: u, body: append(fibParams(7), asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R3, 64), asm.Mov.Imm(asm.R4, 0), asm.FnFibLookup.Call()), want: eAFNOSUPP, wantLen: 64},
		{name: "fib_lookup says forwarding is off in a bare namespace", pkt: u, body: append(fibParams(2), asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R3, 64), asm.Mov.Imm(asm.R4, 0), asm.FnFibLookup.Call()), want: 5, wantLen: 64},
	}
}

// fibParams fills a struct bpf_fib_lookup at r10-64 (family, ifindex 1, 10.0.0.1 -> 10.0.0.2)
// and points r2 at it.
func fibParams(family int32) asm.Instructions {
	var out asm.Instructions
	for off := int16(-64); off < 0; off += 4 {
		out = append(out, asm.StoreImm(asm.R10, off, 0, asm.Word))
	}
	return append(out,
		asm.StoreImm(asm.R10, -64, int64(family), asm.Byte),
		asm.StoreImm(asm.R10, -56, 1, asm.Word),
		asm.StoreImm(asm.R10, -48, 0x0100000a, asm.Word),
		asm.StoreImm(asm.R10, -32, 0x0200000a, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -64))
}

func tcEdgeSpec(c tcEdgeCase) *ebpf.CollectionSpec {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	insns = append(insns, c.body...)
	insns = append(insns, asm.Return())
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{"edge": {Name: "edge", Type: ebpf.SchedCLS, License: "GPL", Instructions: insns}},
	}
	for n, m := range c.maps {
		spec.Maps[n] = m.Copy()
	}
	return spec
}

// TestTCHelperEdgeConditions runs every case on the simulator and, where one is usable, on the
// kernel, through BPF_PROG_TEST_RUN with a __sk_buff given in and back.
func TestTCHelperEdgeConditions(t *testing.T) {
	kerr := kernel.Available()
	for _, c := range tcEdgeCases() {
		t.Run(c.name, func(t *testing.T) {
			o, err := sim.LoadSpec("edge", tcEdgeSpec(c), sim.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := o.FindProgram("edge")
			if err != nil {
				t.Fatal(err)
			}
			tc, err := sim.NewTC(p)
			if err != nil {
				t.Fatal(err)
			}
			ctx := sim.SkbContext{Ifindex: 1}
			s := tc.Run(c.pkt, &ctx, sim.Conditions{})
			if s.Err != "" {
				t.Fatalf("simulator: %s", s.Err)
			}
			if int32(s.Ret) != c.want {
				t.Errorf("simulator returned %d, measured on 6.18: %d", int32(s.Ret), c.want)
			}
			if c.wantLen >= 0 && len(s.Data) != c.wantLen {
				t.Errorf("simulator left %d bytes, measured on 6.18: %d", len(s.Data), c.wantLen)
			}
			if kerr != nil {
				t.Logf("kernel side skipped: %v", kerr)
				return
			}
			kp, err := kernel.LoadSpec("edge", tcEdgeSpec(c), kernel.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer kp.Close()
			k := kp.RunTC(c.pkt, ctx.Marshal(), kernel.Context{})
			if k.Err != "" {
				t.Fatalf("kernel: %s", k.Err)
			}
			if int32(k.Ret) != c.want {
				t.Errorf("kernel returned %d, the case says %d (the case is wrong)", int32(k.Ret), c.want)
			}
			if s.Ret != k.Ret || !bytes.Equal(s.Data, k.Data) || !bytes.Equal(s.Ctx, k.Ctx) {
				t.Errorf("simulator and kernel disagree: ret %d/%d\n  data %x\n       %x\n  ctx %x\n      %x",
					int32(s.Ret), int32(k.Ret), s.Data, k.Data, s.Ctx, k.Ctx)
			}
		})
	}
}

var _ = fmt.Sprint
