package verifier

// The context of tc programs (BPF_PROG_TYPE_SCHED_CLS): struct __sk_buff. This file holds the
// kernel's rules for it, for every layer that needs them: which fields a program may read or write
// at which sizes and what a load gives (tc_cls_act_is_valid_access and bpf_skb_is_valid_access in
// net/core/filter.c), the value a narrow load yields, and the instructions the kernel rewrites each
// access into (bpf_convert_ctx_access and convert_ctx_accesses), which `xdpsim dump --xlated`
// prints. Every rule and every rewrite here was checked against Linux 6.18 (kernel/skb_ctx_test.go
// loads one program per field, size and direction and compares the verdict and the xlated
// instructions).
//
// The file stands alone: it needs nothing else of the package, and its names all start with Skb
// or skb.

import "github.com/xdpsim/xdpsim/vm"

// Offsets of the fields of struct __sk_buff (include/uapi/linux/bpf.h).
const (
	SkbLen            = 0
	SkbPktType        = 4
	SkbMark           = 8
	SkbQueueMapping   = 12
	SkbProtocol       = 16
	SkbVlanPresent    = 20
	SkbVlanTCI        = 24
	SkbVlanProto      = 28
	SkbPriority       = 32
	SkbIngressIfindex = 36
	SkbIfindex        = 40
	SkbTCIndex        = 44
	SkbCB             = 48 // __u32 cb[5]
	SkbHash           = 68
	SkbTCClassid      = 72
	SkbData           = 76
	SkbDataEnd        = 80
	SkbNapiID         = 84
	SkbFamily         = 88
	SkbRemoteIP4      = 92
	SkbLocalIP4       = 96
	SkbRemoteIP6      = 100 // __u32[4]
	SkbLocalIP6       = 116 // __u32[4]
	SkbRemotePort     = 132
	SkbLocalPort      = 136
	SkbDataMeta       = 140
	SkbFlowKeys       = 144 // a 64-bit pointer
	SkbTstamp         = 152 // __u64
	SkbWireLen        = 160
	SkbGSOSegs        = 164
	SkbSk             = 168 // a 64-bit pointer
	SkbGSOSize        = 176
	SkbTstampType     = 180 // __u8, then 24 bits of padding
	SkbHwtstamp       = 184 // __u64
	// SkbSize is sizeof(struct __sk_buff).
	SkbSize = 192
	// SkbCBSize is the size of cb[].
	SkbCBSize = 20
)

// SkbRegType is what the verifier knows of the value a load from the context gives.
type SkbRegType uint8

const (
	// SkbScalar is a number.
	SkbScalar SkbRegType = iota
	// SkbPacket is PTR_TO_PACKET: skb->data.
	SkbPacket
	// SkbPacketMeta is PTR_TO_PACKET_META: skb->data_meta.
	SkbPacketMeta
	// SkbPacketEnd is PTR_TO_PACKET_END: skb->data_end.
	SkbPacketEnd
	// SkbSockCommonOrNull is PTR_TO_SOCK_COMMON_OR_NULL: skb->sk.
	SkbSockCommonOrNull
)

func (t SkbRegType) String() string {
	switch t {
	case SkbPacket:
		return "pkt"
	case SkbPacketMeta:
		return "pkt_meta"
	case SkbPacketEnd:
		return "pkt_end"
	case SkbSockCommonOrNull:
		return "sock_common_or_null"
	}
	return "scalar"
}

// skbIn reports whether off lies in the field of size n at field.
func skbIn(off, field, n int) bool { return off >= field && off < field+n }

// SkbTCAccess answers whether a tc program may access size bytes at offset off of its context,
// as tc_cls_act_is_valid_access (and bpf_skb_is_valid_access, where it falls through) answers:
// write for a store, signExtend for a sign-extending load (BPF_MEMSX). For a load it also says
// what the loaded value is.
func SkbTCAccess(off, size int, write, signExtend bool) (SkbRegType, bool) {
	if write {
		switch {
		case skbIn(off, SkbMark, 4), skbIn(off, SkbTCIndex, 4), skbIn(off, SkbPriority, 4),
			skbIn(off, SkbTCClassid, 4), skbIn(off, SkbCB, SkbCBSize), skbIn(off, SkbTstamp, 8),
			skbIn(off, SkbQueueMapping, 4):
		default:
			return SkbScalar, false
		}
	}
	reg := SkbScalar
	switch {
	case skbIn(off, SkbData, 4):
		reg = SkbPacket
	case skbIn(off, SkbDataMeta, 4):
		reg = SkbPacketMeta
	case skbIn(off, SkbDataEnd, 4):
		reg = SkbPacketEnd
	case off >= SkbFamily && off < SkbLocalPort+4:
		return SkbScalar, false
	case off == SkbTstampType:
		// tc programs alone may read tstamp_type, a byte; reading it changes how tstamp is
		// rewritten (see SkbTCConvert).
		return SkbScalar, size == 1
	}
	// bpf_skb_is_valid_access.
	if off < 0 || off >= SkbSize || size <= 0 || off%size != 0 {
		return SkbScalar, false
	}
	switch {
	case skbIn(off, SkbCB, SkbCBSize):
		if off+size > SkbCB+SkbCBSize {
			return SkbScalar, false
		}
	case skbIn(off, SkbData, 4), skbIn(off, SkbDataMeta, 4), skbIn(off, SkbDataEnd, 4):
		if signExtend || size != 4 {
			return SkbScalar, false
		}
	case skbIn(off, SkbFlowKeys, 8):
		return SkbScalar, false
	case skbIn(off, SkbHwtstamp, 8):
		if write || size != 8 {
			return SkbScalar, false
		}
	case skbIn(off, SkbTstamp, 8):
		if size != 8 {
			return SkbScalar, false
		}
	case skbIn(off, SkbSk, 8):
		if write || off != SkbSk || size != 8 {
			return SkbScalar, false
		}
		reg = SkbSockCommonOrNull
	case off == SkbTstampType:
		return SkbScalar, false
	case off > SkbTstampType && off < SkbHwtstamp:
		return SkbScalar, false // padding
	default:
		if write {
			if size != 4 {
				return SkbScalar, false
			}
		} else if size > 4 || size&(size-1) != 0 {
			// bpf_ctx_narrow_access_ok: 1, 2 or 4 bytes of a 4-byte field.
			return SkbScalar, false
		}
	}
	return reg, true
}

// skbField is how the kernel turns a field of __sk_buff into the sk_buff behind it: the size it
// finally loads (bpf_convert_ctx_access's target_size), which decides what a narrow load yields.
type skbField struct {
	off, size, target int
}

// skbFields lists the fields a narrow load may read (the default case of bpf_skb_is_valid_access,
// where the verifier records a field size of 4) with the size of the kernel field behind each.
var skbFields = [...]skbField{
	{SkbLen, 4, 4}, {SkbPktType, 4, 1}, {SkbMark, 4, 4}, {SkbQueueMapping, 4, 2},
	{SkbProtocol, 4, 2}, {SkbVlanPresent, 4, 4}, {SkbVlanTCI, 4, 2}, {SkbVlanProto, 4, 2},
	{SkbPriority, 4, 4}, {SkbIngressIfindex, 4, 4}, {SkbIfindex, 4, 4}, {SkbTCIndex, 4, 2},
	{SkbHash, 4, 4}, {SkbTCClassid, 4, 2}, {SkbNapiID, 4, 4}, {SkbWireLen, 4, 4},
	{SkbGSOSegs, 4, 2}, {SkbGSOSize, 4, 2},
}

// SkbNarrow says how the kernel serves a valid load of size bytes at off: it evaluates the field at
// base, as the rewritten load does, and yields (value >> shift) & mask. A load narrower than its
// 4-byte field shifts and masks only when it is also narrower than the kernel field behind it
// (convert_ctx_accesses), so a 2-byte load of the upper half of queue_mapping, a 16-bit field,
// gives queue_mapping itself, and any narrow load of pkt_type, a 3-bit field, gives pkt_type.
// Fields that are never narrowed (cb[], the 8-byte fields, the pointers) come back unchanged.
func SkbNarrow(off, size int) (base int, shift uint, mask uint64) {
	if off < 0 || off >= SkbSize {
		return off, 0, ^uint64(0)
	}
	i := skbFieldAt[off/4]
	if i < 0 {
		return off, 0, ^uint64(0)
	}
	f := skbFields[i]
	if size >= f.size || size >= f.target {
		return f.off, 0, ^uint64(0)
	}
	return f.off, uint(off-f.off) * 8, 1<<(uint(size)*8) - 1
}

// skbFieldAt indexes skbFields by offset / 4 (-1: no narrowable field there).
var skbFieldAt = func() (at [SkbSize / 4]int8) {
	for i := range at {
		at[i] = -1
	}
	for i, f := range skbFields {
		at[f.off/4] = int8(i)
	}
	return at
}()

// Offsets in the kernel's structures that the rewritten accesses use, for Linux 6.18 on x86_64.
// sim/skb_btf_test.go checks every one against the simulator's vmlinux BTF.
const (
	skbKLen          = 112 // offsetof(struct sk_buff, len)
	skbKPktType      = 128 // PKT_TYPE_OFFSET: the byte that holds pkt_type:3
	skbKPktTypeMask  = 7
	skbKMark         = 164
	skbKQueueMapping = 124
	skbKProtocol     = 176
	skbKVlanAll      = 152 // vlan_all: vlan_proto and vlan_tci together
	skbKVlanTCI      = 154
	skbKVlanProto    = 152
	skbKPriority     = 140
	skbKIif          = 144 // skb_iif
	skbKDev          = 16
	skbKDevIfindex   = 224 // offsetof(struct net_device, ifindex)
	skbKTCIndex      = 132
	skbKCB           = 40          // offsetof(struct sk_buff, cb)
	skbKCBData       = skbKCB + 8  // qdisc_skb_cb.data, where cb[] lives
	skbKTCClassid    = skbKCB + 6  // qdisc_skb_cb.tc_classid
	skbKPktLen       = skbKCB + 0  // qdisc_skb_cb.pkt_len: wire_len
	skbKDataMeta     = skbKCB + 32 // bpf_skb_data_end.data_meta
	skbKDataEnd      = skbKCB + 40 // bpf_skb_data_end.data_end
	skbKHash         = 148
	skbKData         = 200
	skbKNapiID       = 156
	skbKTstamp       = 32
	skbKMonoTC       = 129 // SKB_BF_MONO_TC_OFFSET: tstamp_type:2 and tc_at_ingress:1
	skbKTstampMask   = 3   // SKB_TSTAMP_TYPE_MASK
	skbKAtIngress    = 4   // TC_AT_INGRESS_MASK
	skbKSk           = 24
	skbKEnd          = 188 // sk_buff.end: the offset of skb_shared_info from head
	skbKHead         = 192
	skbKShGSOSize    = 4   // offsetof(struct skb_shared_info, gso_size)
	skbKShGSOSegs    = 6   // offsetof(struct skb_shared_info, gso_segs)
	skbKShHwtstamp   = 16  // offsetof(struct skb_shared_info, hwtstamps)
	skbKCloned       = 126 // CLONED_OFFSET: the byte that holds cloned:1
	skbKClonedMask   = 1
	skbMinNapiID     = 257 // MIN_NAPI_ID
	skbNoQueueMap    = 0xffff
	skbRegAX         = 11 // BPF_REG_AX, the register the kernel keeps for its rewrites
)

// SkbKernelOffsets lists the offsets into kernel structures the rewrites use, as "struct.member":
// offset, for a test to hold them to a vmlinux BTF. Members inside anonymous unions and structs
// are named by their own name.
func SkbKernelOffsets() map[string]int {
	return map[string]int{
		"sk_buff.len": skbKLen, "sk_buff.__pkt_type_offset": skbKPktType, "sk_buff.mark": skbKMark,
		"sk_buff.queue_mapping": skbKQueueMapping, "sk_buff.protocol": skbKProtocol,
		"sk_buff.vlan_all": skbKVlanAll, "sk_buff.vlan_tci": skbKVlanTCI, "sk_buff.vlan_proto": skbKVlanProto,
		"sk_buff.priority": skbKPriority, "sk_buff.skb_iif": skbKIif, "sk_buff.dev": skbKDev,
		"net_device.ifindex": skbKDevIfindex, "sk_buff.tc_index": skbKTCIndex, "sk_buff.cb": skbKCB,
		"sk_buff.hash": skbKHash, "sk_buff.data": skbKData, "sk_buff.napi_id": skbKNapiID,
		"sk_buff.tstamp": skbKTstamp, "sk_buff.__mono_tc_offset": skbKMonoTC, "sk_buff.sk": skbKSk,
		"sk_buff.end": skbKEnd, "sk_buff.head": skbKHead, "sk_buff.__cloned_offset": skbKCloned,
		"skb_shared_info.gso_size": skbKShGSOSize, "skb_shared_info.gso_segs": skbKShGSOSegs,
		"skb_shared_info.hwtstamps": skbKShHwtstamp,
		"qdisc_skb_cb.pkt_len":      skbKPktLen - skbKCB, "qdisc_skb_cb.tc_classid": skbKTCClassid - skbKCB,
		"qdisc_skb_cb.data":          skbKCBData - skbKCB,
		"bpf_skb_data_end.data_meta": skbKDataMeta - skbKCB, "bpf_skb_data_end.data_end": skbKDataEnd - skbKCB,
	}
}

// SkbTCConvert is the kernel's rewrite of a valid access ins (a load, a store of a register or a
// store of an immediate through the context register) of a tc program: the instructions
// convert_ctx_accesses leaves in its place, narrow-load shift and mask and the sign extension of a
// BPF_MEMSX load included. tstampTypeAccess says the program reads tstamp_type somewhere, which
// makes tstamp a plain field. It returns ins itself for an access it does not know.
func SkbTCConvert(ins vm.Instruction, tstampTypeAccess bool) []vm.Instruction {
	cls := ins.Class()
	size := skbAccessSize(ins.Op)
	off := int(ins.Off)
	if cls == vm.ClassLDX {
		return skbConvertLoad(ins, off, size, tstampTypeAccess)
	}
	if cls != vm.ClassST && cls != vm.ClassSTX {
		return []vm.Instruction{ins}
	}
	ctx, src := ins.Dst(), ins.Src()
	// store emits the access at the kernel's offset and size: BPF_EMIT_STORE keeps the class, and
	// with it the register or the immediate.
	store := func(size uint8, koff int) vm.Instruction {
		return vm.Make(cls|vm.ModeMEM|size, ctx, src, int16(koff), ins.Imm)
	}
	switch {
	case off == SkbMark:
		return []vm.Instruction{store(vm.SizeW, skbKMark)}
	case off == SkbPriority:
		return []vm.Instruction{store(vm.SizeW, skbKPriority)}
	case off == SkbTCIndex:
		return []vm.Instruction{store(vm.SizeH, skbKTCIndex)}
	case off == SkbTCClassid:
		return []vm.Instruction{store(vm.SizeH, skbKTCClassid)}
	case skbIn(off, SkbCB, SkbCBSize):
		return []vm.Instruction{store(ins.Op&0x18, skbKCBData+off-SkbCB)}
	case off == SkbQueueMapping:
		if cls == vm.ClassST && uint32(ins.Imm) >= skbNoQueueMap {
			return []vm.Instruction{vm.Make(vm.ClassJMP|vm.JmpJA, 0, 0, 0, 0)} // ignored
		}
		var out []vm.Instruction
		if cls == vm.ClassSTX {
			out = append(out, vm.Make(vm.ClassJMP|vm.JmpJGE|vm.SrcK, src, 0, 1, skbNoQueueMap))
		}
		return append(out, store(vm.SizeH, skbKQueueMapping))
	case off == SkbTstamp && size == 8:
		var out []vm.Instruction
		if !tstampTypeAccess {
			// At tc ingress, writing tstamp clears its type (a delivery time becomes a receive
			// time).
			ax := uint8(skbRegAX)
			out = append(out,
				vm.Make(vm.ClassLDX|vm.ModeMEM|vm.SizeB, ax, ctx, skbKMonoTC, 0),
				vm.Make(vm.ClassJMP32|vm.JmpJSET|vm.SrcK, ax, 0, 1, skbKAtIngress),
				vm.Make(vm.ClassJMP|vm.JmpJA, 0, 0, 2, 0),
				vm.Make(vm.ClassALU|vm.AluAnd|vm.SrcK, ax, 0, 0, ^int32(skbKTstampMask)),
				vm.Make(vm.ClassSTX|vm.ModeMEM|vm.SizeB, ctx, ax, skbKMonoTC, 0))
		}
		return append(out, store(vm.SizeDW, skbKTstamp))
	}
	return []vm.Instruction{ins}
}

// skbConvertLoad rewrites a load; see SkbTCConvert.
func skbConvertLoad(ins vm.Instruction, off, size int, tstampTypeAccess bool) []vm.Instruction {
	dst, src := ins.Dst(), ins.Src()
	ldx := func(size uint8, d, s uint8, koff int) vm.Instruction {
		return vm.Make(vm.ClassLDX|vm.ModeMEM|size, d, s, int16(koff), 0)
	}
	// A narrow load becomes a load of the whole field, then a shift and a mask.
	base, _, _ := SkbNarrow(off, size)
	var out []vm.Instruction
	target := size
	switch base {
	case SkbLen:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKLen)}, 4
	case SkbPktType:
		out, target = []vm.Instruction{ldx(vm.SizeB, dst, src, skbKPktType),
			vm.Make(vm.ClassALU|vm.AluAnd|vm.SrcK, dst, 0, 0, skbKPktTypeMask)}, 1
	case SkbMark:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKMark)}, 4
	case SkbQueueMapping:
		out, target = []vm.Instruction{ldx(vm.SizeH, dst, src, skbKQueueMapping)}, 2
	case SkbProtocol:
		out, target = []vm.Instruction{ldx(vm.SizeH, dst, src, skbKProtocol)}, 2
	case SkbVlanPresent:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKVlanAll),
			vm.Make(vm.ClassJMP|vm.JmpJEQ|vm.SrcK, dst, 0, 1, 0),
			vm.Make(vm.ClassALU|vm.AluMov|vm.SrcK, dst, 0, 0, 1)}, 4
	case SkbVlanTCI:
		out, target = []vm.Instruction{ldx(vm.SizeH, dst, src, skbKVlanTCI)}, 2
	case SkbVlanProto:
		out, target = []vm.Instruction{ldx(vm.SizeH, dst, src, skbKVlanProto)}, 2
	case SkbPriority:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKPriority)}, 4
	case SkbIngressIfindex:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKIif)}, 4
	case SkbIfindex:
		out, target = []vm.Instruction{ldx(vm.SizeDW, dst, src, skbKDev), ldx(vm.SizeW, dst, dst, skbKDevIfindex)}, 4
	case SkbTCIndex:
		out, target = []vm.Instruction{ldx(vm.SizeH, dst, src, skbKTCIndex)}, 2
	case SkbHash:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKHash)}, 4
	case SkbTCClassid:
		out, target = []vm.Instruction{ldx(vm.SizeH, dst, src, skbKTCClassid)}, 2
	case SkbData:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, skbKData)}
	case SkbDataMeta:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, skbKDataMeta)}
	case SkbDataEnd:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, skbKDataEnd)}
	case SkbNapiID:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKNapiID),
			vm.Make(vm.ClassJMP|vm.JmpJGE|vm.SrcK, dst, 0, 1, skbMinNapiID),
			vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcK, dst, 0, 0, 0)}, 4
	case SkbWireLen:
		out, target = []vm.Instruction{ldx(vm.SizeW, dst, src, skbKPktLen)}, 4
	case SkbGSOSegs, SkbGSOSize, SkbHwtstamp:
		sz, koff := uint8(vm.SizeH), skbKShGSOSegs
		target = 2
		switch base {
		case SkbGSOSize:
			koff = skbKShGSOSize
		case SkbHwtstamp:
			sz, koff, target = vm.SizeDW, skbKShHwtstamp, 8
		}
		ax := uint8(skbRegAX)
		out = []vm.Instruction{ldx(vm.SizeW, ax, src, skbKEnd), ldx(vm.SizeDW, dst, src, skbKHead),
			vm.Make(vm.ClassALU64|vm.AluAdd|vm.SrcX, dst, ax, 0, 0), ldx(sz, dst, dst, koff)}
	case SkbSk:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, skbKSk)}
	case SkbTstampType:
		out, target = []vm.Instruction{ldx(vm.SizeB, dst, src, skbKMonoTC),
			vm.Make(vm.ClassALU|vm.AluAnd|vm.SrcK, dst, 0, 0, skbKTstampMask)}, 1
	case SkbTstamp:
		if tstampTypeAccess {
			out = []vm.Instruction{ldx(vm.SizeDW, dst, src, skbKTstamp)}
			break
		}
		// At tc ingress, a delivery time (tstamp_type set) reads as 0.
		ax := uint8(skbRegAX)
		out = []vm.Instruction{
			ldx(vm.SizeB, ax, src, skbKMonoTC),
			vm.Make(vm.ClassJMP32|vm.JmpJSET|vm.SrcK, ax, 0, 1, skbKAtIngress),
			vm.Make(vm.ClassJMP|vm.JmpJA, 0, 0, 4, 0),
			vm.Make(vm.ClassJMP32|vm.JmpJSET|vm.SrcK, ax, 0, 1, skbKTstampMask),
			vm.Make(vm.ClassJMP|vm.JmpJA, 0, 0, 2, 0),
			vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcK, dst, 0, 0, 0),
			vm.Make(vm.ClassJMP|vm.JmpJA, 0, 0, 1, 0),
			ldx(vm.SizeDW, dst, src, skbKTstamp),
		}
	default:
		if !skbIn(off, SkbCB, SkbCBSize) {
			return []vm.Instruction{ins}
		}
		out = []vm.Instruction{ldx(ins.Op&0x18, dst, src, skbKCBData+off-SkbCB)}
	}
	if _, shift, mask := SkbNarrow(off, size); size < 4 && size < target {
		if shift != 0 {
			out = append(out, vm.Make(vm.ClassALU|vm.AluRsh|vm.SrcK, dst, 0, 0, int32(shift)))
		}
		out = append(out, vm.Make(vm.ClassALU|vm.AluAnd|vm.SrcK, dst, 0, 0, int32(mask)))
	}
	if ins.Op&0xe0 == vm.ModeMEMSX {
		out = append(out, vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcX, dst, dst, int16(size*8), 0))
	}
	return out
}

// skbAccessSize is the number of bytes a load or store opcode moves.
func skbAccessSize(op uint8) int {
	switch op & 0x18 {
	case vm.SizeB:
		return 1
	case vm.SizeH:
		return 2
	case vm.SizeW:
		return 4
	}
	return 8
}

// SkbPullData is the number of bpf_skb_pull_data, which the prologue of SkbTCPrologue calls.
const SkbPullData = 39

// SkbTCPrologue is what the kernel puts in front of a tc program that writes packet data directly
// (tc_cls_act_prologue): when the skb is a clone, make its head private with
// bpf_skb_pull_data(skb, 0), and drop the packet (TC_ACT_SHOT) if that fails. The program follows
// it; a jump to the program's first instruction lands on the prologue.
func SkbTCPrologue() []vm.Instruction {
	const r0, r1, r2, r6 = 0, 1, 2, 6
	return []vm.Instruction{
		vm.Make(vm.ClassLDX|vm.ModeMEM|vm.SizeB, r6, r1, skbKCloned, 0),
		vm.Make(vm.ClassALU|vm.AluAnd|vm.SrcK, r6, 0, 0, skbKClonedMask),
		vm.Make(vm.ClassJMP|vm.JmpJEQ|vm.SrcK, r6, 0, 7, 0),
		vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcX, r6, r1, 0, 0),
		vm.Make(vm.ClassALU64|vm.AluXor|vm.SrcX, r2, r2, 0, 0),
		vm.Make(vm.OpCall, 0, 0, 0, SkbPullData),
		vm.Make(vm.ClassJMP|vm.JmpJEQ|vm.SrcK, r0, 0, 2, 0),
		vm.Make(vm.ClassALU|vm.AluMov|vm.SrcK, r0, 0, 0, 2), // TC_ACT_SHOT
		vm.Make(vm.OpExit, 0, 0, 0, 0),
		vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcX, r1, r6, 0, 0),
	}
}

// SkbReadsTstampType is the answer for a tc program that is not verified (xdpsim run
// --no-verify): whether it holds a one-byte load at tstamp_type's offset, through whatever
// register. A verified program's answer is the verifier's, which knows which loads read the
// context ([Result.TstampTypeAccess]).
func SkbReadsTstampType(insns []vm.Instruction) bool {
	for _, in := range insns {
		if in.Class() == vm.ClassLDX && in.Op&0x18 == vm.SizeB && in.Off == SkbTstampType {
			return true
		}
	}
	return false
}
