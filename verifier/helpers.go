package verifier

import (
	"github.com/cilium/ebpf"
)

// Helper prototypes, as the kernel's struct bpf_func_proto describes them (net/core/filter.c,
// kernel/bpf/helpers.c and friends): the argument and return types the verifier checks a call
// against. Program types pick from this table (xdpFuncProto, baseFuncProto; tc's skb rules too).

type argType uint8

const (
	argNone argType = iota
	argAnything
	argConstMapPtr
	argMapKey
	argMapValue
	argMem          // ARG_PTR_TO_MEM: memory the helper reads (or writes with uninit)
	argConstSize    // ARG_CONST_SIZE
	argConstSizeOr0 // ARG_CONST_SIZE_OR_ZERO
	argCtx
	argStack // ARG_PTR_TO_STACK
	argFunc
	argSpinLock
	argSockCommon
	argBTFSockCommon
	argSocket
	argRingbufMem // ARG_PTR_TO_ALLOC_MEM | MEM_RINGBUF
	argConstAllocSizeOr0
	argTimer
	argConstStr
	argDynptr
	argFixedMem  // ARG_PTR_TO_FIXED_SIZE_MEM
	argPercpuBTF // ARG_PTR_TO_PERCPU_BTF_ID
	argKptr      // ARG_KPTR_XCHG_DEST
	argBTFID     // ARG_PTR_TO_BTF_ID (a task, a cgroup, ...: btf_ptr_types)
	argBTFIDNull // ARG_PTR_TO_BTF_ID_OR_NULL
)

// argSpec is one argument: its type and flags (PTR_MAYBE_NULL, MEM_RDONLY, MEM_UNINIT,
// OBJ_RELEASE), a fixed size, and the dynptr kind it wants; clone marks the uninitialised
// dynptr bpf_dynptr_clone makes, of the kind and reference of the dynptr before it.
type argSpec struct {
	t       argType
	null    bool
	rdonly  bool
	uninit  bool
	release bool
	clone   bool
	size    int
	dyn     dynptrKind
}

type retKind uint8

const (
	retInteger retKind = iota
	retVoid
	retMapValueOrNull
	retSocketOrNull
	retSockCommonOrNull
	retTCPSockOrNull
	retRingbufMemOrNull
	retDynptrMemOrNull
	retBTFIDOrNull
	// retMemOrBTFID stands for the pointer returns of the helpers whose objects the verifier
	// does not model (per-CPU pointers, task and cgroup storage): an unknown number;
	// bpf_kptr_xchg's is the kptr field's object (see kptr.go).
	retMemOrBTFID
)

type helperProto struct {
	ret        retKind
	args       []argSpec
	gpl        bool
	pktAccess  bool
	changesPkt bool
	acquire    bool
	// refCast: the helper returns a view of its socket argument (a full socket, a tcp_sock, a
	// bpf_skc_to_*_sock cast) that holds the argument's reference, if any: releasing either
	// kills both (the kernel's ptr cast functions).
	refCast bool
	// capability the kernel requires beyond CAP_BPF (perfmon helpers); a root loader has it.
	perfmon bool
	// retBTF names the type a RET_PTR_TO_BTF_ID helper returns
	retBTF string
	// sleeps: only sleepable programs may call it
	sleeps bool
}

var (
	anything   = argSpec{t: argAnything}
	mapPtr     = argSpec{t: argConstMapPtr}
	mapKey     = argSpec{t: argMapKey}
	mapValue   = argSpec{t: argMapValue}
	ctxArg     = argSpec{t: argCtx}
	memRO      = argSpec{t: argMem, rdonly: true}
	memRONull  = argSpec{t: argMem, rdonly: true, null: true}
	memUninit  = argSpec{t: argMem, uninit: true}
	memRW      = argSpec{t: argMem}
	size       = argSpec{t: argConstSize}
	sizeOr0    = argSpec{t: argConstSizeOr0}
	allocSize0 = argSpec{t: argConstAllocSizeOr0}
	funcArg    = argSpec{t: argFunc}
	stackNull  = argSpec{t: argStack, null: true}
	sockCommon = argSpec{t: argSockCommon}
	btfSockCom = argSpec{t: argBTFSockCommon}
	btfID      = argSpec{t: argBTFID}
)

func args(a ...argSpec) []argSpec { return a }

// helperProtos holds every prototype the verifier knows, by helper number.
var helperProtos = map[int32]*helperProto{
	1:  {ret: retMapValueOrNull, args: args(mapPtr, mapKey), pktAccess: true},
	2:  {args: args(mapPtr, mapKey, mapValue, anything), pktAccess: true},
	3:  {args: args(mapPtr, mapKey), pktAccess: true},
	4:  {args: args(memUninit, sizeOr0, anything), gpl: true, perfmon: true},
	5:  {},
	6:  {args: args(memRO, size), gpl: true, perfmon: true},
	7:  {},
	8:  {},
	9:  {args: args(ctxArg, anything, memRO, size, anything), changesPkt: true},
	10: {args: args(ctxArg, anything, anything, anything, anything), changesPkt: true},
	11: {args: args(ctxArg, anything, anything, anything, anything), changesPkt: true},
	12: {ret: retVoid, args: args(ctxArg, mapPtr, anything)},
	13: {args: args(ctxArg, anything, anything), changesPkt: true},
	14: {}, 15: {},
	16:  {args: args(memUninit, size)},
	17:  {args: args(ctxArg)},
	18:  {args: args(ctxArg, anything, anything), changesPkt: true},
	19:  {args: args(ctxArg), changesPkt: true},
	20:  {args: args(ctxArg, memUninit, size, anything)},
	21:  {args: args(ctxArg, memRO, size, anything)},
	23:  {args: args(anything, anything)},
	24:  {args: args(ctxArg)},
	25:  {args: args(ctxArg, mapPtr, anything, memRO, sizeOr0), gpl: true},
	26:  {args: args(ctxArg, anything, memUninit, size)},
	28:  {args: args(memRONull, sizeOr0, memRONull, sizeOr0, anything), pktAccess: true},
	29:  {args: args(ctxArg, memUninit, size)},
	30:  {args: args(ctxArg, memRO, size)},
	31:  {args: args(ctxArg, anything, anything), changesPkt: true},
	32:  {args: args(ctxArg, anything)},
	33:  {args: args(ctxArg, mapPtr, anything)},
	34:  {args: args(ctxArg)},
	35:  {perfmon: true},
	38:  {args: args(ctxArg, anything, anything), changesPkt: true},
	39:  {args: args(ctxArg, anything), changesPkt: true},
	40:  {args: args(ctxArg, anything)},
	41:  {args: args(ctxArg)},
	42:  {},
	43:  {args: args(ctxArg, anything, anything), changesPkt: true},
	44:  {args: args(ctxArg, anything), changesPkt: true},
	45:  {args: args(memUninit, sizeOr0, anything), gpl: true, perfmon: true},
	46:  {args: args(ctxArg)},
	47:  {args: args(ctxArg)},
	48:  {args: args(ctxArg, anything)},
	50:  {args: args(ctxArg, anything, anything, anything), changesPkt: true},
	51:  {args: args(mapPtr, anything, anything)},
	54:  {args: args(ctxArg, anything), changesPkt: true},
	65:  {args: args(ctxArg, anything), changesPkt: true},
	66:  {args: args(ctxArg, anything, memUninit, size, anything)},
	68:  {args: args(ctxArg, anything, memUninit, size, anything)},
	69:  {args: args(ctxArg, memRW, size, anything), gpl: true},
	79:  {args: args(ctxArg)},
	80:  {},
	83:  {args: args(ctxArg, anything)},
	84:  {ret: retSocketOrNull, args: args(ctxArg, memRO, size, anything, anything), pktAccess: true, acquire: true},
	85:  {ret: retSocketOrNull, args: args(ctxArg, memRO, size, anything, anything), pktAccess: true, acquire: true},
	86:  {args: args(argSpec{t: argBTFSockCommon, release: true})},
	87:  {args: args(mapPtr, mapValue, anything), pktAccess: true},
	88:  {args: args(mapPtr, argSpec{t: argMapValue, uninit: true})},
	89:  {args: args(mapPtr, argSpec{t: argMapValue, uninit: true})},
	93:  {ret: retVoid, args: args(argSpec{t: argSpinLock})},
	94:  {ret: retVoid, args: args(argSpec{t: argSpinLock})},
	95:  {ret: retSocketOrNull, args: args(sockCommon), refCast: true},
	96:  {ret: retTCPSockOrNull, args: args(sockCommon), refCast: true},
	97:  {args: args(ctxArg)},
	98:  {ret: retSocketOrNull, args: args(sockCommon)},
	99:  {ret: retSockCommonOrNull, args: args(ctxArg, memRO, size, anything, anything), pktAccess: true, acquire: true},
	100: {args: args(btfSockCom, memRO, size, memRO, size), pktAccess: true},
	105: {args: args(memRO, size, anything, argSpec{t: argFixedMem, size: 8, uninit: true})}, // bpf_strtol
	106: {args: args(memRO, size, anything, argSpec{t: argFixedMem, size: 8, uninit: true})}, // bpf_strtoul
	107: {ret: retMapValueOrNull, args: args(mapPtr, btfSockCom, argSpec{t: argMapValue, null: true}, anything)},
	108: {args: args(mapPtr, btfSockCom)},
	110: {args: args(btfSockCom, memRO, size, memRO, size), pktAccess: true},
	112: {args: args(memUninit, sizeOr0, anything), gpl: true, perfmon: true},
	113: {args: args(memUninit, sizeOr0, anything), gpl: true, perfmon: true},
	114: {args: args(memUninit, sizeOr0, anything), gpl: true, perfmon: true},
	115: {args: args(memUninit, sizeOr0, anything), gpl: true, perfmon: true},
	118: {},
	121: {args: args(ctxArg, mapPtr, anything, memRO, sizeOr0), gpl: true},
	122: {args: args(ctxArg)},
	124: {args: args(ctxArg, btfSockCom, anything)},
	125: {},
	130: {args: args(mapPtr, memRO, sizeOr0, anything)},
	131: {ret: retRingbufMemOrNull, args: args(mapPtr, allocSize0, anything), acquire: true},
	132: {ret: retVoid, args: args(argSpec{t: argRingbufMem, release: true}, anything)},
	133: {ret: retVoid, args: args(argSpec{t: argRingbufMem, release: true}, anything)},
	134: {args: args(mapPtr, anything)},
	135: {args: args(ctxArg, anything)},
	136: {ret: retBTFIDOrNull, args: args(btfSockCom), retBTF: "tcp6_sock", perfmon: true, refCast: true},
	137: {ret: retBTFIDOrNull, args: args(btfSockCom), retBTF: "tcp_sock", perfmon: true, refCast: true},
	138: {ret: retBTFIDOrNull, args: args(btfSockCom), retBTF: "tcp_timewait_sock", perfmon: true, refCast: true},
	139: {ret: retBTFIDOrNull, args: args(btfSockCom), retBTF: "tcp_request_sock", perfmon: true, refCast: true},
	140: {ret: retBTFIDOrNull, args: args(btfSockCom), retBTF: "udp6_sock", perfmon: true, refCast: true},
	149: {args: args(memUninit, size, memRO, size, anything)},
	151: {args: args(ctxArg)},
	158: {ret: retBTFIDOrNull, retBTF: "task_struct"},
	176: {args: args(memUninit, sizeOr0, anything)},
	152: {args: args(anything, memRONull, sizeOr0, anything)},
	155: {args: args(anything, anything)},
	160: {},
	163: {args: args(ctxArg, anything, argSpec{t: argFixedMem, size: 4, uninit: true}, anything, anything)},
	164: {args: args(mapPtr, funcArg, stackNull, anything)},
	165: {args: args(argSpec{t: argMem, uninit: true, null: true}, sizeOr0, argSpec{t: argConstStr}, memRONull, sizeOr0), perfmon: true},
	169: {args: args(argSpec{t: argTimer}, mapPtr, anything)},
	170: {args: args(argSpec{t: argTimer}, funcArg)},
	171: {args: args(argSpec{t: argTimer}, anything, anything)},
	172: {args: args(argSpec{t: argTimer})},
	177: {args: args(memRO, size, memRONull, sizeOr0), gpl: true, perfmon: true},
	178: {ret: retBTFIDOrNull, args: args(btfSockCom), retBTF: "unix_sock", perfmon: true},
	181: {args: args(anything, funcArg, stackNull, anything)},
	182: {args: args(memRO, size, argSpec{t: argConstStr})},
	188: {args: args(ctxArg)},
	189: {args: args(ctxArg, anything, memUninit, size)},
	190: {args: args(ctxArg, anything, memRO, size)},
	192: {args: args(ctxArg, anything, anything)},
	195: {ret: retMapValueOrNull, args: args(mapPtr, mapKey, anything), pktAccess: true},
	196: {ret: retBTFIDOrNull, args: args(sockCommon), retBTF: "mptcp_sock", perfmon: true, refCast: true},
	148: {sleeps: true},
	191: {sleeps: true},
	197: {args: args(memUninit, sizeOr0, anything, argSpec{t: argDynptr, uninit: true, dyn: dynptrLocal})},
	198: {args: args(mapPtr, anything, anything, argSpec{t: argDynptr, uninit: true, dyn: dynptrRingbuf})},
	199: {ret: retVoid, args: args(argSpec{t: argDynptr, release: true, dyn: dynptrRingbuf}, anything)},
	200: {ret: retVoid, args: args(argSpec{t: argDynptr, release: true, dyn: dynptrRingbuf}, anything)},
	201: {args: args(memUninit, sizeOr0, argSpec{t: argDynptr, rdonly: true}, anything, anything)},
	202: {args: args(argSpec{t: argDynptr, rdonly: true}, anything, memRO, sizeOr0, anything)},
	203: {ret: retDynptrMemOrNull, args: args(argSpec{t: argDynptr, rdonly: true}, anything, allocSize0)},
	204: {args: args(argSpec{t: argFixedMem, size: 20, rdonly: true}, memRO, sizeOr0), pktAccess: true},
	205: {args: args(argSpec{t: argFixedMem, size: 40, rdonly: true}, memRO, sizeOr0), pktAccess: true},
	206: {args: args(argSpec{t: argFixedMem, size: 20, rdonly: true}, argSpec{t: argFixedMem, size: 20, rdonly: true}), pktAccess: true},
	207: {args: args(argSpec{t: argFixedMem, size: 40, rdonly: true}, argSpec{t: argFixedMem, size: 20, rdonly: true}), pktAccess: true},
	208: {},
	209: {args: args(mapPtr, funcArg, stackNull, anything)},
	22:  {args: args(mapPtr, anything)},
	37:  {args: args(mapPtr, anything)},
	55:  {args: args(mapPtr, anything, memUninit, size)},
	120: {args: args(anything, anything, memUninit, size)},
	141: {args: args(btfID, memUninit, sizeOr0, anything)},
	153: {ret: retMemOrBTFID, args: args(argSpec{t: argPercpuBTF}, anything)},
	154: {ret: retMemOrBTFID, args: args(argSpec{t: argPercpuBTF})},
	156: {ret: retMemOrBTFID, args: args(mapPtr, argSpec{t: argBTFIDNull, null: true}, argSpec{t: argMapValue, null: true}, anything)},
	157: {args: args(mapPtr, argSpec{t: argBTFIDNull, null: true})},
	175: {ret: retMemOrBTFID, args: args(btfID)},
	180: {args: args(btfID, anything, funcArg, stackNull, anything)},
	194: {ret: retMemOrBTFID, args: args(argSpec{t: argKptr}, argSpec{t: argBTFIDNull, null: true, release: true})},
	210: {ret: retMemOrBTFID, args: args(mapPtr, btfID, argSpec{t: argMapValue, null: true}, anything)},
	211: {args: args(mapPtr, btfID)},
}

// xdpHelpers lists the helpers an XDP program may call on Linux 6.18 with a root loader
// (xdp_func_proto, bpf_sk_base_func_proto and bpf_base_func_proto), as measured by loading a
// call of every helper number: the others fail with "program of this type cannot use helper".
var xdpHelpers = map[int32]bool{}

func init() {
	for _, id := range []int32{1, 2, 3, 5, 6, 7, 8, 12, 14, 15, 16, 17, 22, 23, 25, 28, 35, 37, 42, 44,
		51, 54, 55, 65, 69, 80, 84, 85, 86, 87, 88, 89, 93, 94, 99, 100, 105, 106, 109, 110, 112, 113,
		114, 115, 117, 118, 120, 123, 125, 130, 131, 132, 133, 134, 136, 137, 138, 139, 140, 141, 148,
		149, 153, 154, 156, 157, 158, 160, 163, 164, 165, 169, 170, 171, 172, 175, 176, 177, 178, 180,
		181, 182, 188, 189, 190, 191, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206,
		207, 208, 209, 210, 211} {
		xdpHelpers[id] = true
	}
}

// unmodelled stands in for a helper the program type allows but whose prototype the verifier
// does not know in detail: its arguments are only required to be initialised.
var unmodelled = &helperProto{args: args(anything, anything, anything, anything, anything)}

// Prototypes a program type uses instead of the one in helperProtos.
var (
	// bpf_get_cgroup_classid_curr_proto: the classid of the current task, for XDP.
	cgroupClassidCurr = &helperProto{}
	// bpf_get_netns_cookie_proto of tc programs: the context or NULL.
	netnsCookieCtxOrNull = &helperProto{args: args(argSpec{t: argCtx, null: true})}
)

// xdpFuncProto is the kernel's xdp_func_proto.
func xdpFuncProto(id int32, p *Program) *helperProto {
	if !xdpHelpers[id] {
		return nil
	}
	switch id {
	case 25:
		return helperProtos[121] // the xdp variant of perf_event_output
	case 17:
		return cgroupClassidCurr
	}
	if h := helperProtos[id]; h != nil {
		return h
	}
	return unmodelled
}

// mapHelperCompat is check_map_func_compatibility: which helpers a map type allows, and which
// map types a map-taking helper accepts.
func mapHelperCompat(mt ebpf.MapType, id int32) bool {
	// First: what the map type allows.
	switch mt {
	case ebpf.ProgramArray:
		if id != 12 {
			return false
		}
	case ebpf.PerfEventArray:
		switch id {
		case 22, 25, 55, 111, 121, 126, 127:
		default:
			return false
		}
	case ebpf.RingBuf:
		switch id {
		case 130, 131, 134, 198:
		default:
			return false
		}
	case ebpf.DevMap, ebpf.DevMapHash:
		switch id {
		case 51, 1:
		default:
			return false
		}
	case ebpf.CPUMap:
		if id != 51 {
			return false
		}
	case ebpf.XSKMap:
		switch id {
		case 51, 1:
		default:
			return false
		}
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		if id != 1 {
			return false
		}
	case ebpf.Queue, ebpf.Stack:
		switch id {
		case 87, 88, 89:
		default:
			return false
		}
	case ebpf.StackTrace:
		switch id {
		case 27, 3:
		default:
			return false
		}
	}
	// Then: what the helper allows.
	switch id {
	case 12:
		return mt == ebpf.ProgramArray
	case 25, 121:
		return mt == ebpf.PerfEventArray
	case 130, 131, 134, 198:
		return mt == ebpf.RingBuf
	case 51:
		return mt == ebpf.DevMap || mt == ebpf.DevMapHash || mt == ebpf.CPUMap || mt == ebpf.XSKMap
	case 87, 88, 89:
		return mt == ebpf.Queue || mt == ebpf.Stack || mt == ebpf.BloomFilter
	case 195:
		return mt == ebpf.PerCPUArray || mt == ebpf.PerCPUHash || mt == ebpf.LRUCPUHash
	case 164:
		switch mt {
		case ebpf.Hash, ebpf.LRUHash, ebpf.Array, ebpf.PerCPUHash, ebpf.LRUCPUHash, ebpf.PerCPUArray:
			return true
		}
		return false
	case 107, 108:
		return mt == ebpf.SkStorage
	}
	return true
}
