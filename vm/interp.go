package vm

import (
	"encoding/binary"
	"math/bits"
)

// Interpreter is the reference engine: a switch over the decoded instructions.
var Interpreter Engine = interpreter{}

type interpreter struct{}

func (interpreter) Name() string { return "interp" }

// access returns the size bytes at addr if the region they fall in allows it, else nil.
func (m *Machine) access(addr uint64, size uint32, write bool) []byte {
	id := addr >> regionShift
	if id >= uint64(len(m.regions)) {
		return nil
	}
	r := &m.regions[id]
	o := uint32(addr)
	end := uint64(o) + uint64(size)
	if o < r.Lo || end > uint64(r.Hi) || end > uint64(len(r.Data)) || (write && r.ReadOnly) {
		return nil
	}
	return r.Data[o : o+size : o+size]
}

var le = binary.LittleEndian

func (interpreter) exec(m *Machine, p *Program, pc int, stop int) (r0 uint64, err error) {
	code := p.code
	regs := &m.regs
	left := m.left
	m.prog = p
	// watched is set while something sees every instruction: a trace function or a coverage
	// record.
	watched := m.trace != nil || m.cov != nil
	m.covJump = -1
	for {
		if left == 0 || watched {
			if left == 0 {
				m.land(pc)
				m.left, m.pc = 0, pc
				return 0, &BudgetError{PC: pc, Line: p.LineAt(pc), Executed: m.budget}
			}
			m.watch(p, pc)
		}
		left--
		in := &code[pc]
		pc++
		dst, src := in.dst&0xf, in.src&0xf
		switch in.code {
		// 64-bit ALU with immediate.
		case 0x07:
			regs[dst] += uint64(in.imm)
		case 0x17:
			regs[dst] -= uint64(in.imm)
		case 0x27:
			regs[dst] *= uint64(in.imm)
		case 0x37:
			regs[dst] = div64(regs[dst], uint64(in.imm), in.off)
		case 0x47:
			regs[dst] |= uint64(in.imm)
		case 0x57:
			regs[dst] &= uint64(in.imm)
		case 0x67:
			regs[dst] <<= uint64(in.imm) & 63
		case 0x77:
			regs[dst] >>= uint64(in.imm) & 63
		case 0x87:
			regs[dst] = -regs[dst]
		case 0x97:
			regs[dst] = mod64(regs[dst], uint64(in.imm), in.off)
		case 0xa7:
			regs[dst] ^= uint64(in.imm)
		case 0xb7:
			regs[dst] = uint64(in.imm)
		case 0xc7:
			regs[dst] = uint64(int64(regs[dst]) >> (uint64(in.imm) & 63))
		case 0xd7:
			regs[dst] = bswap(regs[dst], in.imm)
		// 64-bit ALU with register.
		case 0x0f:
			regs[dst] += regs[src]
		case 0x1f:
			regs[dst] -= regs[src]
		case 0x2f:
			regs[dst] *= regs[src]
		case 0x3f:
			regs[dst] = div64(regs[dst], regs[src], in.off)
		case 0x4f:
			regs[dst] |= regs[src]
		case 0x5f:
			regs[dst] &= regs[src]
		case 0x6f:
			regs[dst] <<= regs[src] & 63
		case 0x7f:
			regs[dst] >>= regs[src] & 63
		case 0x9f:
			regs[dst] = mod64(regs[dst], regs[src], in.off)
		case 0xaf:
			regs[dst] ^= regs[src]
		case 0xbf:
			switch in.off {
			case 0:
				regs[dst] = regs[src]
			case 8:
				regs[dst] = uint64(int8(regs[src]))
			case 16:
				regs[dst] = uint64(int16(regs[src]))
			default:
				regs[dst] = uint64(int32(regs[src]))
			}
		case 0xcf:
			regs[dst] = uint64(int64(regs[dst]) >> (regs[src] & 63))
		// 32-bit ALU with immediate; results are zero-extended.
		case 0x04:
			regs[dst] = uint64(uint32(regs[dst]) + uint32(in.imm))
		case 0x14:
			regs[dst] = uint64(uint32(regs[dst]) - uint32(in.imm))
		case 0x24:
			regs[dst] = uint64(uint32(regs[dst]) * uint32(in.imm))
		case 0x34:
			regs[dst] = uint64(div32(uint32(regs[dst]), uint32(in.imm), in.off))
		case 0x44:
			regs[dst] = uint64(uint32(regs[dst]) | uint32(in.imm))
		case 0x54:
			regs[dst] = uint64(uint32(regs[dst]) & uint32(in.imm))
		case 0x64:
			regs[dst] = uint64(uint32(regs[dst]) << (uint32(in.imm) & 31))
		case 0x74:
			regs[dst] = uint64(uint32(regs[dst]) >> (uint32(in.imm) & 31))
		case 0x84:
			regs[dst] = uint64(-uint32(regs[dst]))
		case 0x94:
			regs[dst] = uint64(mod32(uint32(regs[dst]), uint32(in.imm), in.off))
		case 0xa4:
			regs[dst] = uint64(uint32(regs[dst]) ^ uint32(in.imm))
		case 0xb4:
			regs[dst] = uint64(uint32(in.imm))
		case 0xc4:
			regs[dst] = uint64(uint32(int32(regs[dst]) >> (uint32(in.imm) & 31)))
		case 0xd4: // to little endian: truncate
			regs[dst] = truncate(regs[dst], in.imm)
		// 32-bit ALU with register.
		case 0x0c:
			regs[dst] = uint64(uint32(regs[dst]) + uint32(regs[src]))
		case 0x1c:
			regs[dst] = uint64(uint32(regs[dst]) - uint32(regs[src]))
		case 0x2c:
			regs[dst] = uint64(uint32(regs[dst]) * uint32(regs[src]))
		case 0x3c:
			regs[dst] = uint64(div32(uint32(regs[dst]), uint32(regs[src]), in.off))
		case 0x4c:
			regs[dst] = uint64(uint32(regs[dst]) | uint32(regs[src]))
		case 0x5c:
			regs[dst] = uint64(uint32(regs[dst]) & uint32(regs[src]))
		case 0x6c:
			regs[dst] = uint64(uint32(regs[dst]) << (uint32(regs[src]) & 31))
		case 0x7c:
			regs[dst] = uint64(uint32(regs[dst]) >> (uint32(regs[src]) & 31))
		case 0x9c:
			regs[dst] = uint64(mod32(uint32(regs[dst]), uint32(regs[src]), in.off))
		case 0xac:
			regs[dst] = uint64(uint32(regs[dst]) ^ uint32(regs[src]))
		case 0xbc:
			switch in.off {
			case 0:
				regs[dst] = uint64(uint32(regs[src]))
			case 8:
				regs[dst] = uint64(uint32(int32(int8(regs[src]))))
			default:
				regs[dst] = uint64(uint32(int32(int16(regs[src]))))
			}
		case 0xcc:
			regs[dst] = uint64(uint32(int32(regs[dst]) >> (uint32(regs[src]) & 31)))
		case 0xdc: // to big endian: swap
			regs[dst] = bswap(regs[dst], in.imm)

		// Jumps.
		case 0x05:
			pc = int(in.off)
		case OpMayGoto:
			if m.loops[m.depth] == 0 {
				pc = int(in.off)
			} else {
				m.loops[m.depth]--
			}
		case 0x06:
			pc = int(in.off)
		case 0x15:
			if regs[dst] == uint64(in.imm) {
				pc = int(in.off)
			}
		case 0x1d:
			if regs[dst] == regs[src] {
				pc = int(in.off)
			}
		case 0x25:
			if regs[dst] > uint64(in.imm) {
				pc = int(in.off)
			}
		case 0x2d:
			if regs[dst] > regs[src] {
				pc = int(in.off)
			}
		case 0x35:
			if regs[dst] >= uint64(in.imm) {
				pc = int(in.off)
			}
		case 0x3d:
			if regs[dst] >= regs[src] {
				pc = int(in.off)
			}
		case 0x45:
			if regs[dst]&uint64(in.imm) != 0 {
				pc = int(in.off)
			}
		case 0x4d:
			if regs[dst]&regs[src] != 0 {
				pc = int(in.off)
			}
		case 0x55:
			if regs[dst] != uint64(in.imm) {
				pc = int(in.off)
			}
		case 0x5d:
			if regs[dst] != regs[src] {
				pc = int(in.off)
			}
		case 0x65:
			if int64(regs[dst]) > in.imm {
				pc = int(in.off)
			}
		case 0x6d:
			if int64(regs[dst]) > int64(regs[src]) {
				pc = int(in.off)
			}
		case 0x75:
			if int64(regs[dst]) >= in.imm {
				pc = int(in.off)
			}
		case 0x7d:
			if int64(regs[dst]) >= int64(regs[src]) {
				pc = int(in.off)
			}
		case 0xa5:
			if regs[dst] < uint64(in.imm) {
				pc = int(in.off)
			}
		case 0xad:
			if regs[dst] < regs[src] {
				pc = int(in.off)
			}
		case 0xb5:
			if regs[dst] <= uint64(in.imm) {
				pc = int(in.off)
			}
		case 0xbd:
			if regs[dst] <= regs[src] {
				pc = int(in.off)
			}
		case 0xc5:
			if int64(regs[dst]) < in.imm {
				pc = int(in.off)
			}
		case 0xcd:
			if int64(regs[dst]) < int64(regs[src]) {
				pc = int(in.off)
			}
		case 0xd5:
			if int64(regs[dst]) <= in.imm {
				pc = int(in.off)
			}
		case 0xdd:
			if int64(regs[dst]) <= int64(regs[src]) {
				pc = int(in.off)
			}
		// 32-bit jumps compare the low halves.
		case 0x16:
			if uint32(regs[dst]) == uint32(in.imm) {
				pc = int(in.off)
			}
		case 0x1e:
			if uint32(regs[dst]) == uint32(regs[src]) {
				pc = int(in.off)
			}
		case 0x26:
			if uint32(regs[dst]) > uint32(in.imm) {
				pc = int(in.off)
			}
		case 0x2e:
			if uint32(regs[dst]) > uint32(regs[src]) {
				pc = int(in.off)
			}
		case 0x36:
			if uint32(regs[dst]) >= uint32(in.imm) {
				pc = int(in.off)
			}
		case 0x3e:
			if uint32(regs[dst]) >= uint32(regs[src]) {
				pc = int(in.off)
			}
		case 0x46:
			if uint32(regs[dst])&uint32(in.imm) != 0 {
				pc = int(in.off)
			}
		case 0x4e:
			if uint32(regs[dst])&uint32(regs[src]) != 0 {
				pc = int(in.off)
			}
		case 0x56:
			if uint32(regs[dst]) != uint32(in.imm) {
				pc = int(in.off)
			}
		case 0x5e:
			if uint32(regs[dst]) != uint32(regs[src]) {
				pc = int(in.off)
			}
		case 0x66:
			if int32(regs[dst]) > int32(in.imm) {
				pc = int(in.off)
			}
		case 0x6e:
			if int32(regs[dst]) > int32(regs[src]) {
				pc = int(in.off)
			}
		case 0x76:
			if int32(regs[dst]) >= int32(in.imm) {
				pc = int(in.off)
			}
		case 0x7e:
			if int32(regs[dst]) >= int32(regs[src]) {
				pc = int(in.off)
			}
		case 0xa6:
			if uint32(regs[dst]) < uint32(in.imm) {
				pc = int(in.off)
			}
		case 0xae:
			if uint32(regs[dst]) < uint32(regs[src]) {
				pc = int(in.off)
			}
		case 0xb6:
			if uint32(regs[dst]) <= uint32(in.imm) {
				pc = int(in.off)
			}
		case 0xbe:
			if uint32(regs[dst]) <= uint32(regs[src]) {
				pc = int(in.off)
			}
		case 0xc6:
			if int32(regs[dst]) < int32(in.imm) {
				pc = int(in.off)
			}
		case 0xce:
			if int32(regs[dst]) < int32(regs[src]) {
				pc = int(in.off)
			}
		case 0xd6:
			if int32(regs[dst]) <= int32(in.imm) {
				pc = int(in.off)
			}
		case 0xde:
			if int32(regs[dst]) <= int32(regs[src]) {
				pc = int(in.off)
			}

		// Loads.
		case 0x18:
			regs[dst] = uint64(in.imm)
			pc++
		case 0x61:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 4, false); b != nil {
				regs[dst] = uint64(le.Uint32(b))
			} else if v, ok := m.hookLoad(a, 4, pc, left); ok {
				regs[dst] = v
			} else {
				return m.memFault(left, pc, a, 4, accessLoad)
			}
		case 0x69:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 2, false); b != nil {
				regs[dst] = uint64(le.Uint16(b))
			} else if v, ok := m.hookLoad(a, 2, pc, left); ok {
				regs[dst] = v
			} else {
				return m.memFault(left, pc, a, 2, accessLoad)
			}
		case 0x71:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 1, false); b != nil {
				regs[dst] = uint64(b[0])
			} else if v, ok := m.hookLoad(a, 1, pc, left); ok {
				regs[dst] = v
			} else {
				return m.memFault(left, pc, a, 1, accessLoad)
			}
		case 0x79:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 8, false); b != nil {
				regs[dst] = le.Uint64(b)
			} else if v, ok := m.hookLoad(a, 8, pc, left); ok {
				regs[dst] = v
			} else {
				return m.memFault(left, pc, a, 8, accessLoad)
			}
		case 0x81:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 4, false); b != nil {
				regs[dst] = uint64(int32(le.Uint32(b)))
			} else if v, ok := m.hookLoad(a, 4, pc, left); ok {
				regs[dst] = uint64(int32(v))
			} else {
				return m.memFault(left, pc, a, 4, accessLoad)
			}
		case 0x89:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 2, false); b != nil {
				regs[dst] = uint64(int16(le.Uint16(b)))
			} else if v, ok := m.hookLoad(a, 2, pc, left); ok {
				regs[dst] = uint64(int16(v))
			} else {
				return m.memFault(left, pc, a, 2, accessLoad)
			}
		case 0x91:
			a := regs[src] + uint64(in.off)
			if b := m.access(a, 1, false); b != nil {
				regs[dst] = uint64(int8(b[0]))
			} else if v, ok := m.hookLoad(a, 1, pc, left); ok {
				regs[dst] = uint64(int8(v))
			} else {
				return m.memFault(left, pc, a, 1, accessLoad)
			}

		// Stores of an immediate.
		case 0x62:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 4, true); b != nil {
				le.PutUint32(b, uint32(in.imm))
			} else if !m.hookStore(a, 4, uint64(uint32(in.imm)), pc, left) {
				return m.memFault(left, pc, a, 4, accessStore)
			}
		case 0x6a:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 2, true); b != nil {
				le.PutUint16(b, uint16(in.imm))
			} else if !m.hookStore(a, 2, uint64(uint16(in.imm)), pc, left) {
				return m.memFault(left, pc, a, 2, accessStore)
			}
		case 0x72:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 1, true); b != nil {
				b[0] = uint8(in.imm)
			} else if !m.hookStore(a, 1, uint64(uint8(in.imm)), pc, left) {
				return m.memFault(left, pc, a, 1, accessStore)
			}
		case 0x7a:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 8, true); b != nil {
				le.PutUint64(b, uint64(in.imm))
			} else if !m.hookStore(a, 8, uint64(in.imm), pc, left) {
				return m.memFault(left, pc, a, 8, accessStore)
			}
		// Stores of a register.
		case 0x63:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 4, true); b != nil {
				le.PutUint32(b, uint32(regs[src]))
			} else if !m.hookStore(a, 4, uint64(uint32(regs[src])), pc, left) {
				return m.memFault(left, pc, a, 4, accessStore)
			}
		case 0x6b:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 2, true); b != nil {
				le.PutUint16(b, uint16(regs[src]))
			} else if !m.hookStore(a, 2, uint64(uint16(regs[src])), pc, left) {
				return m.memFault(left, pc, a, 2, accessStore)
			}
		case 0x73:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 1, true); b != nil {
				b[0] = uint8(regs[src])
			} else if !m.hookStore(a, 1, uint64(uint8(regs[src])), pc, left) {
				return m.memFault(left, pc, a, 1, accessStore)
			}
		case 0x7b:
			a := regs[dst] + uint64(in.off)
			if b := m.access(a, 8, true); b != nil {
				le.PutUint64(b, regs[src])
			} else if !m.hookStore(a, 8, regs[src], pc, left) {
				return m.memFault(left, pc, a, 8, accessStore)
			}
		// Atomics.
		case 0xc3:
			b := m.access(regs[dst]+uint64(in.off), 4, true)
			if b == nil {
				return m.memFault(left, pc, regs[dst]+uint64(in.off), 4, accessAtomic)
			}
			atomic32(b, regs, src, in.imm)
		case 0xdb:
			b := m.access(regs[dst]+uint64(in.off), 8, true)
			if b == nil {
				return m.memFault(left, pc, regs[dst]+uint64(in.off), 8, accessAtomic)
			}
			atomic64(b, regs, src, in.imm)

		// Calls.
		case 0x85:
			switch src {
			case 0:
				m.pc, m.left = pc-1, left
				regs[0], err = p.helpers[in.imm](m, regs[1], regs[2], regs[3], regs[4], regs[5])
				left = m.left
				if err != nil {
					return 0, m.helperErr(pc-1, err)
				}
				if m.pending != 0 {
					if m.pending&pendingExit != 0 {
						m.pending = 0
						m.left = left
						return m.exitVal, nil
					}
					m.pending = 0
					p, code, pc = m.tail, m.tail.code, 0
					m.prog, m.tail = p, nil
					regs[1] = m.entryArg
				}
			case PseudoKfuncCall:
				m.pc, m.left = pc-1, left
				regs[0], err = p.kfnTab[in.imm](m, regs[1], regs[2], regs[3], regs[4], regs[5])
				left = m.left
				if err != nil {
					return 0, m.helperErr(pc-1, err)
				}
				if m.pending&pendingExit != 0 {
					m.pending = 0
					m.left = left
					return m.exitVal, nil
				}
			default:
				if m.depth+1 >= MaxFrames {
					m.left = left
					return 0, &RuntimeError{PC: pc - 1, Line: p.LineAt(pc - 1), Err: ErrCallDepth}
				}
				m.pushFrame(p, pc)
				pc = int(in.off)
			}
		case 0x8d:
			m.left = left
			next, done, r0, err := m.callx(p, pc)
			left = m.left
			if err != nil || done {
				return r0, err
			}
			pc = next
		case 0x95:
			if m.depth == stop {
				m.left, m.pc = left, pc-1
				return regs[0], nil
			}
			f := m.popFrame()
			pc = f.ret
			if f.prog != p {
				p, code = f.prog, f.prog.code
				m.prog = p
			}
		default:
			// Unreachable for a validated program: the second word of lddw is skipped.
			m.left = left
			return 0, &RuntimeError{PC: pc - 1, Line: p.LineAt(pc - 1), Err: errInvalidOp}
		}
	}
}

// land tells the coverage record where the conditional jump that just ran went: to pc. (Kept out
// of line, so that the interpreter's loop stays as small as without coverage.)
//
//go:noinline
func (m *Machine) land(pc int) {
	if m.covJump >= 0 {
		m.covCur.landed(m.covJump, pc)
		m.covJump = -1
	}
}

// watch shows instruction pc of p, about to run, to the trace function and the coverage record.
func (m *Machine) watch(p *Program, pc int) {
	m.land(pc)
	if m.cov != nil {
		if m.covCur == nil || m.covCur.prog != p {
			m.covCur = m.cov.of(p)
			m.covCur.dirty = true
		}
		m.covJump = m.covCur.interpStep(pc, &m.regs)
	}
	if m.trace != nil {
		var r [11]uint64
		copy(r[:], m.regs[:11])
		m.trace(p, pc, &r)
	}
}

// hookLoad serves a load the region's window refuses: the region's wide fields or its Load hook (an
// XDP context, whose 4-byte fields yield 64-bit pointers) answer it, zero-extended; a
// sign-extending load extends the answer itself. size 0 means the load may use neither.
func (m *Machine) hookLoad(addr uint64, size uint32, pc int, left uint64) (uint64, bool) {
	id := addr >> regionShift
	if size == 0 || id >= uint64(len(m.regions)) {
		return 0, false
	}
	r := &m.regions[id]
	if size == 4 && r.WideMask != 0 {
		if v, ok := r.wide(uint32(addr)); ok {
			return v, true
		}
	}
	if r.Load == nil {
		return 0, false
	}
	m.pc, m.left = pc-1, left
	return r.Load(m, uint32(addr), size)
}

// hookStore serves a store the region's bytes cannot: a region with a Store hook (a tc program's
// __sk_buff, whose writable fields are not plain memory) takes it, or refuses it.
func (m *Machine) hookStore(addr uint64, size uint32, v uint64, pc int, left uint64) bool {
	id := addr >> regionShift
	if id >= uint64(len(m.regions)) || m.regions[id].Store == nil {
		return false
	}
	m.pc, m.left = pc-1, left
	return m.regions[id].Store(m, uint32(addr), size, v)
}

func (m *Machine) memFault(left uint64, pc int, addr uint64, size int, access string) (uint64, error) {
	m.left, m.pc = left, pc-1
	return 0, m.fault(addr, size, access, "")
}

func (m *Machine) helperErr(pc int, err error) error {
	switch err.(type) {
	case *Fault, *RuntimeError, *BudgetError:
		return err
	}
	return &RuntimeError{PC: pc, Line: m.prog.LineAt(pc), Err: err}
}

// div64 and friends implement the ISA's division: unsigned unless off is 1 (sdiv/smod); division by
// zero gives 0, modulo by zero leaves the dividend.
func div64(a, b uint64, off int32) uint64 {
	if b == 0 {
		return 0
	}
	if off == 1 {
		return uint64(int64(a) / int64(b))
	}
	return a / b
}

func mod64(a, b uint64, off int32) uint64 {
	if b == 0 {
		return a
	}
	if off == 1 {
		return uint64(int64(a) % int64(b))
	}
	return a % b
}

func div32(a, b uint32, off int32) uint32 {
	if b == 0 {
		return 0
	}
	if off == 1 {
		return uint32(int32(a) / int32(b))
	}
	return a / b
}

func mod32(a, b uint32, off int32) uint32 {
	if b == 0 {
		return a
	}
	if off == 1 {
		return uint32(int32(a) % int32(b))
	}
	return a % b
}

func bswap(v uint64, width int64) uint64 {
	switch width {
	case 16:
		return uint64(bits.ReverseBytes16(uint16(v)))
	case 32:
		return uint64(bits.ReverseBytes32(uint32(v)))
	}
	return bits.ReverseBytes64(v)
}

func truncate(v uint64, width int64) uint64 {
	switch width {
	case 16:
		return uint64(uint16(v))
	case 32:
		return uint64(uint32(v))
	}
	return v
}
