package verifier

import (
	"github.com/xdpsim/xdpsim/vm"
)

var aluOpNames = [16]string{"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "?", "?"}

// regs of the current frame.
func (e *env) regs() *[11]reg { return &e.cur.cur().regs }

func (e *env) scratch(r uint8) { e.scratchRegs |= 1 << r }

// readReg checks that register r may be read (check_reg_arg with SRC_OP).
func (e *env) readReg(r uint8) error {
	if r > 10 {
		return e.reject("R%d is invalid", r)
	}
	e.scratch(r)
	if e.regs()[r].typ == notInit {
		return e.reject("R%d !read_ok", r)
	}
	return nil
}

// writeReg checks that register r may be written (DST_OP).
func (e *env) writeReg(r uint8) error {
	if r > 10 {
		return e.reject("R%d is invalid", r)
	}
	e.scratch(r)
	if r == 10 {
		return e.reject("frame pointer is read only")
	}
	return nil
}

// step checks and applies the instruction at idx; exit reports that the path ended.
func (e *env) step(idx int, ins vm.Instruction) (exit bool, err error) {
	next := idx + 1
	switch ins.Class() {
	case vm.ClassALU, vm.ClassALU64:
		err = e.checkALU(ins)
	case vm.ClassLDX:
		err = e.checkLoadInsn(idx, ins)
	case vm.ClassSTX:
		if ins.Op&0xe0 == vm.ModeATOMIC {
			err = e.checkAtomic(idx, ins)
		} else {
			err = e.checkStoreInsn(idx, ins)
		}
	case vm.ClassST:
		err = e.checkStoreImm(idx, ins)
	case vm.ClassLD:
		if ins.Op != vm.OpLdImm64 {
			mode := ins.Op & 0xe0
			if mode == 0x20 || mode == 0x40 { // BPF_ABS, BPF_IND
				err = e.checkLdAbs(ins)
				break
			}
			return false, e.reject("invalid BPF_LD mode")
		}
		if ins.Op == vm.OpLdImm64 {
			err = e.checkLdImm64(idx, ins)
			next = idx + 2
		}
	case vm.ClassJMP, vm.ClassJMP32:
		e.jmps++
		op := ins.Op & 0xf0
		switch {
		case op == vm.JmpCall:
			if ins.Class() == vm.ClassJMP32 {
				return false, e.reject("unknown opcode %02x", ins.Op)
			}
			var jumped bool
			jumped, exit, err = e.checkCall(idx, ins)
			if err != nil || exit {
				return exit, err
			}
			if jumped {
				return false, nil
			}
		case op == vm.JmpExit:
			if ins.Class() == vm.ClassJMP32 || ins.Op&vm.SrcX != 0 || ins.Imm != 0 || ins.Src() != 0 || ins.Dst() != 0 || ins.Off != 0 {
				return false, e.reject("BPF_EXIT uses reserved fields")
			}
			return e.checkExit(idx)
		case op == vm.JmpJA:
			if ins.Class() == vm.ClassJMP {
				if ins.Op&vm.SrcX != 0 || ins.Imm != 0 || ins.Src() != 0 || ins.Dst() != 0 {
					return false, e.reject("BPF_JA uses reserved fields")
				}
				next = idx + int(ins.Off) + 1
			} else {
				if ins.Op&vm.SrcX != 0 || ins.Off != 0 || ins.Src() != 0 || ins.Dst() != 0 {
					return false, e.reject("BPF_JA uses reserved fields")
				}
				next = idx + int(ins.Imm) + 1
			}
		case op == vm.JmpJCOND:
			if ins.Op != vm.OpMayGoto || ins.Src() != 0 || ins.Dst() != 0 || ins.Imm != 0 || ins.Off == 0 {
				return false, e.reject("invalid may_goto off %d imm %d", ins.Off, ins.Imm)
			}
			if err := e.forkMayGoto(idx); err != nil {
				return false, err
			}
			next = idx + int(ins.Off) + 1
		default:
			var taken bool
			taken, err = e.checkCondJmp(idx, ins)
			if taken {
				next = idx + int(ins.Off) + 1
			}
		}
	default:
		return false, e.reject("unknown insn class %d", ins.Class())
	}
	if err != nil {
		return false, err
	}
	e.idx = next
	return false, nil
}

// checkLdImm64 loads a 64-bit constant, map pointer, map value address or function address.
func (e *env) checkLdImm64(idx int, ins vm.Instruction) error {
	if ins.Off != 0 {
		return e.reject("invalid BPF_LD_IMM insn")
	}
	if err := e.writeReg(ins.Dst()); err != nil {
		return err
	}
	r := &e.regs()[ins.Dst()]
	var second vm.Instruction
	if idx+1 < len(e.insns) {
		second = e.insns[idx+1]
	}
	switch ins.Src() {
	case 0:
		r.setConst(uint64(uint32(ins.Imm)) | uint64(uint32(second.Imm))<<32)
	case vm.PseudoFunc:
		r.setPointer(ptrToFunc)
		r.subprog = int32(e.subprogAt(idx + int(ins.Imm) + 1))
	case vm.PseudoMapFD, vm.PseudoMapIdx:
		if ins.Imm < 0 || int(ins.Imm) >= len(e.p.Maps) {
			return e.reject("fd %d is not pointing to valid bpf_map", ins.Imm)
		}
		r.setPointer(constPtrToMap)
		r.mapIdx = ins.Imm
	case vm.PseudoMapValue, vm.PseudoMapIdxValue:
		if ins.Imm < 0 || int(ins.Imm) >= len(e.p.Maps) {
			return e.reject("fd %d is not pointing to valid bpf_map", ins.Imm)
		}
		m := &e.p.Maps[ins.Imm]
		off := uint32(second.Imm)
		if off >= m.ValueSize && !(m.ValueSize == 0 && off == 0) {
			return e.reject("invalid access to map value pointer, value_size=%d off=%d", m.ValueSize, off)
		}
		r.setPointer(ptrToMapValue)
		r.mapIdx = ins.Imm
		r.off = int32(off)
	case vm.PseudoBTFID:
		return e.reject("ksym (BPF_PSEUDO_BTF_ID) references are not supported")
	default:
		return e.reject("unrecognized bpf_ld_imm64 insn")
	}
	return nil
}

// checkExit handles an exit: the end of a path in the main program or a global function, or
// the return from a static function or a callback.
func (e *env) checkExit(idx int) (bool, error) {
	st := e.cur
	if st.curframe > 0 {
		return e.prepareFuncExit(idx)
	}
	if err := e.checkResourceLeak(false, true, "BPF_EXIT instruction in main prog"); err != nil {
		return false, err
	}
	// R0 must hold the return value.
	r0 := &e.regs()[0]
	e.scratch(0)
	if r0.typ == notInit {
		return false, e.reject("R0 !read_ok")
	}
	sp := &e.subprogs[st.cur().subprog]
	if sp.global && st.cur().subprog != 0 {
		if r0.typ != scalarValue {
			return false, e.reject("At subprogram exit the register R0 is not a scalar value (%s)", r0.typeStr())
		}
		return true, nil
	}
	if err := e.checkReturnCode(r0); err != nil {
		return false, err
	}
	return true, nil
}

// checkReturnCode applies the program type's rule for the return value.
func (e *env) checkReturnCode(r0 *reg) error {
	rr := e.pt.ret
	if rr == nil {
		return nil
	}
	if r0.typ != scalarValue {
		return e.reject("At program exit the register R0 is not a known value (%s)", r0.typeStr())
	}
	if r0.smin < rr.min || r0.smax > rr.max {
		return e.reject("At program exit the register R0 has %s should have been in [%d, %d]", rangeString(r0), rr.min, rr.max)
	}
	return nil
}

func rangeString(r *reg) string {
	if r.varOff.isConst() {
		return "value " + snum(int64(r.varOff.value))
	}
	return "smin=" + snum(r.smin) + ",smax=" + snum(r.smax)
}

// checkResourceLeak is the kernel's check_resource_leak at an exit or tail call.
func (e *env) checkResourceLeak(exception, checkLock bool, prefix string) error {
	st := e.cur
	if checkLock && st.activeLock != 0 {
		return e.reject("%s cannot be used inside bpf_spin_lock-ed region", prefix)
	}
	for _, r := range st.refs {
		if r.kind != refPtr {
			continue
		}
		// A reference acquired in a callback frame is checked when the callback returns.
		e.reject("Unreleased reference id=%d alloc_insn=%d", r.id, r.insn)
		e.note("%s would lead to reference leak", prefix)
		return errReject
	}
	if checkLock && st.activeIRQ != 0 {
		return e.reject("%s cannot be used inside bpf_local_irq_save-ed region", prefix)
	}
	if checkLock && st.activeRCU {
		return e.reject("%s cannot be used inside bpf_rcu_read_lock-ed region", prefix)
	}
	if checkLock && st.activePreempt > 0 {
		return e.reject("%s cannot be used inside bpf_preempt_disable-ed region", prefix)
	}
	return nil
}

// checkLdAbs is check_ld_abs: the legacy packet loads BPF_LD_[ABS|IND] of the skb program types,
// which read the context from R6 and leave the loaded bytes in R0 (or end the program with 0 when
// they are out of the packet).
func (e *env) checkLdAbs(ins vm.Instruction) error {
	if !e.pt.ldAbs {
		return e.reject("BPF_LD_[ABS|IND] instructions not allowed for this program type")
	}
	abs := ins.Op&0xe0 == 0x20
	if ins.Dst() != 0 || ins.Off != 0 || ins.Op&0x18 == vm.SizeDW || (abs && ins.Src() != 0) {
		return e.reject("BPF_LD_[ABS|IND] uses reserved fields")
	}
	if err := e.readReg(6); err != nil {
		return err
	}
	if err := e.checkResourceLeak(false, true, "BPF_LD_[ABS|IND]"); err != nil {
		return err
	}
	regs := e.regs()
	if regs[6].typ != ptrToCtx {
		return e.reject("at the time of BPF_LD_ABS|IND R6 != pointer to skb")
	}
	if !abs {
		if err := e.readReg(ins.Src()); err != nil {
			return err
		}
	}
	if err := e.checkPtrOffReg(6, &regs[6], false); err != nil {
		return err
	}
	e.clearCallerSaved()
	regs[0].setUnknown()
	return nil
}
