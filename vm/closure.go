package vm

import (
	"sync"
	"sync/atomic"
)

// Closures is the JIT-lite engine. The first time any machine runs a program, the engine compiles
// it once into basic blocks of pre-decoded instructions: registers as indices, immediates widened,
// jumps resolved to the blocks they lead to, and the rare instructions (atomics, sign-extending
// loads and moves) as Go closures with their operands captured. It then runs a block at a time,
// charging the budget once per block, without the interpreter's per-instruction bookkeeping.
//
// Its results are the interpreter's in every respect: r0, errors and their fields, instruction
// counts, faults and Load hooks, calls, tail calls, callbacks and exits. A block runs from a jump
// target, a function start or the instruction after a jump, call or exit, up to and including the
// next jump, call or exit. When less budget is left than a block needs, the block runs the
// instructions the budget allows and stops with the BudgetError the interpreter gives at the next
// one. While a trace function is installed, the engine hands the run to the interpreter.
var Closures Engine = closureEngine{}

type closureEngine struct{}

func (closureEngine) Name() string { return "closures" }

// cop is a compiled instruction the block loop has no case for. It reports false, having changed
// nothing, when its memory access is refused; the engine then carries the instruction out on the
// slow path (memSlow), as the interpreter would.
type cop func(m *Machine) bool

// uop is an instruction decoded for the block loop.
type uop struct {
	code uint16 // the opcode, or one of the uop codes below
	d, s uint8  // registers
	d2   uint8  // for uopAddJump: the register of the add
	t    int32  // a jump's block when taken; for uopClosure, the closure's index in the program's fns
	f    int32  // a conditional jump's block when not taken
	off  uint64 // memory offset, sign-extended; for uopAddJump, the immediate of the add
	k    uint64 // the immediate, sign-extended; a lddw's 64-bit constant
}

// Codes of uops that are not their instruction's opcode. None is a straight-line opcode.
const (
	uopClosure = 0x00 // run the closure fns[t]
	uopGoto    = 0x05 // ja, or the fall-through into the next block: go to block t
	uopCall    = 0x85 // call or callx: the engine's own work
	uopExit    = 0x95 // exit
	// uopAddJump|jump is "dst += imm" and the conditional jump that follows it, in one.
	uopAddJump = 0x100
)

// cblock is one basic block: its straight-line instructions, then the one that ends it.
type cblock struct {
	// n is the number of instructions the block executes: all of plain, but a fall-through,
	// which is no instruction.
	n   uint64
	ops []uop
	// plain is ops with none fused (uopAddJump), one uop for each instruction: a block the
	// budget cuts short runs these. Fusing changes only the last uop or two, so the indices
	// of the others are the same in both.
	plain []uop
	pcs   []int32 // the pc of each of plain (a fall-through's: that of the next block)
}

// cprog is a program compiled into blocks.
type cprog struct {
	blocks  []cblock
	blockAt []int32 // pc -> index of the block starting there, or -1
	blockOf []int32 // pc -> index of the block holding the instruction, or -1 (a lddw's second word)
	fns     []cop   // the closures of uopClosure uops
}

// closureCache lives in Program.compiled and holds the compiled form once it is made.
type closureCache struct {
	mu sync.Mutex
	cp atomic.Pointer[cprog]
}

// compiledProgram returns p compiled, compiling it on first use. Machines on different goroutines
// may share p.
func compiledProgram(p *Program) *cprog {
	if c, ok := p.compiled.(*closureCache); ok {
		if cp := c.cp.Load(); cp != nil {
			return cp
		}
	}
	return compileOnce(p)
}

func compileOnce(p *Program) *cprog {
	c, _ := p.compiled.(*closureCache)
	if c == nil {
		return nil // not made by NewProgram: the interpreter runs it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp := c.cp.Load(); cp != nil {
		return cp
	}
	cp := compileBlocks(p)
	c.cp.Store(cp)
	return cp
}

// cursor is where the block loop stands: at instruction i of block bi. left is the budget after
// charging the whole block, or, when the block is short (the budget ends inside it), the budget as
// the block began. stop is the call depth at which exit ends the run.
type cursor struct {
	bi    int32
	short bool
	i     uint
	left  uint64
	stop  int
	// cover makes the loop stop (stopEnter) before it enters a block, for the coverage record;
	// from is then the block the jump came from (nil if none), and entered says the entry is
	// recorded and the loop may go in.
	cover   bool
	entered bool
	from    *cblock
}

// What stopped the block loop.
const (
	stopExit   = iota // at an exit that ends the run
	stopCall          // at a call, callx, or an exit that returns from a function
	stopHelp          // at a closure or a refused memory access
	stopBudget        // where the budget ends
	stopEnter         // before entering block bi, for the coverage record
)

func (closureEngine) exec(m *Machine, p *Program, pc int, stop int) (r0 uint64, err error) {
	cp := compiledProgram(p)
	if m.trace != nil || cp == nil || cp.blockAt[pc] < 0 {
		return interpreter{}.exec(m, p, pc, stop)
	}
	regs := &m.regs
	m.prog = p
	m.recordBlocks(p, cp)
	c := cursor{bi: cp.blockAt[pc], left: m.left, stop: stop, cover: m.cov != nil}
	for {
		why := m.runBlocks(cp.blocks, &c)
		b := &cp.blocks[c.bi]
		switch why {
		case stopEnter:
			m.covCur.enterBlock(c.from, c.bi, regs)
			c.entered = true
			continue
		case stopExit:
			m.left, m.pc = c.left, int(b.pcs[c.i])
			return regs[0], nil
		case stopHelp:
			if u := &b.plain[c.i]; u.code != uopClosure || !cp.fns[u.t](m) {
				// The window refused the access: carry the instruction out as the
				// interpreter does, with the budget it would have left.
				left := c.left - uint64(c.i) - 1
				if !c.short {
					left += b.n
				}
				if err := m.memSlow(p, int(b.pcs[c.i]), left); err != nil {
					if m.covCur != nil {
						m.covCur.leftBlock(b, int(c.i)+1)
					}
					return 0, err
				}
			}
			c.i++
			continue
		case stopBudget:
			pc := int(b.pcs[c.i])
			m.left, m.pc = 0, pc
			if m.covCur != nil {
				m.covCur.leftBlock(b, int(c.i))
			}
			return 0, &BudgetError{PC: pc, Line: p.LineAt(pc), Executed: m.budget}
		}

		// The block ends in exit, call or callx, already charged: carry it out as the
		// interpreter does. pc is the instruction after it.
		left := c.left
		pc = int(b.pcs[c.i]) + 1
		in := &p.code[pc-1]
		src := in.src & 0xf
		switch in.code {
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
					p, pc = m.tail, 0
					m.prog, m.tail = p, nil
					regs[1] = m.entryArg
					if cp = compiledProgram(p); cp == nil {
						m.left = left
						return interpreter{}.exec(m, p, pc, stop)
					}
					m.recordBlocks(p, cp)
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
				p = f.prog
				m.prog = p
				if cp = compiledProgram(p); cp == nil {
					m.left = left
					return interpreter{}.exec(m, p, pc, stop)
				}
				m.recordBlocks(p, cp)
			}
		default:
			// Unreachable for a validated program, as in the interpreter.
			m.left = left
			return 0, &RuntimeError{PC: pc - 1, Line: p.LineAt(pc - 1), Err: errInvalidOp}
		}
		if c = (cursor{bi: cp.blockAt[pc], left: left, stop: stop, cover: c.cover}); c.bi < 0 {
			// Unreachable: execution only ever continues where a block starts. Should it
			// not, the interpreter carries on from exactly here.
			m.left = left
			return interpreter{}.exec(m, p, pc, stop)
		}
	}
}

// runBlocks runs blocks from c on until an exit, call or callx, an instruction the engine does
// itself, or the end of the budget, and leaves c there. It calls nothing, so that the Go compiler
// keeps its state in registers.
func (m *Machine) runBlocks(blocks []cblock, c *cursor) int {
	regs := &m.regs
	bi, i, left, short := c.bi, c.i, c.left, c.short
	cover := c.cover
	var b *cblock
	var ops []uop
	if i == 0 {
		if c.entered {
			c.entered = false
			goto entered
		}
		goto enter
	}
	// Resume inside block bi, already charged (or short).
	b = &blocks[bi]
	ops = b.ops
	if short {
		ops = b.plain[:left]
	}
	goto run
enter:
	// Start block bi. (short is false: a short block never gets to its end.) With a coverage
	// record, stop first so that the engine records the entry; b is still the block the jump came
	// from, nil when this is where the loop started.
	if cover {
		c.bi, c.i, c.left, c.short, c.from = bi, 0, left, short, b
		return stopEnter
	}
entered:
	b = &blocks[bi]
	ops, i = b.ops, 0
	if left < b.n {
		// The budget ends inside the block: run what it allows.
		short = true
		ops = b.plain[:left]
	} else {
		left -= b.n
	}
run:
	for ; i < uint(len(ops)); i++ {
		u := &ops[i]
		switch u.code {
		// 64-bit ALU with immediate.
		case 0x07:
			regs[u.d&0xf] += u.k
		case 0x17:
			regs[u.d&0xf] -= u.k
		case 0x27:
			regs[u.d&0xf] *= u.k
		case 0x47:
			regs[u.d&0xf] |= u.k
		case 0x57:
			regs[u.d&0xf] &= u.k
		case 0x67:
			regs[u.d&0xf] <<= u.k & 63
		case 0x77:
			regs[u.d&0xf] >>= u.k & 63
		case 0xa7:
			regs[u.d&0xf] ^= u.k
		case 0xb7:
			regs[u.d&0xf] = u.k
		case 0xc7:
			regs[u.d&0xf] = uint64(int64(regs[u.d&0xf]) >> (u.k & 63))
		// 64-bit ALU with register.
		case 0x0f:
			regs[u.d&0xf] += regs[u.s&0xf]
		case 0x1f:
			regs[u.d&0xf] -= regs[u.s&0xf]
		case 0x2f:
			regs[u.d&0xf] *= regs[u.s&0xf]
		case 0x4f:
			regs[u.d&0xf] |= regs[u.s&0xf]
		case 0x5f:
			regs[u.d&0xf] &= regs[u.s&0xf]
		case 0x6f:
			regs[u.d&0xf] <<= regs[u.s&0xf] & 63
		case 0x7f:
			regs[u.d&0xf] >>= regs[u.s&0xf] & 63
		case 0xaf:
			regs[u.d&0xf] ^= regs[u.s&0xf]
		case 0xbf: // mov; movsx is a closure
			regs[u.d&0xf] = regs[u.s&0xf]
		case 0xcf:
			regs[u.d&0xf] = uint64(int64(regs[u.d&0xf]) >> (regs[u.s&0xf] & 63))
		// 32-bit ALU with immediate; results are zero-extended.
		case 0x04:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) + uint32(u.k))
		case 0x14:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) - uint32(u.k))
		case 0x24:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) * uint32(u.k))
		case 0x44:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) | uint32(u.k))
		case 0x54:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) & uint32(u.k))
		case 0x64:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) << (uint32(u.k) & 31))
		case 0x74:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) >> (uint32(u.k) & 31))
		case 0xa4:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) ^ uint32(u.k))
		case 0xb4:
			regs[u.d&0xf] = uint64(uint32(u.k))
		case 0xc4:
			regs[u.d&0xf] = uint64(uint32(int32(regs[u.d&0xf]) >> (uint32(u.k) & 31)))
		// 32-bit ALU with register.
		case 0x0c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) + uint32(regs[u.s&0xf]))
		case 0x1c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) - uint32(regs[u.s&0xf]))
		case 0x2c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) * uint32(regs[u.s&0xf]))
		case 0x4c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) | uint32(regs[u.s&0xf]))
		case 0x5c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) & uint32(regs[u.s&0xf]))
		case 0x6c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) << (uint32(regs[u.s&0xf]) & 31))
		case 0x7c:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) >> (uint32(regs[u.s&0xf]) & 31))
		case 0xac:
			regs[u.d&0xf] = uint64(uint32(regs[u.d&0xf]) ^ uint32(regs[u.s&0xf]))
		case 0xbc: // mov; movsx is a closure
			regs[u.d&0xf] = uint64(uint32(regs[u.s&0xf]))
		case 0xcc:
			regs[u.d&0xf] = uint64(uint32(int32(regs[u.d&0xf]) >> (uint32(regs[u.s&0xf]) & 31)))
		// Division and modulo (signed when off is 1), negation, byte swaps.
		case 0x37:
			regs[u.d&0xf] = div64(regs[u.d&0xf], u.k, int32(u.off))
		case 0x3f:
			regs[u.d&0xf] = div64(regs[u.d&0xf], regs[u.s&0xf], int32(u.off))
		case 0x97:
			regs[u.d&0xf] = mod64(regs[u.d&0xf], u.k, int32(u.off))
		case 0x9f:
			regs[u.d&0xf] = mod64(regs[u.d&0xf], regs[u.s&0xf], int32(u.off))
		case 0x34:
			regs[u.d&0xf] = uint64(div32(uint32(regs[u.d&0xf]), uint32(u.k), int32(u.off)))
		case 0x3c:
			regs[u.d&0xf] = uint64(div32(uint32(regs[u.d&0xf]), uint32(regs[u.s&0xf]), int32(u.off)))
		case 0x94:
			regs[u.d&0xf] = uint64(mod32(uint32(regs[u.d&0xf]), uint32(u.k), int32(u.off)))
		case 0x9c:
			regs[u.d&0xf] = uint64(mod32(uint32(regs[u.d&0xf]), uint32(regs[u.s&0xf]), int32(u.off)))
		case 0x87:
			regs[u.d&0xf] = -regs[u.d&0xf]
		case 0x84:
			regs[u.d&0xf] = uint64(-uint32(regs[u.d&0xf]))
		case 0xd7, 0xdc: // bswap, and to big endian: swap
			regs[u.d&0xf] = bswap(regs[u.d&0xf], int64(u.k))
		case 0xd4: // to little endian: truncate
			regs[u.d&0xf] = truncate(regs[u.d&0xf], int64(u.k))
		// The 64-bit immediate load: one instruction in two words.
		case 0x18:
			regs[u.d&0xf] = u.k
		// Loads. A refused access goes to the slow path, which may ask a Load hook.
		case 0x61:
			mb := m.access(regs[u.s&0xf]+u.off, 4, false)
			if mb == nil {
				goto help
			}
			regs[u.d&0xf] = uint64(le.Uint32(mb))
		case 0x69:
			mb := m.access(regs[u.s&0xf]+u.off, 2, false)
			if mb == nil {
				goto help
			}
			regs[u.d&0xf] = uint64(le.Uint16(mb))
		case 0x71:
			mb := m.access(regs[u.s&0xf]+u.off, 1, false)
			if mb == nil {
				goto help
			}
			regs[u.d&0xf] = uint64(mb[0])
		case 0x79:
			mb := m.access(regs[u.s&0xf]+u.off, 8, false)
			if mb == nil {
				goto help
			}
			regs[u.d&0xf] = le.Uint64(mb)
		// Stores of an immediate.
		case 0x62:
			mb := m.access(regs[u.d&0xf]+u.off, 4, true)
			if mb == nil {
				goto help
			}
			le.PutUint32(mb, uint32(u.k))
		case 0x6a:
			mb := m.access(regs[u.d&0xf]+u.off, 2, true)
			if mb == nil {
				goto help
			}
			le.PutUint16(mb, uint16(u.k))
		case 0x72:
			mb := m.access(regs[u.d&0xf]+u.off, 1, true)
			if mb == nil {
				goto help
			}
			mb[0] = uint8(u.k)
		case 0x7a:
			mb := m.access(regs[u.d&0xf]+u.off, 8, true)
			if mb == nil {
				goto help
			}
			le.PutUint64(mb, u.k)
		// Stores of a register.
		case 0x63:
			mb := m.access(regs[u.d&0xf]+u.off, 4, true)
			if mb == nil {
				goto help
			}
			le.PutUint32(mb, uint32(regs[u.s&0xf]))
		case 0x6b:
			mb := m.access(regs[u.d&0xf]+u.off, 2, true)
			if mb == nil {
				goto help
			}
			le.PutUint16(mb, uint16(regs[u.s&0xf]))
		case 0x73:
			mb := m.access(regs[u.d&0xf]+u.off, 1, true)
			if mb == nil {
				goto help
			}
			mb[0] = uint8(regs[u.s&0xf])
		case 0x7b:
			mb := m.access(regs[u.d&0xf]+u.off, 8, true)
			if mb == nil {
				goto help
			}
			le.PutUint64(mb, regs[u.s&0xf])
		case uopClosure:
			goto help

		// The instruction that ends the block.
		case uopGoto:
			bi = u.t
			goto enter
		case uopExit:
			c.bi, c.i, c.left, c.short = bi, i, left, short
			if m.depth == c.stop {
				return stopExit
			}
			return stopCall
		case uopCall:
			c.bi, c.i, c.left, c.short = bi, i, left, short
			return stopCall
		case OpMayGoto:
			left := m.loops[m.depth]
			if left != 0 {
				m.loops[m.depth] = left - 1
			}
			bi = pick(left == 0, u)
			goto enter
		case 0x15:
			bi = pick(regs[u.d&0xf] == u.k, u)
			goto enter
		case 0x1d:
			bi = pick(regs[u.d&0xf] == regs[u.s&0xf], u)
			goto enter
		case 0x25:
			bi = pick(regs[u.d&0xf] > u.k, u)
			goto enter
		case 0x2d:
			bi = pick(regs[u.d&0xf] > regs[u.s&0xf], u)
			goto enter
		case 0x35:
			bi = pick(regs[u.d&0xf] >= u.k, u)
			goto enter
		case 0x3d:
			bi = pick(regs[u.d&0xf] >= regs[u.s&0xf], u)
			goto enter
		case 0x45:
			bi = pick(regs[u.d&0xf]&u.k != 0, u)
			goto enter
		case 0x4d:
			bi = pick(regs[u.d&0xf]&regs[u.s&0xf] != 0, u)
			goto enter
		case 0x55:
			bi = pick(regs[u.d&0xf] != u.k, u)
			goto enter
		case 0x5d:
			bi = pick(regs[u.d&0xf] != regs[u.s&0xf], u)
			goto enter
		case 0x65:
			bi = pick(int64(regs[u.d&0xf]) > int64(u.k), u)
			goto enter
		case 0x6d:
			bi = pick(int64(regs[u.d&0xf]) > int64(regs[u.s&0xf]), u)
			goto enter
		case 0x75:
			bi = pick(int64(regs[u.d&0xf]) >= int64(u.k), u)
			goto enter
		case 0x7d:
			bi = pick(int64(regs[u.d&0xf]) >= int64(regs[u.s&0xf]), u)
			goto enter
		case 0xa5:
			bi = pick(regs[u.d&0xf] < u.k, u)
			goto enter
		case 0xad:
			bi = pick(regs[u.d&0xf] < regs[u.s&0xf], u)
			goto enter
		case 0xb5:
			bi = pick(regs[u.d&0xf] <= u.k, u)
			goto enter
		case 0xbd:
			bi = pick(regs[u.d&0xf] <= regs[u.s&0xf], u)
			goto enter
		case 0xc5:
			bi = pick(int64(regs[u.d&0xf]) < int64(u.k), u)
			goto enter
		case 0xcd:
			bi = pick(int64(regs[u.d&0xf]) < int64(regs[u.s&0xf]), u)
			goto enter
		case 0xd5:
			bi = pick(int64(regs[u.d&0xf]) <= int64(u.k), u)
			goto enter
		case 0xdd:
			bi = pick(int64(regs[u.d&0xf]) <= int64(regs[u.s&0xf]), u)
			goto enter
		// 32-bit jumps compare the low halves.
		case 0x16:
			bi = pick(uint32(regs[u.d&0xf]) == uint32(u.k), u)
			goto enter
		case 0x1e:
			bi = pick(uint32(regs[u.d&0xf]) == uint32(regs[u.s&0xf]), u)
			goto enter
		case 0x26:
			bi = pick(uint32(regs[u.d&0xf]) > uint32(u.k), u)
			goto enter
		case 0x2e:
			bi = pick(uint32(regs[u.d&0xf]) > uint32(regs[u.s&0xf]), u)
			goto enter
		case 0x36:
			bi = pick(uint32(regs[u.d&0xf]) >= uint32(u.k), u)
			goto enter
		case 0x3e:
			bi = pick(uint32(regs[u.d&0xf]) >= uint32(regs[u.s&0xf]), u)
			goto enter
		case 0x46:
			bi = pick(uint32(regs[u.d&0xf])&uint32(u.k) != 0, u)
			goto enter
		case 0x4e:
			bi = pick(uint32(regs[u.d&0xf])&uint32(regs[u.s&0xf]) != 0, u)
			goto enter
		case 0x56:
			bi = pick(uint32(regs[u.d&0xf]) != uint32(u.k), u)
			goto enter
		case 0x5e:
			bi = pick(uint32(regs[u.d&0xf]) != uint32(regs[u.s&0xf]), u)
			goto enter
		case 0x66:
			bi = pick(int32(regs[u.d&0xf]) > int32(u.k), u)
			goto enter
		case 0x6e:
			bi = pick(int32(regs[u.d&0xf]) > int32(regs[u.s&0xf]), u)
			goto enter
		case 0x76:
			bi = pick(int32(regs[u.d&0xf]) >= int32(u.k), u)
			goto enter
		case 0x7e:
			bi = pick(int32(regs[u.d&0xf]) >= int32(regs[u.s&0xf]), u)
			goto enter
		case 0xa6:
			bi = pick(uint32(regs[u.d&0xf]) < uint32(u.k), u)
			goto enter
		case 0xae:
			bi = pick(uint32(regs[u.d&0xf]) < uint32(regs[u.s&0xf]), u)
			goto enter
		case 0xb6:
			bi = pick(uint32(regs[u.d&0xf]) <= uint32(u.k), u)
			goto enter
		case 0xbe:
			bi = pick(uint32(regs[u.d&0xf]) <= uint32(regs[u.s&0xf]), u)
			goto enter
		case 0xc6:
			bi = pick(int32(regs[u.d&0xf]) < int32(u.k), u)
			goto enter
		case 0xce:
			bi = pick(int32(regs[u.d&0xf]) < int32(regs[u.s&0xf]), u)
			goto enter
		case 0xd6:
			bi = pick(int32(regs[u.d&0xf]) <= int32(u.k), u)
			goto enter
		case 0xde:
			bi = pick(int32(regs[u.d&0xf]) <= int32(regs[u.s&0xf]), u)
			goto enter
		// "dst += imm" and a conditional jump.
		case uopAddJump | 0x15:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] == u.k, u)
			goto enter
		case uopAddJump | 0x1d:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] == regs[u.s&0xf], u)
			goto enter
		case uopAddJump | 0x25:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] > u.k, u)
			goto enter
		case uopAddJump | 0x2d:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] > regs[u.s&0xf], u)
			goto enter
		case uopAddJump | 0x35:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] >= u.k, u)
			goto enter
		case uopAddJump | 0x3d:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] >= regs[u.s&0xf], u)
			goto enter
		case uopAddJump | 0x45:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf]&u.k != 0, u)
			goto enter
		case uopAddJump | 0x4d:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf]&regs[u.s&0xf] != 0, u)
			goto enter
		case uopAddJump | 0x55:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] != u.k, u)
			goto enter
		case uopAddJump | 0x5d:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] != regs[u.s&0xf], u)
			goto enter
		case uopAddJump | 0x65:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) > int64(u.k), u)
			goto enter
		case uopAddJump | 0x6d:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) > int64(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x75:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) >= int64(u.k), u)
			goto enter
		case uopAddJump | 0x7d:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) >= int64(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0xa5:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] < u.k, u)
			goto enter
		case uopAddJump | 0xad:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] < regs[u.s&0xf], u)
			goto enter
		case uopAddJump | 0xb5:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] <= u.k, u)
			goto enter
		case uopAddJump | 0xbd:
			regs[u.d2&0xf] += u.off
			bi = pick(regs[u.d&0xf] <= regs[u.s&0xf], u)
			goto enter
		case uopAddJump | 0xc5:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) < int64(u.k), u)
			goto enter
		case uopAddJump | 0xcd:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) < int64(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0xd5:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) <= int64(u.k), u)
			goto enter
		case uopAddJump | 0xdd:
			regs[u.d2&0xf] += u.off
			bi = pick(int64(regs[u.d&0xf]) <= int64(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x16:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) == uint32(u.k), u)
			goto enter
		case uopAddJump | 0x1e:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) == uint32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x26:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) > uint32(u.k), u)
			goto enter
		case uopAddJump | 0x2e:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) > uint32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x36:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) >= uint32(u.k), u)
			goto enter
		case uopAddJump | 0x3e:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) >= uint32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x46:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf])&uint32(u.k) != 0, u)
			goto enter
		case uopAddJump | 0x4e:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf])&uint32(regs[u.s&0xf]) != 0, u)
			goto enter
		case uopAddJump | 0x56:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) != uint32(u.k), u)
			goto enter
		case uopAddJump | 0x5e:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) != uint32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x66:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) > int32(u.k), u)
			goto enter
		case uopAddJump | 0x6e:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) > int32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0x76:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) >= int32(u.k), u)
			goto enter
		case uopAddJump | 0x7e:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) >= int32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0xa6:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) < uint32(u.k), u)
			goto enter
		case uopAddJump | 0xae:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) < uint32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0xb6:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) <= uint32(u.k), u)
			goto enter
		case uopAddJump | 0xbe:
			regs[u.d2&0xf] += u.off
			bi = pick(uint32(regs[u.d&0xf]) <= uint32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0xc6:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) < int32(u.k), u)
			goto enter
		case uopAddJump | 0xce:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) < int32(regs[u.s&0xf]), u)
			goto enter
		case uopAddJump | 0xd6:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) <= int32(u.k), u)
			goto enter
		case uopAddJump | 0xde:
			regs[u.d2&0xf] += u.off
			bi = pick(int32(regs[u.d&0xf]) <= int32(regs[u.s&0xf]), u)
			goto enter
		}
		continue
	help:
		c.bi, c.i, c.left, c.short = bi, i, left, short
		return stopHelp
	}
	c.bi, c.i, c.left, c.short = bi, i, left, short
	return stopBudget
}

// pick is the block a conditional jump leads to.
func pick(taken bool, u *uop) int32 {
	if taken {
		return u.t
	}
	return u.f
}

// memSlow carries out the memory instruction at pc whose access the region's window refused, as
// the interpreter does: a load may still be served by the region's Load hook, a store by its Store
// hook; anything else faults.
// left is the budget after charging the instruction.
func (m *Machine) memSlow(p *Program, pc int, left uint64) error {
	in := &p.code[pc]
	regs := &m.regs
	dst, src := in.dst&0xf, in.src&0xf
	size := accessSize(in.code)
	switch in.code & 0x07 {
	case ClassLDX:
		a := regs[src] + uint64(in.off)
		if v, ok := m.hookLoad(a, size, pc+1, left); ok {
			if in.code&0xe0 == ModeMEMSX {
				// As in the interpreter: the hook answers zero-extended, the load extends the sign.
				shift := 64 - size*8
				v = uint64(int64(v<<shift) >> shift)
			}
			regs[dst] = v
			return nil
		}
		_, err := m.memFault(left, pc+1, a, int(size), accessLoad)
		return err
	case ClassST, ClassSTX:
		access := accessStore
		if in.code&0xe0 == ModeATOMIC {
			access = accessAtomic
		} else {
			v := uint64(in.imm)
			if in.code&0x07 == ClassSTX {
				v = regs[src]
			}
			if size < 8 {
				v &= 1<<(size*8) - 1
			}
			if m.hookStore(regs[dst]+uint64(in.off), size, v, pc+1, left) {
				return nil
			}
		}
		_, err := m.memFault(left, pc+1, regs[dst]+uint64(in.off), int(size), access)
		return err
	}
	// Unreachable: only memory instructions are refused. Report it as the interpreter reports
	// an instruction it does not know.
	m.left = left
	return &RuntimeError{PC: pc, Line: p.LineAt(pc), Err: errInvalidOp}
}

func accessSize(code uint8) uint32 {
	switch code & 0x18 {
	case SizeB:
		return 1
	case SizeH:
		return 2
	case SizeW:
		return 4
	}
	return 8
}

// compileBlocks splits p into basic blocks and compiles them. It allocates a handful of slices
// for the whole program (and a closure for each rare instruction), not some for every block.
func compileBlocks(p *Program) *cprog {
	code := p.code
	n := len(code)
	// Find the instructions that start blocks; second marks the second words of lddw.
	const leader, second = 1, 2
	flags := make([]uint8, n)
	flags[0] = leader
	for pc := 0; pc < n; pc++ {
		in := &code[pc]
		if p.funcStart[pc] {
			flags[pc] |= leader
		}
		if in.code == OpLdImm64 {
			flags[pc+1] |= second
			pc++
			continue
		}
		if !endsBlock(in.code) {
			continue
		}
		if pc+1 < n {
			flags[pc+1] |= leader
		}
		if isJump(in.code) {
			flags[in.off] |= leader
		}
	}
	cp := &cprog{blockAt: make([]int32, n), blockOf: make([]int32, n)}
	nblocks := 0
	for pc, f := range flags {
		cp.blockAt[pc] = -1
		cp.blockOf[pc] = -1
		if f == leader {
			cp.blockAt[pc] = int32(nblocks)
			nblocks++
		}
	}
	cp.blocks = make([]cblock, nblocks)
	// Every instruction makes at most one uop, and every block at most one more (a
	// fall-through).
	uops := make([]uop, 0, n+nblocks)
	pcs := make([]int32, 0, n+nblocks)
	fused := 0
	for pc := 0; pc < n; {
		if cp.blockAt[pc] < 0 {
			pc++ // unreachable: validation lets no block start inside a lddw
			continue
		}
		b := &cp.blocks[cp.blockAt[pc]]
		start := len(uops)
		for {
			in := &code[pc]
			pcs = append(pcs, int32(pc))
			if endsBlock(in.code) {
				uops = append(uops, compileEnd(in, cp, pc))
				b.n = uint64(len(uops) - start)
				pc++
				break
			}
			u := uop{code: uint16(in.code), d: in.dst & 0xf, s: in.src & 0xf, off: uint64(int64(in.off)), k: uint64(in.imm)}
			if fn := makeOp(in); fn != nil {
				u.code, u.t = uopClosure, int32(len(cp.fns))
				cp.fns = append(cp.fns, fn)
			}
			uops = append(uops, u)
			pc++
			if in.code == OpLdImm64 {
				pc++
			}
			// Validation guarantees that straight-line code never runs off the end, so
			// here pc < n.
			if cp.blockAt[pc] >= 0 {
				// Fall through into the next block.
				b.n = uint64(len(uops) - start)
				uops = append(uops, uop{code: uopGoto, t: cp.blockAt[pc]})
				pcs = append(pcs, int32(pc))
				break
			}
		}
		b.plain = uops[start:len(uops):len(uops)]
		b.pcs = pcs[start:len(pcs):len(pcs)]
		for _, i := range b.pcs[:b.n] {
			cp.blockOf[i] = cp.blockAt[b.pcs[0]]
		}
		if fusable(b.plain) {
			fused += len(b.plain) - 1
		}
	}
	// Blocks that end in "dst += imm" and a conditional jump run the two as one uop.
	arena := make([]uop, 0, fused)
	for i := range cp.blocks {
		b := &cp.blocks[i]
		b.ops = b.plain
		if k := len(b.plain); fusable(b.plain) {
			start := len(arena)
			add, jump := b.plain[k-2], b.plain[k-1]
			jump.code |= uopAddJump
			jump.d2, jump.off = add.d, add.k
			arena = append(append(arena, b.plain[:k-2]...), jump)
			b.ops = arena[start:len(arena):len(arena)]
		}
	}
	return cp
}

// fusable reports whether a block ends in "dst += imm" and a conditional jump.
func fusable(plain []uop) bool {
	k := len(plain)
	return k >= 2 && plain[k-2].code == 0x07 && plain[k-1].code <= 0xff && condJump(uint8(plain[k-1].code)) &&
		plain[k-1].code != OpMayGoto
}

func endsBlock(code uint8) bool {
	cls := code & 0x07
	return cls == ClassJMP || cls == ClassJMP32
}

// isJump reports whether a block-ending opcode is a jump (and not a call or exit).
func isJump(code uint8) bool {
	return code != OpCall && code != OpCallX && code != OpExit
}

// compileEnd decodes the instruction at pc that ends a block.
func compileEnd(in *op, cp *cprog, pc int) uop {
	switch {
	case in.code == ClassJMP|JmpJA || in.code == OpJA32:
		return uop{code: uopGoto, t: cp.blockAt[in.off]}
	case in.code == OpExit:
		return uop{code: uopExit}
	case !condJump(in.code):
		// call and callx; and, should validation ever let one through, an unknown jump,
		// which the engine then reports as the interpreter does.
		return uop{code: uopCall}
	}
	// A conditional jump is never the last instruction (the last one leaves), so the next
	// one starts a block.
	return uop{code: uint16(in.code), d: in.dst & 0xf, s: in.src & 0xf, k: uint64(in.imm),
		t: cp.blockAt[in.off], f: cp.blockAt[pc+1]}
}

// condJump reports whether code is a conditional jump.
func condJump(code uint8) bool {
	if code&0x07 != ClassJMP && code&0x07 != ClassJMP32 {
		return false
	}
	switch code & 0xf0 {
	case JmpJEQ, JmpJGT, JmpJGE, JmpJSET, JmpJNE, JmpJSGT, JmpJSGE, JmpJLT, JmpJLE, JmpJSLT, JmpJSLE:
		return true
	}
	return code == OpMayGoto
}

// makeOp compiles a straight-line instruction the block loop has no case for into a closure, its
// registers and constants captured. It returns nil for the instructions the loop does itself.
func makeOp(in *op) cop {
	d, s := in.dst&0xf, in.src&0xf
	off := uint64(int64(in.off))
	switch in.code {
	case 0x07, 0x17, 0x27, 0x37, 0x47, 0x57, 0x67, 0x77, 0x87, 0x97, 0xa7, 0xb7, 0xc7, 0xd7,
		0x0f, 0x1f, 0x2f, 0x3f, 0x4f, 0x5f, 0x6f, 0x7f, 0x9f, 0xaf, 0xcf,
		0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0x84, 0x94, 0xa4, 0xb4, 0xc4, 0xd4,
		0x0c, 0x1c, 0x2c, 0x3c, 0x4c, 0x5c, 0x6c, 0x7c, 0x9c, 0xac, 0xcc, 0xdc,
		0x18,
		0x61, 0x69, 0x71, 0x79,
		0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b:
		return nil
	// Sign-extending moves (plain moves are the loop's).
	case 0xbf:
		switch in.off {
		case 0:
			return nil
		case 8:
			return func(m *Machine) bool { m.regs[d] = uint64(int8(m.regs[s])); return true }
		case 16:
			return func(m *Machine) bool { m.regs[d] = uint64(int16(m.regs[s])); return true }
		default:
			return func(m *Machine) bool { m.regs[d] = uint64(int32(m.regs[s])); return true }
		}
	case 0xbc:
		switch in.off {
		case 0:
			return nil
		case 8:
			return func(m *Machine) bool { m.regs[d] = uint64(uint32(int32(int8(m.regs[s])))); return true }
		default:
			return func(m *Machine) bool { m.regs[d] = uint64(uint32(int32(int16(m.regs[s])))); return true }
		}
	// Sign-extending loads.
	case 0x81:
		return func(m *Machine) bool {
			b := m.access(m.regs[s]+off, 4, false)
			if b == nil {
				return false
			}
			m.regs[d] = uint64(int32(le.Uint32(b)))
			return true
		}
	case 0x89:
		return func(m *Machine) bool {
			b := m.access(m.regs[s]+off, 2, false)
			if b == nil {
				return false
			}
			m.regs[d] = uint64(int16(le.Uint16(b)))
			return true
		}
	case 0x91:
		return func(m *Machine) bool {
			b := m.access(m.regs[s]+off, 1, false)
			if b == nil {
				return false
			}
			m.regs[d] = uint64(int8(b[0]))
			return true
		}
	// Atomics.
	case 0xc3:
		a := in.imm
		return func(m *Machine) bool {
			b := m.access(m.regs[d]+off, 4, true)
			if b == nil {
				return false
			}
			atomic32(b, &m.regs, s, a)
			return true
		}
	case 0xdb:
		a := in.imm
		return func(m *Machine) bool {
			b := m.access(m.regs[d]+off, 8, true)
			if b == nil {
				return false
			}
			atomic64(b, &m.regs, s, a)
			return true
		}
	}
	// Validation admits no other straight-line opcode. Should one come, the slow path reports
	// it as the interpreter reports an instruction it does not know.
	return func(*Machine) bool { return false }
}

// recordBlocks points the block loop at the coverage record of p, compiled as cp, when the machine
// has a coverage record.
func (m *Machine) recordBlocks(p *Program, cp *cprog) {
	if m.cov != nil {
		m.covCur = m.cov.forBlocks(p, cp)
	}
}
