package verifier

import (
	"fmt"
	"math"
	"strings"
)

// regType is the base type of a register or spilled value (the kernel's enum bpf_reg_type).
type regType uint8

const (
	notInit regType = iota
	scalarValue
	ptrToCtx
	constPtrToMap
	ptrToMapValue
	ptrToMapKey
	ptrToStack
	ptrToPacketMeta
	ptrToPacket
	ptrToPacketEnd
	ptrToSocket
	ptrToSockCommon
	ptrToTCPSock
	ptrToXDPSock
	ptrToBTFID
	ptrToMem
	ptrToFunc
	constPtrToDynptr
	ptrToBuf
)

var regTypeNames = [...]string{
	notInit: "?", scalarValue: "scalar", ptrToCtx: "ctx", constPtrToMap: "map_ptr", ptrToMapValue: "map_value",
	ptrToMapKey: "map_key", ptrToStack: "fp", ptrToPacketMeta: "pkt_meta", ptrToPacket: "pkt",
	ptrToPacketEnd: "pkt_end", ptrToSocket: "sock", ptrToSockCommon: "sock_common", ptrToTCPSock: "tcp_sock",
	ptrToXDPSock: "xdp_sock", ptrToBTFID: "ptr_", ptrToMem: "mem", ptrToFunc: "func", constPtrToDynptr: "dynptr_ptr", ptrToBuf: "buf",
}

// typeFlag modifies a base type (PTR_MAYBE_NULL, MEM_RDONLY, ...).
type typeFlag uint16

const (
	flagMaybeNull typeFlag = 1 << iota
	flagRdonly
	flagRingbuf
	flagUser
	flagPercpu
	flagRCU
	flagUntrusted
	flagTrusted
	flagAlloc
	// flagPktSlice marks memory a slice of an skb or xdp dynptr points to (DYNPTR_TYPE_SKB or
	// _XDP on PTR_TO_MEM): packet data, invalidated with the packet pointers. Not printed.
	flagPktSlice
)

// reg is the abstract value of a register or of a spilled register (struct bpf_reg_state).
type reg struct {
	typ   regType
	flags typeFlag
	// off is the fixed offset of a pointer; for a scalar linked to others by id with a constant
	// added (BPF_ADD_CONST), that constant.
	off int32
	// rng is the packet range proven by a comparison with pkt_end (pointers to the packet), or
	// the size of the memory (PTR_TO_MEM).
	rng int64
	// id ties copies of the same pointer or scalar together; refID names the reference an
	// acquired object holds.
	id    uint32
	refID uint32
	// dynptrID is the id of the dynptr a slice (PTR_TO_MEM) was taken from.
	dynptrID uint32
	addC     bool // scalar: id is a BPF_ADD_CONST link
	mapIdx   int32
	frame    uint8 // PTR_TO_STACK: the frame it points into
	// btf names the type a PTR_TO_BTF_ID points to; subprog the function of a PTR_TO_FUNC;
	// dynptr the kind of a CONST_PTR_TO_DYNPTR.
	btf     string
	subprog int32
	precise bool
	varOff  tnum
	smin    int64
	smax    int64
	umin    uint64
	umax    uint64
	s32min  int32
	s32max  int32
	u32min  uint32
	u32max  uint32
}

func (r *reg) isPointer() bool { return r.typ != notInit && r.typ != scalarValue }
func (r *reg) isConst() bool   { return r.typ == scalarValue && r.varOff.isConst() }
func (r *reg) isNull() bool    { return r.typ == scalarValue && r.varOff.equalsConst(0) }
func (r *reg) isPkt() bool     { return r.typ == ptrToPacket || r.typ == ptrToPacketMeta }
func (r *reg) maybeNull() bool { return r.flags&flagMaybeNull != 0 }

// setUnknown makes r an unknown scalar (mark_reg_unknown).
func (r *reg) setUnknown() {
	*r = reg{typ: scalarValue, varOff: tnumUnknown, mapIdx: -1}
	r.markUnbounded()
}

func (r *reg) setConst(v uint64) {
	*r = reg{typ: scalarValue, mapIdx: -1}
	r.markKnown(v)
}

func (r *reg) setNotInit() {
	*r = reg{mapIdx: -1}
}

// setPointer makes r a pointer of type t with offset 0 and no variable part.
func (r *reg) setPointer(t regType) {
	*r = reg{typ: t, mapIdx: -1}
	r.markKnown(0)
}

func unknownReg() reg {
	var r reg
	r.setUnknown()
	return r
}

func constReg(v uint64) reg {
	var r reg
	r.setConst(v)
	return r
}

// typeString is the kernel's reg_type_str.
func typeString(t regType, f typeFlag) string {
	var b strings.Builder
	if f&flagRdonly != 0 {
		b.WriteString("rdonly_")
	}
	if f&flagRingbuf != 0 {
		b.WriteString("ringbuf_")
	}
	if f&flagUser != 0 {
		b.WriteString("user_")
	}
	if f&flagPercpu != 0 {
		b.WriteString("percpu_")
	}
	if f&flagRCU != 0 {
		b.WriteString("rcu_")
	}
	if f&flagUntrusted != 0 {
		b.WriteString("untrusted_")
	}
	if f&flagTrusted != 0 {
		b.WriteString("trusted_")
	}
	b.WriteString(regTypeNames[t])
	if f&flagMaybeNull != 0 {
		if t == ptrToBTFID {
			b.WriteString("or_null_")
		} else {
			b.WriteString("_or_null")
		}
	}
	return b.String()
}

func (r *reg) typeStr() string { return typeString(r.typ, r.flags) }

// snum and unum print numbers as the kernel's log does: decimal when small, hexadecimal otherwise.
func snum(v int64) string {
	if v >= math.MinInt16 && v <= math.MaxInt16 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%#x", uint64(v))
}

func unum(v uint64) string {
	if v <= math.MaxUint16 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%#x", v)
}

// format renders r as the kernel's print_reg_state does, in frame curFrame.
func (r *reg) format(p *Program, curFrame int) string {
	var b strings.Builder
	t := r.typ
	if t == scalarValue && r.precise {
		b.WriteString("P")
	}
	if t == scalarValue && r.varOff.isConst() {
		v := int64(r.varOff.value)
		if r.addC {
			v += int64(r.off)
		}
		b.WriteString(snum(v))
		return b.String()
	}
	b.WriteString(r.typeStr())
	if t == ptrToStack {
		if int(r.frame) != curFrame {
			fmt.Fprintf(&b, "[%d]", r.frame)
		}
		if r.varOff.isConst() {
			b.WriteString(snum(int64(r.varOff.value) + int64(r.off)))
			return b.String()
		}
	}
	if t == ptrToBTFID {
		b.WriteString(r.btf)
	}
	b.WriteByte('(')
	sep := ""
	add := func(format string, args ...any) {
		b.WriteString(sep)
		fmt.Fprintf(&b, format, args...)
		sep = ","
	}
	if r.id != 0 {
		if r.addC {
			add("id=%d%+d", r.id, r.off)
		} else {
			add("id=%d", r.id)
		}
	}
	if r.refID != 0 {
		add("ref_obj_id=%d", r.refID)
	}
	if (t == constPtrToMap || t == ptrToMapValue || t == ptrToMapKey) && p != nil && r.mapIdx >= 0 && int(r.mapIdx) < len(p.Maps) {
		m := &p.Maps[r.mapIdx]
		if m.Name != "" {
			add("map=%s", m.Name)
		}
		add("ks=%d,vs=%d", m.KeySize, m.ValueSize)
	}
	if t != scalarValue && r.off != 0 {
		add("off=%s", snum(int64(r.off)))
	}
	if t == ptrToPacket || t == ptrToPacketMeta {
		add("r=%s", unum(uint64(r.rng)))
	}
	if t == ptrToMem {
		add("sz=%d", r.rng)
	}
	if r.varOff.isConst() {
		if r.varOff.value != 0 {
			add("imm=%x", r.varOff.value)
		}
	} else {
		r.formatRanges(&b, &sep)
		if !r.varOff.isUnknown() {
			add("var_off=%s", r.varOff)
		}
	}
	b.WriteByte(')')
	return b.String()
}

func (r *reg) formatRanges(b *strings.Builder, sep *string) {
	type mm struct {
		name string
		val  uint64
		omit bool
	}
	ms := [8]mm{
		{"smin", uint64(r.smin), r.smin == math.MinInt64},
		{"smax", uint64(r.smax), r.smax == math.MaxInt64},
		{"umin", r.umin, r.umin == 0},
		{"umax", r.umax, r.umax == math.MaxUint64},
		{"smin32", uint64(int64(r.s32min)), r.s32min == math.MinInt32},
		{"smax32", uint64(int64(r.s32max)), r.s32max == math.MaxInt32},
		{"umin32", uint64(r.u32min), r.u32min == 0},
		{"umax32", uint64(r.u32max), r.u32max == math.MaxUint32},
	}
	for i := range ms {
		m1 := &ms[i]
		if m1.omit {
			continue
		}
		neg1 := m1.name[0] == 's' && int64(m1.val) < 0
		fmt.Fprintf(b, "%s%s=", *sep, m1.name)
		*sep = ","
		for j := i + 2; j < len(ms); j += 2 {
			m2 := &ms[j]
			if m2.omit || m2.val != m1.val {
				continue
			}
			neg2 := m2.name[0] == 's' && int64(m2.val) < 0
			if neg1 != neg2 {
				continue
			}
			m2.omit = true
			fmt.Fprintf(b, "%s=", m2.name)
		}
		if m1.name[0] == 's' {
			b.WriteString(snum(int64(m1.val)))
		} else {
			b.WriteString(unum(m1.val))
		}
	}
}
