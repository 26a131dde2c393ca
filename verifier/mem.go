package verifier

import (
	"strconv"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/vm"
)

const (
	accRead = iota
	accWrite
)

func sizeBytes(op uint8) int {
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

// saveAuxPtrType remembers which pointer type an instruction accesses memory through; the
// kernel rewrites instructions per pointer type, so one instruction cannot serve two that are
// rewritten differently.
func (e *env) saveAuxPtrType(idx int, t regType) error {
	a := &e.aux[idx]
	if !a.ptrSeen {
		a.ptrSeen, a.ptrType = true, t
		return nil
	}
	if a.ptrType != t && (!mismatchOK(t) || !mismatchOK(a.ptrType)) {
		return e.reject("same insn cannot be used with different pointers")
	}
	return nil
}

func mismatchOK(t regType) bool {
	switch t {
	case ptrToCtx, ptrToSocket, ptrToSockCommon, ptrToTCPSock, ptrToXDPSock, ptrToBTFID:
		return false
	}
	return true
}

func (e *env) checkLoadInsn(idx int, ins vm.Instruction) error {
	mode := ins.Op & 0xe0
	if (mode != vm.ModeMEM && mode != vm.ModeMEMSX) || ins.Imm != 0 || (mode == vm.ModeMEMSX && ins.Op&0x18 == vm.SizeDW) {
		return e.reject("BPF_LDX uses reserved fields")
	}
	if err := e.readReg(ins.Src()); err != nil {
		return err
	}
	if err := e.writeReg(ins.Dst()); err != nil {
		return err
	}
	t := e.regs()[ins.Src()].typ
	if err := e.checkMemAccess(idx, ins.Src(), int(ins.Off), sizeBytes(ins.Op), accRead, int(ins.Dst()), false, mode == vm.ModeMEMSX); err != nil {
		return err
	}
	return e.saveAuxPtrType(idx, t)
}

func (e *env) checkStoreInsn(idx int, ins vm.Instruction) error {
	if ins.Op&0xe0 != vm.ModeMEM || ins.Imm != 0 {
		return e.reject("BPF_STX uses reserved fields")
	}
	if err := e.readReg(ins.Src()); err != nil {
		return err
	}
	if err := e.readReg(ins.Dst()); err != nil {
		return err
	}
	t := e.regs()[ins.Dst()].typ
	if err := e.checkMemAccess(idx, ins.Dst(), int(ins.Off), sizeBytes(ins.Op), accWrite, int(ins.Src()), false, false); err != nil {
		return err
	}
	return e.saveAuxPtrType(idx, t)
}

func (e *env) checkStoreImm(idx int, ins vm.Instruction) error {
	if ins.Op&0xe0 != vm.ModeMEM || ins.Src() != 0 {
		return e.reject("BPF_ST uses reserved fields")
	}
	if err := e.readReg(ins.Dst()); err != nil {
		return err
	}
	t := e.regs()[ins.Dst()].typ
	e.stImm, e.stImmVal = true, int64(ins.Imm)
	err := e.checkMemAccess(idx, ins.Dst(), int(ins.Off), sizeBytes(ins.Op), accWrite, -1, false, false)
	e.stImm = false
	if err != nil {
		return err
	}
	return e.saveAuxPtrType(idx, t)
}

// atomic operations the vm package does not name
const (
	atomicLoadAcq  = 0x100
	atomicStoreRel = 0x110
)

func (e *env) checkAtomic(idx int, ins vm.Instruction) error {
	switch ins.Imm {
	case vm.AtomicAdd, vm.AtomicAdd | vm.AtomicFetch, vm.AtomicAnd, vm.AtomicAnd | vm.AtomicFetch,
		vm.AtomicOr, vm.AtomicOr | vm.AtomicFetch, vm.AtomicXor, vm.AtomicXor | vm.AtomicFetch,
		vm.AtomicXchg, vm.AtomicCmpXchg:
	case atomicLoadAcq, atomicStoreRel:
		return e.reject("BPF_ATOMIC load-acquire and store-release are not supported")
	default:
		return e.reject("BPF_ATOMIC uses invalid atomic opcode %02x", ins.Imm)
	}
	size := sizeBytes(ins.Op)
	if size != 4 && size != 8 {
		return e.reject("invalid atomic operand size")
	}
	if err := e.readReg(ins.Src()); err != nil {
		return err
	}
	if err := e.readReg(ins.Dst()); err != nil {
		return err
	}
	regs := e.regs()
	if ins.Imm == vm.AtomicCmpXchg {
		if err := e.readReg(0); err != nil {
			return err
		}
	}
	d := &regs[ins.Dst()]
	switch d.typ {
	case ptrToCtx, ptrToPacket, ptrToPacketMeta, ptrToSocket, ptrToSockCommon, ptrToTCPSock, ptrToXDPSock, ptrToPacketEnd:
		return e.reject("BPF_ATOMIC stores into R%d %s is not allowed", ins.Dst(), d.typeStr())
	}
	fetch := ins.Imm&vm.AtomicFetch != 0
	loadReg := -1
	if fetch {
		loadReg = int(ins.Src())
		if ins.Imm == vm.AtomicCmpXchg {
			loadReg = 0
		}
	}
	t := d.typ
	// Read first, then write, both strictly aligned.
	if err := e.checkMemAccess(idx, ins.Dst(), int(ins.Off), size, accRead, loadReg, true, false); err != nil {
		return err
	}
	if err := e.checkMemAccess(idx, ins.Dst(), int(ins.Off), size, accWrite, -1, true, false); err != nil {
		return err
	}
	if fetch {
		e.scratch(uint8(loadReg))
		if r := &regs[loadReg]; r.typ != scalarValue {
			r.setUnknown()
		}
	}
	return e.saveAuxPtrType(idx, t)
}

// checkPtrAlignment is check_ptr_alignment: only stack accesses (and atomics) are strictly
// aligned on x86.
func (e *env) checkPtrAlignment(r *reg, off, size int, strict bool) error {
	desc := ""
	switch r.typ {
	case ptrToStack:
		desc, strict = "stack ", true
	case ptrToPacket, ptrToPacketMeta:
		desc = "packet "
	case ptrToMapValue:
		desc = "value "
	case ptrToCtx:
		desc = "context "
	case ptrToMapKey:
		desc = "key "
	}
	if !strict || size == 1 {
		return nil
	}
	at := r.varOff.add(tnumConst(uint64(int64(r.off) + int64(off))))
	if !at.isAligned(uint64(size)) {
		// Linux 6.18 prints a variable offset as its tnum and a constant one as a number
		// (measured: 0; a pointer's constant offset is kept in off, so its var_off is 0).
		varOff := r.varOff.String()
		if r.varOff.isConst() {
			varOff = strconv.FormatUint(r.varOff.value, 10)
		}
		return e.reject("misaligned %saccess off %s+%d+%d size %d", desc, varOff, r.off, off, size)
	}
	return nil
}

// checkMemAccess checks a load (valueReg the destination) or store (valueReg the source, -1
// for an immediate) of size bytes at regno's pointer + off (check_mem_access).
func (e *env) checkMemAccess(idx int, regno uint8, off, size int, t int, valueReg int, strictOnce, ldsx bool) error {
	regs := e.regs()
	r := &regs[regno]
	if err := e.checkPtrAlignment(r, off, size, strictOnce); err != nil {
		return err
	}
	off += int(r.off)
	var val *reg
	if valueReg >= 0 {
		val = &regs[valueReg]
	}
	loaded := func() *reg {
		if t == accRead && valueReg >= 0 {
			return &regs[valueReg]
		}
		return nil
	}
	switch {
	case r.typ == ptrToMapValue && !r.maybeNull():
		m := &e.p.Maps[r.mapIdx]
		if err := e.checkMapAccessType(m, off, size, t == accWrite); err != nil {
			return err
		}
		if err := e.checkMemRegion(regno, r, off, size, int64(m.ValueSize), false); err != nil {
			return err
		}
		if err := e.checkMapSpecialFields(regno, r, m, off, size, true); err != nil {
			return err
		}
		if r.varOff.isConst() {
			if k := m.kptrAt(int64(off) + int64(r.varOff.value)); k != nil {
				if err := e.checkMapKptrAccess(idx, valueReg, k); err != nil {
					return err
				}
				break
			}
		}
		if d := loaded(); d != nil {
			if r.varOff.isConst() && m.ReadOnly && m.Data != nil {
				mo := off + int(r.varOff.value)
				if v, ok := readConst(m.Data, mo, size, ldsx); ok {
					d.setConst(v)
					break
				}
			}
			d.setUnknown()
		}
	case r.typ == ptrToMapKey:
		m := &e.p.Maps[r.mapIdx]
		if t == accWrite {
			return e.reject("write to change key R%d not allowed", regno)
		}
		if err := e.checkMemRegion(regno, r, off, size, int64(m.KeySize), false); err != nil {
			return err
		}
		if d := loaded(); d != nil {
			d.setUnknown()
		}
	case r.typ == ptrToMem:
		if r.maybeNull() {
			return e.reject("R%d invalid mem access '%s'", regno, r.typeStr())
		}
		if t == accWrite && r.flags&flagRdonly != 0 {
			return e.reject("R%d cannot write into %s", regno, r.typeStr())
		}
		if err := e.checkMemRegion(regno, r, off, size, r.rng, false); err != nil {
			return err
		}
		if d := loaded(); d != nil {
			d.setUnknown()
		}
	case r.typ == ptrToCtx:
		if err := e.checkPtrOffReg(regno, r, false); err != nil {
			return err
		}
		field, ok := e.pt.ctxAccess(ctxAccess{off: off, size: size, write: t == accWrite, ldsx: ldsx, attach: e.p.AttachType, prog: e.p})
		if !ok {
			return e.reject("invalid bpf_context access off=%d size=%d", off, size)
		}
		e.aux[idx].ctx = true
		if e.p.Type == ebpf.SchedCLS && off == SkbTstampType {
			e.info.tstampTypeAccess = true
		}
		if d := loaded(); d != nil {
			if field.typ == scalarValue || field.typ == notInit {
				d.setUnknown()
			} else {
				d.setPointer(field.typ)
				d.flags = field.flags
				if d.maybeNull() {
					d.id = e.newID()
				}
			}
		}
	case r.typ == ptrToStack:
		if err := e.checkStackBounds(regno, r, off, size, t); err != nil {
			return err
		}
		if t == accRead {
			if err := e.checkStackRead(regno, r, off, size, valueReg); err != nil {
				return err
			}
		} else if err := e.checkStackWrite(regno, r, off, size, valueReg); err != nil {
			return err
		}
	case r.isPkt() && !r.maybeNull():
		if t == accWrite {
			if !e.pt.pktWrite {
				return e.reject("cannot write into packet")
			}
			e.info.directWrite = true
		}
		if err := e.checkPacketAccess(regno, r, off, size, false); err != nil {
			return err
		}
		if d := loaded(); d != nil {
			d.setUnknown()
		}
	case (r.typ == ptrToSocket || r.typ == ptrToSockCommon || r.typ == ptrToTCPSock || r.typ == ptrToXDPSock) && !r.maybeNull():
		if t == accWrite {
			return e.reject("R%d cannot write into %s", regno, r.typeStr())
		}
		if err := e.checkSockAccess(idx, regno, r, off, size); err != nil {
			return err
		}
		if d := loaded(); d != nil {
			d.setUnknown()
		}
	case r.typ == constPtrToMap:
		if err := e.checkMapPtrAccess(regno, r, off, size, t, loaded()); err != nil {
			return err
		}
	case r.typ == ptrToBTFID && !r.maybeNull():
		if t == accWrite {
			m, ok := e.p.WritableBTF[r.btf]
			if !ok || r.flags&flagUntrusted != 0 {
				return e.reject("only read is supported")
			}
			o := off
			if o != m.Off {
				return e.reject("no write support to %s at off %d", m.Owner, o)
			}
			if o+size > m.Off+m.Size {
				return e.reject("write access at off %d with size %d beyond the member of %s ended at %d", o, size, m.Owner, m.Off+m.Size)
			}
		} else if st := e.kernelStruct(r.btf); st != nil {
			if err := e.checkBTFRead(regno, r, st, off, size, loaded()); err != nil {
				return err
			}
			break
		}
		if d := loaded(); d != nil {
			d.setUnknown()
		}
	default:
		_ = val
		return e.reject("R%d invalid mem access '%s'", regno, r.typeStr())
	}
	if d := loaded(); d != nil && size < 8 && d.typ == scalarValue {
		if ldsx {
			d.coerceToSizeSX(size)
		} else {
			d.coerceToSize(size)
		}
	}
	return nil
}

func readConst(data []byte, off, size int, ldsx bool) (uint64, bool) {
	if off < 0 || off+size > len(data) {
		return 0, false
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(data[off+i])
	}
	if ldsx && size < 8 {
		sh := uint(64 - 8*size)
		v = uint64(int64(v<<sh) >> sh)
	}
	return v, true
}

// checkPtrOffReg requires an unmodified pointer (check_ptr_off_reg).
func (e *env) checkPtrOffReg(regno uint8, r *reg, fixedOffOK bool) error {
	if r.off < 0 {
		return e.reject("negative offset %s ptr R%d off=%d disallowed", r.typeStr(), regno, r.off)
	}
	if !fixedOffOK && r.off != 0 {
		return e.reject("dereference of modified %s ptr R%d off=%d disallowed", r.typeStr(), regno, r.off)
	}
	if !r.varOff.isConst() || r.varOff.value != 0 {
		return e.reject("variable %s access var_off=%s disallowed", r.typeStr(), r.varOff)
	}
	return nil
}

// checkMemAccessFixed is __check_mem_access: [off, off+size) inside memSize bytes.
func (e *env) checkMemAccessFixed(regno uint8, r *reg, off int64, size int, memSize int64, zeroOK bool) error {
	sizeOK := size > 0 || (size == 0 && zeroOK)
	if off >= 0 && sizeOK && off+int64(size) <= memSize {
		return nil
	}
	switch r.typ {
	case ptrToMapKey:
		return e.reject("invalid access to map key, key_size=%d off=%d size=%d", memSize, off, size)
	case ptrToMapValue:
		return e.reject("invalid access to map value, value_size=%d off=%d size=%d", memSize, off, size)
	case ptrToPacket, ptrToPacketMeta, ptrToPacketEnd:
		return e.reject("invalid access to packet, off=%d size=%d, R%d(id=%d,off=%d,r=%d)", off, size, regno, r.id, off, memSize)
	}
	return e.reject("invalid access to memory, mem_size=%d off=%d size=%d", uint32(memSize), off, size)
}

// checkMemRegion is check_mem_region_access: a fixed offset plus the register's variable range.
func (e *env) checkMemRegion(regno uint8, r *reg, off, size int, memSize int64, zeroOK bool) error {
	if r.smin < 0 && (r.smin == -1<<63 || int64(off)+r.smin != int64(int32(int64(off)+r.smin)) || r.smin+int64(off) < 0) {
		return e.reject("R%d min value is negative, either use unsigned index or do a if (index >=0) check.", regno)
	}
	if err := e.checkMemAccessFixed(regno, r, r.smin+int64(off), size, memSize, zeroOK); err != nil {
		e.note("R%d min value is outside of the allowed memory range", regno)
		return err
	}
	if r.umax >= maxVarOff {
		return e.reject("R%d unbounded memory access, make sure to bounds check any such access", regno)
	}
	if err := e.checkMemAccessFixed(regno, r, int64(r.umax)+int64(off), size, memSize, zeroOK); err != nil {
		e.note("R%d max value is outside of the allowed memory range", regno)
		return err
	}
	return nil
}

// checkPacketAccess is check_packet_access.
func (e *env) checkPacketAccess(regno uint8, r *reg, off, size int, zeroOK bool) error {
	if r.smin < 0 {
		return e.reject("R%d min value is negative, either use unsigned index or do a if (index >=0) check.", regno)
	}
	if r.rng < 0 {
		e.rejectPacketRange(regno, r, off, size)
		return errReject
	}
	if err := e.checkMemAccessFixed(regno, r, int64(off), size, r.rng, zeroOK); err != nil {
		e.note("R%d offset is outside of the packet", regno)
		return err
	}
	return nil
}

func (e *env) rejectPacketRange(regno uint8, r *reg, off, size int) {
	e.reject("R%d offset is outside of the packet", regno)
}

// checkSockAccess allows the reads sockReadOK allows of the struct a socket pointer shows
// (check_sock_access).
func (e *env) checkSockAccess(idx int, regno uint8, r *reg, off, size int) error {
	if r.smin < 0 {
		return e.reject("R%d min value is negative, either use unsigned index or do a if (index >=0) check.", regno)
	}
	if !sockReadOK(r.typ, off, size) {
		return e.reject("R%d invalid %s access off=%d size=%d", regno, r.typeStr(), off, size)
	}
	if sockReadUnconverted(r.typ, off, size) {
		e.aux[idx].unconverted = true
	}
	return nil
}

// checkMapAccessType refuses writes into the values of a map programs may only read and reads
// of those of a map they may only write (check_map_access_type).
func (e *env) checkMapAccessType(m *Map, off, size int, write bool) error {
	if write && m.ReadOnly {
		return e.reject("write into map forbidden, value_size=%d off=%d size=%d", m.ValueSize, off, size)
	}
	if !write && m.WriteOnly {
		return e.reject("read from map forbidden, value_size=%d off=%d size=%d", m.ValueSize, off, size)
	}
	return nil
}
