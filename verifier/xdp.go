package verifier

import (
	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/vm"
)

// The XDP program type: struct xdp_md as the context (xdp_is_valid_access), rewritten to loads
// of struct xdp_buff (xdp_convert_ctx_access), the helpers of xdp_func_proto.

// Layout of struct xdp_md, the UAPI context (include/uapi/linux/bpf.h): six __u32 fields.
const (
	XDPMdData           = 0
	XDPMdDataEnd        = 4
	XDPMdDataMeta       = 8
	XDPMdIngressIfindex = 12
	XDPMdRxQueueIndex   = 16
	XDPMdEgressIfindex  = 20
	XDPMdSize           = 24
)

// Offsets in the kernel's structures that the rewritten loads use, for Linux 6.18 on x86_64
// (checked against the simulator's vmlinux BTF by the sim package's tests; the xdp_buff ones
// are also in the spec, §1.1).
const (
	XDPBuffData          = 0   // offsetof(struct xdp_buff, data)
	XDPBuffDataEnd       = 8   // offsetof(struct xdp_buff, data_end)
	XDPBuffDataMeta      = 16  // offsetof(struct xdp_buff, data_meta)
	XDPBuffRxq           = 32  // offsetof(struct xdp_buff, rxq)
	XDPBuffTxq           = 40  // offsetof(struct xdp_buff, txq)
	XDPRxqInfoDev        = 0   // offsetof(struct xdp_rxq_info, dev)
	XDPRxqInfoQueueIndex = 8   // offsetof(struct xdp_rxq_info, queue_index)
	XDPTxqInfoDev        = 0   // offsetof(struct xdp_txq_info, dev)
	NetDeviceIfindex     = 224 // offsetof(struct net_device, ifindex)
)

func init() {
	registerProgType(ebpf.XDP, &progType{
		name:       "xdp",
		ctxAccess:  xdpCtxAccess,
		convertCtx: xdpConvertCtx,
		helper:     xdpFuncProto,
		pktWrite:   true,
		kfunc:      func(*kfuncs.Kfunc) bool { return true },
	})
}

// xdpCtxAccess is the kernel's xdp_is_valid_access for a program that is not offloaded.
func xdpCtxAccess(a ctxAccess) (ctxField, bool) {
	if a.write {
		return ctxField{}, false
	}
	if a.off == XDPMdEgressIfindex && a.attach != ebpf.AttachXDPDevMap {
		return ctxField{}, false
	}
	if a.ldsx && (a.off == XDPMdData || a.off == XDPMdDataEnd || a.off == XDPMdDataMeta) {
		return ctxField{}, false
	}
	if a.off < 0 || a.off >= XDPMdSize || a.off%a.size != 0 || a.size != 4 {
		return ctxField{}, false
	}
	switch a.off {
	case XDPMdData:
		return ctxField{typ: ptrToPacket}, true
	case XDPMdDataEnd:
		return ctxField{typ: ptrToPacketEnd}, true
	case XDPMdDataMeta:
		return ctxField{typ: ptrToPacketMeta}, true
	}
	return ctxField{typ: scalarValue}, true
}

// xdpConvertCtx is the kernel's xdp_convert_ctx_access for a valid load, followed by the sign
// extension convert_ctx_accesses appends to a BPF_MEMSX load.
func xdpConvertCtx(ins vm.Instruction, _ ctxAccess) []vm.Instruction {
	dst, src := ins.Dst(), ins.Src()
	ldx := func(size uint8, d, s uint8, off int16) vm.Instruction {
		return vm.Make(vm.ClassLDX|vm.ModeMEM|size, d, s, off, 0)
	}
	var out []vm.Instruction
	switch ins.Off {
	case XDPMdData:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, XDPBuffData)}
	case XDPMdDataEnd:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, XDPBuffDataEnd)}
	case XDPMdDataMeta:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, XDPBuffDataMeta)}
	case XDPMdIngressIfindex:
		out = []vm.Instruction{
			ldx(vm.SizeDW, dst, src, XDPBuffRxq),
			ldx(vm.SizeDW, dst, dst, XDPRxqInfoDev),
			ldx(vm.SizeW, dst, dst, NetDeviceIfindex),
		}
	case XDPMdRxQueueIndex:
		out = []vm.Instruction{
			ldx(vm.SizeDW, dst, src, XDPBuffRxq),
			ldx(vm.SizeW, dst, dst, XDPRxqInfoQueueIndex),
		}
	case XDPMdEgressIfindex:
		out = []vm.Instruction{
			ldx(vm.SizeDW, dst, src, XDPBuffTxq),
			ldx(vm.SizeDW, dst, dst, XDPTxqInfoDev),
			ldx(vm.SizeW, dst, dst, NetDeviceIfindex),
		}
	default:
		return nil
	}
	if ins.Op&0xe0 == vm.ModeMEMSX {
		out = append(out, vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcX, dst, dst, 32, 0))
	}
	return out
}
