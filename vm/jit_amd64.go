//go:build amd64 && linux

package vm

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

const nativeSupported = true

// jitcall enters native code (jit_amd64.s).
//
//go:noescape
func jitcall(m unsafe.Pointer, entry, target uintptr)

// Why native code returned to Go: the low byte of natState.exit.
const (
	exitDone   = iota + 1 // exit at the stop depth: the run (or callback) is over
	exitFuel              // the block at pc needs aux instructions, more than the fuel left
	exitMem               // the window refused the access at pc; aux instructions of its block were charged but not run
	exitHelper            // call helper at pc
	exitKfunc             // call kfunc at pc
	exitCallx             // callx at pc
	exitDepth             // call at pc with every frame in use
	exitReturn            // exit at pc returns into a frame of another program
)

// fuelSlice is the most instructions native code runs before it returns to Go, so that a long run
// lets the scheduler and the garbage collector in (native code cannot be preempted).
const fuelSlice = 1 << 20

// nativeCode is a program compiled to machine code.
type nativeCode struct {
	mem   []byte // the executable mapping
	code  int    // the length of the machine code in mem (the table of pcs follows it)
	entry uintptr
	flow  []int32 // pc -> offset of the code that continues there (-1: the second word of lddw)
}

func (nc *nativeCode) at(pc int) uintptr {
	return uintptr(unsafe.Pointer(&nc.mem[0])) + uintptr(nc.flow[pc])
}

// nativeProgram returns p's native code, compiling it on first use, or nil when p cannot be
// compiled (the interpreter then runs it).
func nativeProgram(p *Program) *nativeCode {
	if nc := p.native.code.Load(); nc != nil {
		return nc
	}
	if p.native.failed.Load() || p.code == nil {
		return nil
	}
	p.native.mu.Lock()
	defer p.native.mu.Unlock()
	if nc := p.native.code.Load(); nc != nil {
		return nc
	}
	nc, err := compileNative(p)
	if err != nil {
		p.native.err = err
		p.native.failed.Store(true)
		return nil
	}
	p.native.code.Store(nc)
	return nc
}

// compileNativeOnce compiles p unless done or tried already, and reports whether it has native
// code.
func compileNativeOnce(p *Program) bool { return nativeProgram(p) != nil }

// jitExec runs p from pc until an exit at depth stop, as the interpreter would.
func jitExec(m *Machine, p *Program, pc int, stop int) (r0 uint64, err error) {
	nc := nativeProgram(p)
	if nc == nil {
		return interpreter{}.exec(m, p, pc, stop)
	}
	regs := &m.regs
	m.prog = p
	target := nc.at(pc)
	// need is the fuel the code at target needs at least: a block longer than a slice gets
	// the fuel it needs.
	var need uint64
	for {
		if m.nat.fillProg != p || m.nat.fillFrom > m.depth {
			// Frames native code pushes record p as their program; write it here, where
			// the write barrier sees it.
			for d := m.depth; d < MaxFrames; d++ {
				m.frames[d].prog = p
			}
			m.nat.fillProg, m.nat.fillFrom = p, m.depth
		}
		m.nat.stop = stop
		m.nat.prog = uintptr(unsafe.Pointer(p))
		fuel := min(m.left, max(fuelSlice, need))
		m.nat.fuel = fuel
		jitcall(unsafe.Pointer(m), nc.entry, target)
		m.left -= fuel - m.nat.fuel
		need = 0
		code, aux, at := uint8(m.nat.exit), uint64(uint32(m.nat.exit)>>8), int(m.nat.exit>>32)
		switch code {
		case exitDone:
			m.pc = at
			return regs[0], nil
		case exitFuel:
			if m.left < aux {
				// The budget ends inside this block: the interpreter runs what is left of
				// it and stops exactly where it would have.
				return interpreter{}.exec(m, p, at, stop)
			}
			need = aux
			target = nc.at(at)
		case exitMem:
			left := m.left + aux
			if err := m.memSlow(p, at, left); err != nil {
				return 0, err
			}
			m.left = left - aux
			target = nc.at(at + 1)
		case exitHelper, exitKfunc:
			in := &p.code[at]
			m.pc = at
			if code == exitHelper {
				regs[0], err = p.helpers[in.imm](m, regs[1], regs[2], regs[3], regs[4], regs[5])
			} else {
				regs[0], err = p.kfnTab[in.imm](m, regs[1], regs[2], regs[3], regs[4], regs[5])
			}
			if err != nil {
				return 0, m.helperErr(at, err)
			}
			if m.pending&pendingExit != 0 {
				m.pending = 0
				return m.exitVal, nil
			}
			if code == exitHelper && m.pending != 0 {
				// A tail call: continue in the new program from its start.
				m.pending = 0
				p = m.tail
				m.prog, m.tail = p, nil
				regs[1] = m.entryArg
				if nc = nativeProgram(p); nc == nil {
					return interpreter{}.exec(m, p, 0, stop)
				}
				target = nc.at(0)
				continue
			}
			target = nc.at(at + 1)
		case exitCallx:
			next, done, r0, err := m.callx(p, at+1)
			if err != nil || done {
				return r0, err
			}
			target = nc.at(next)
		case exitDepth:
			return 0, &RuntimeError{PC: at, Line: p.LineAt(at), Err: ErrCallDepth}
		case exitReturn:
			f := m.popFrame()
			p = f.prog
			m.prog = p
			if nc = nativeProgram(p); nc == nil {
				return interpreter{}.exec(m, p, f.ret, stop)
			}
			target = nc.at(f.ret)
		default:
			panic(fmt.Sprintf("vm: native code returned with exit %#x", m.nat.exit))
		}
	}
}

// Offsets native code uses to reach the machine's state and the region table.
var (
	offRegs       = int32(unsafe.Offsetof(Machine{}.regs))
	offRegions    = int32(unsafe.Offsetof(Machine{}.regions))
	offFrames     = int32(unsafe.Offsetof(Machine{}.frames))
	offDepth      = int32(unsafe.Offsetof(Machine{}.depth))
	offMaxDepth   = int32(unsafe.Offsetof(Machine{}.maxDepth))
	offExit       = int32(unsafe.Offsetof(Machine{}.nat) + unsafe.Offsetof(natState{}.exit))
	offFuel       = int32(unsafe.Offsetof(Machine{}.nat) + unsafe.Offsetof(natState{}.fuel))
	offStop       = int32(unsafe.Offsetof(Machine{}.nat) + unsafe.Offsetof(natState{}.stop))
	offProg       = int32(unsafe.Offsetof(Machine{}.nat) + unsafe.Offsetof(natState{}.prog))
	sizeRegion    = int32(unsafe.Sizeof(Region{}))
	offRegionData = int32(unsafe.Offsetof(Region{}.Data))
	offRegionLo   = int32(unsafe.Offsetof(Region{}.Lo))
	offRegionHi   = int32(unsafe.Offsetof(Region{}.Hi))
	offRegionRO   = int32(unsafe.Offsetof(Region{}.ReadOnly))
	offRegionWide = int32(unsafe.Offsetof(Region{}.WideMask))
	sizeFrame     = int32(unsafe.Sizeof(frame{}))
	offFrameProg  = int32(unsafe.Offsetof(frame{}.prog))
	offFrameRet   = int32(unsafe.Offsetof(frame{}.ret))
	offFrameSaved = int32(unsafe.Offsetof(frame{}.saved))
	offFrameFP    = int32(unsafe.Offsetof(frame{}.fp))
)

// Native registers. R15 holds the machine, R14 the fuel; RAX, RCX and RDX are scratch; the other
// nine hold nine of the BPF registers r0-r9. The tenth (the one the program uses least) and r10
// live in the machine's regs array.
const (
	regMachine = r15
	regFuel    = r14
)

// multiplyRegionSize makes the code index the region table with a multiplication even when the
// size of a Region is a power of two, for tests of the path a larger Region would take.
var multiplyRegionSize = false

var bpfHomes = [9]xreg{rbx, rsi, rdi, r8, r9, r10, r11, r12, r13}

// jitc compiles one program.
type jitc struct {
	asm
	p    *Program
	home [11]int8 // native register of each BPF register, -1 when it lives in memory
	flow []label  // per pc: where execution continues at pc
	// cold holds code emitted after the program: the paths taken rarely.
	cold     []func()
	exitStub label
	table    label
}

func compileNative(p *Program) (*nativeCode, error) {
	code := p.code
	n := len(code)
	for pc := range code {
		if code[pc].code == OpMayGoto {
			return nil, fmt.Errorf("instruction %d is may_goto, whose allowance native code does not keep", pc)
		}
	}
	c := &jitc{p: p, flow: make([]label, n)}
	for i := range c.flow {
		c.flow[i] = c.newLabel()
	}
	c.exitStub = c.newLabel()
	c.table = c.newLabel()
	c.assignRegisters()

	// Basic blocks, as the closures engine finds them: a block starts at a function, at a jump
	// target and after every jump, call and exit.
	leader := make([]bool, n)
	second := make([]bool, n)
	leader[0] = true
	for pc := 0; pc < n; pc++ {
		in := &code[pc]
		if p.funcStart[pc] {
			leader[pc] = true
		}
		if in.code == OpLdImm64 {
			second[pc+1] = true
			pc++
			continue
		}
		if endsBlock(in.code) {
			if pc+1 < n {
				leader[pc+1] = true
			}
			if isJump(in.code) {
				leader[in.off] = true
			}
		}
	}

	// The entry stub: load the registers, then go where the caller asked (rax).
	entry := len(c.b)
	for b := 0; b <= 9; b++ {
		if h := c.home[b]; h >= 0 {
			c.load(8, xreg(h), c.regMem(uint8(b)))
		}
	}
	c.load(8, regFuel, memAt(regMachine, offFuel))
	c.jmpReg(rax)
	// The exit stub: store them back and return to jitcall.
	c.bind(c.exitStub)
	for b := 0; b <= 9; b++ {
		if h := c.home[b]; h >= 0 {
			c.mov(8, c.regMem(uint8(b)), xreg(h))
		}
	}
	c.mov(8, memAt(regMachine, offFuel), regFuel)
	c.ret()

	var blockLen, inBlock uint64
	for pc := 0; pc < n; pc++ {
		if second[pc] {
			continue
		}
		c.bind(c.flow[pc])
		if leader[pc] {
			blockLen, inBlock = blockSize(code, leader, pc), 0
			c.charge(pc, blockLen)
		}
		inBlock++
		if err := c.instruction(pc, blockLen-inBlock); err != nil {
			return nil, err
		}
	}
	for _, f := range c.cold {
		f()
	}
	// The table of where each pc continues, relative to the table, for returns from calls.
	for len(c.b)%4 != 0 {
		c.emit(0xcc)
	}
	c.bind(c.table)
	tableAt := len(c.b)
	for pc := 0; pc < n; pc++ {
		c.imm32(0)
	}
	c.link()
	nc := &nativeCode{flow: make([]int32, n), code: tableAt}
	for pc := 0; pc < n; pc++ {
		nc.flow[pc] = -1
		if !second[pc] {
			nc.flow[pc] = c.labels[c.flow[pc]]
			putInt32(c.b[tableAt+4*pc:], c.labels[c.flow[pc]]-int32(tableAt))
		}
	}
	mem, err := mapCode(c.b)
	if err != nil {
		return nil, err
	}
	nc.mem = mem
	nc.entry = uintptr(unsafe.Pointer(&mem[entry]))
	runtime.AddCleanup(nc, func(mem []byte) { syscall.Munmap(mem) }, mem)
	return nc, nil
}

func putInt32(b []byte, v int32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// mapCode is mapExecutable, or a test's stand-in for a system that refuses executable memory.
var mapCode = mapExecutable

// mapExecutable copies code into fresh memory that can be executed and not written.
func mapExecutable(code []byte) ([]byte, error) {
	size := (len(code) + 4095) &^ 4095
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("mapping %d bytes for native code: %w", size, err)
	}
	copy(mem, code)
	if err := syscall.Mprotect(mem, syscall.PROT_READ|syscall.PROT_EXEC); err != nil {
		syscall.Munmap(mem)
		return nil, fmt.Errorf("making native code executable: %w", err)
	}
	return mem, nil
}

// blockSize is the number of instructions the block starting at pc executes.
func blockSize(code []op, leader []bool, pc int) uint64 {
	var n uint64
	for {
		in := &code[pc]
		n++
		if endsBlock(in.code) {
			return n
		}
		pc++
		if in.code == OpLdImm64 {
			pc++
		}
		if leader[pc] {
			return n
		}
	}
}

// assignRegisters gives nine of r0-r9 native registers: all but the one the program names least.
func (c *jitc) assignRegisters() {
	var uses [10]int
	for _, in := range c.p.code {
		if in.dst < 10 {
			uses[in.dst]++
		}
		if in.src < 10 {
			uses[in.src]++
		}
	}
	spill := 9
	for b := 9; b >= 0; b-- {
		if uses[b] < uses[spill] {
			spill = b
		}
	}
	next := 0
	for b := 0; b <= 10; b++ {
		c.home[b] = -1
		if b != spill && b != 10 {
			c.home[b] = int8(bpfHomes[next])
			next++
		}
	}
}

func (c *jitc) regMem(b uint8) operand { return memAt(regMachine, offRegs+8*int32(b)) }

// opnd is BPF register b as an operand: its native register or its slot in memory.
func (c *jitc) opnd(b uint8) operand {
	if h := c.home[b]; h >= 0 {
		return reg(xreg(h))
	}
	return c.regMem(b)
}

// inReg returns a native register holding BPF register b: its own, or scratch loaded from memory.
func (c *jitc) inReg(b uint8, scratch xreg) xreg {
	if h := c.home[b]; h >= 0 {
		return xreg(h)
	}
	c.load(8, scratch, c.regMem(b))
	return scratch
}

// dst returns the native register to compute BPF register b's new value in: its own, or rax
// (loaded with b's value when load is set), which flush then stores.
func (c *jitc) dst(b uint8, load bool) xreg {
	if h := c.home[b]; h >= 0 {
		return xreg(h)
	}
	if load {
		c.load(8, rax, c.regMem(b))
	}
	return rax
}

func (c *jitc) flush(b uint8) {
	if c.home[b] < 0 {
		c.mov(8, c.regMem(b), rax)
	}
}

// exitWord packs why native code returns.
func exitWord(code uint8, pc int, aux uint64) uint64 {
	return uint64(code) | aux<<8 | uint64(pc)<<32
}

// exitTo emits the return to Go with the given reason.
func (c *jitc) exitTo(code uint8, pc int, aux uint64) {
	c.movImm(rax, exitWord(code, pc, aux))
	c.mov(8, memAt(regMachine, offExit), rax)
	c.jmp(c.exitStub)
}

// coldExit returns a label of cold code that returns to Go with the given reason.
func (c *jitc) coldExit(code uint8, pc int, aux uint64) label {
	l := c.newLabel()
	c.cold = append(c.cold, func() {
		c.bind(l)
		c.exitTo(code, pc, aux)
	})
	return l
}

// charge emits the budget charge of the block at pc: n instructions, or a return to Go when fewer
// are left in this slice.
func (c *jitc) charge(pc int, n uint64) {
	short := c.newLabel()
	c.aluImm(aluSub, 8, reg(regFuel), int32(n))
	c.jcc(ccB, short)
	c.cold = append(c.cold, func() {
		c.bind(short)
		c.aluImm(aluAdd, 8, reg(regFuel), int32(n))
		c.exitTo(exitFuel, pc, n)
	})
}

// instruction emits the code of the instruction at pc; after is the number of instructions of its
// block that follow it.
func (c *jitc) instruction(pc int, after uint64) error {
	in := &c.p.code[pc]
	switch cls := in.code & 0x07; cls {
	case ClassALU, ClassALU64:
		c.aluInstruction(in)
	case ClassLD:
		d := c.dst(in.dst, false)
		c.movImm(d, uint64(in.imm))
		c.flush(in.dst)
	case ClassLDX, ClassST, ClassSTX:
		c.memInstruction(pc, in, after)
	case ClassJMP, ClassJMP32:
		c.jumpInstruction(pc, in)
	default:
		return &LoadError{PC: pc, Line: c.p.LineAt(pc), Msg: fmt.Sprintf("the JIT cannot compile opcode %#02x", in.code)}
	}
	return nil
}

func (c *jitc) aluInstruction(in *op) {
	size := 4
	if in.code&0x07 == ClassALU64 {
		size = 8
	}
	byReg := in.code&SrcX != 0
	d, s := in.dst, in.src
	switch o := in.code & 0xf0; o {
	case AluAdd, AluSub, AluOr, AluAnd, AluXor:
		x := map[uint8]byte{AluAdd: aluAdd, AluSub: aluSub, AluOr: aluOr, AluAnd: aluAnd, AluXor: aluXor}[o]
		r := c.dst(d, true)
		if byReg {
			c.aluLoad(x, size, r, c.opnd(s))
		} else {
			c.aluImm(x, size, reg(r), int32(in.imm))
		}
		c.flush(d)
	case AluMul:
		r := c.dst(d, true)
		if byReg {
			c.imul(size, r, c.opnd(s))
		} else {
			c.imulImm(size, r, reg(r), int32(in.imm))
		}
		c.flush(d)
	case AluLsh, AluRsh, AluArsh:
		x := map[uint8]byte{AluLsh: shl, AluRsh: shr, AluArsh: sar}[o]
		r := c.dst(d, true)
		if byReg {
			c.load(4, rcx, c.opnd(s))
			c.shiftCL(x, size, reg(r))
			if size == 4 {
				c.load(4, r, reg(r)) // a shift by 0 leaves the upper half
			}
		} else {
			n := uint8(in.imm) & uint8(size*8-1)
			if n == 0 {
				if size == 4 {
					c.load(4, r, reg(r))
				}
			} else {
				c.shiftImm(x, size, reg(r), n)
			}
		}
		c.flush(d)
	case AluNeg:
		r := c.dst(d, true)
		c.unary(opNeg, size, reg(r))
		c.flush(d)
	case AluMov:
		r := c.dst(d, false)
		switch {
		case !byReg && size == 8:
			c.movImm(r, uint64(in.imm))
		case !byReg:
			c.movImm(r, uint64(uint32(in.imm)))
		case in.off == 0:
			c.load(size, r, c.opnd(s))
		case in.off == 8:
			c.movsx(1, size, r, c.opnd(s))
		case in.off == 16:
			c.movsx(2, size, r, c.opnd(s))
		default:
			c.movsx(4, 8, r, c.opnd(s))
		}
		c.flush(d)
	case AluDiv, AluMod:
		c.division(in, size, o == AluMod)
	case AluEnd:
		r := c.dst(d, true)
		if in.code == ClassALU|AluEnd { // to little endian: truncate
			switch in.imm {
			case 16:
				c.movzx(2, r, reg(r))
			case 32:
				c.load(4, r, reg(r))
			}
		} else {
			switch in.imm {
			case 16:
				c.rol16(r, 8)
				c.movzx(2, r, reg(r))
			case 32:
				c.bswap(4, r)
			default:
				c.bswap(8, r)
			}
		}
		c.flush(d)
	}
}

// division emits dst /= src or dst %= src: unsigned, or signed when off is 1; division by zero
// gives 0 and modulo by zero leaves the dividend (truncated to 32 bits at size 4), and the signed
// overflow of the most negative value by -1 wraps, as in Go, instead of trapping.
func (c *jitc) division(in *op, size int, mod bool) {
	d := in.dst
	if in.code&SrcX != 0 {
		c.load(size, rcx, c.opnd(in.src))
	} else if size == 8 {
		c.movImm(rcx, uint64(in.imm))
	} else {
		c.movImm(rcx, uint64(uint32(in.imm)))
	}
	r := c.dst(d, true)
	byZero, done := c.newLabel(), c.newLabel()
	c.test(size, reg(rcx), rcx)
	c.jcc(ccE, byZero)
	if in.off == 1 {
		normal := c.newLabel()
		c.aluImm(aluCmp, size, reg(rcx), -1)
		c.jcc(ccNE, normal)
		if mod {
			c.alu(aluXor, 4, reg(r), r)
		} else {
			c.unary(opNeg, size, reg(r))
		}
		c.jmp(done)
		c.bind(normal)
		c.load(size, rax, reg(r))
		c.signExtendRAX(size)
		c.unary(opIdiv, size, reg(rcx))
	} else {
		c.load(size, rax, reg(r))
		c.alu(aluXor, 4, reg(rdx), rdx)
		c.unary(opDiv, size, reg(rcx))
	}
	if mod {
		c.load(size, r, reg(rdx))
	} else {
		c.load(size, r, reg(rax))
	}
	c.jmp(done)
	c.bind(byZero)
	if mod {
		if size == 4 {
			c.load(4, r, reg(r))
		}
	} else {
		c.alu(aluXor, 4, reg(r), r)
	}
	c.bind(done)
	c.flush(d)
}

// check emits the test of an access of size bytes at BPF register b + off against the region
// table, as Machine.access makes it; a refused access goes to slow. After it rdx holds the region's
// data and rax the offset of the byte after the access, so the access is at [rdx + rax - size].
func (c *jitc) check(b uint8, off int32, size int32, write bool, slow label) operand {
	c.address(b, off)
	c.region(slow)
	c.aluLoad(aluCmp, 4, rax, memAt(rdx, offRegionLo))
	c.jcc(ccB, slow)
	if write {
		c.inst(1, []byte{0x80}, aluCmp, memAt(rdx, offRegionRO), false)
		c.emit(0)
		c.jcc(ccNE, slow)
	}
	c.aluImm(aluAdd, 4, reg(rax), size)
	c.jcc(ccB, slow)
	c.aluLoad(aluCmp, 4, rax, memAt(rdx, offRegionHi))
	c.jcc(ccA, slow)
	c.aluLoad(aluCmp, 8, rax, memAt(rdx, offRegionData+8))
	c.jcc(ccA, slow)
	c.load(8, rdx, memAt(rdx, offRegionData))
	return memIndex(rdx, rax, 1, -size)
}

// wideLoad returns a label of cold code that serves a 4-byte load the window refused from the
// region's wide fields (Region.WideMask), as Machine.hookLoad does, and goes to refused when there
// is none.
func (c *jitc) wideLoad(pc int, in *op, refused label) label {
	l := c.newLabel()
	c.cold = append(c.cold, func() {
		c.bind(l)
		c.address(in.src, in.off)
		c.region(refused)
		c.testImm(4, reg(rax), 3)
		c.jcc(ccNE, refused)
		c.load(4, rcx, reg(rax))
		c.shiftImm(shr, 4, reg(rcx), 2)
		c.aluImm(aluCmp, 4, reg(rcx), 32)
		c.jcc(ccAE, refused)
		c.bt(memAt(rdx, offRegionWide), rcx)
		c.jcc(ccAE, refused) // the bit is clear
		c.load(4, rax, reg(rax))
		c.lea(rcx, memIndex(rax, rax, 1, 8))
		c.aluLoad(aluCmp, 8, rcx, memAt(rdx, offRegionData+8))
		c.jcc(ccA, refused)
		c.load(8, rdx, memAt(rdx, offRegionData))
		at := memIndex(rdx, rax, 2, 0)
		if h := c.home[in.dst]; h >= 0 {
			c.load(8, xreg(h), at)
		} else {
			c.load(8, rcx, at)
			c.mov(8, c.regMem(in.dst), rcx)
		}
		c.jmp(c.flow[pc+1])
	})
	return l
}

// address emits rax = BPF register b + off.
func (c *jitc) address(b uint8, off int32) {
	if h := c.home[b]; h >= 0 {
		c.lea(rax, memAt(xreg(h), off))
		return
	}
	c.load(8, rax, c.regMem(b))
	if off != 0 {
		c.lea(rax, memAt(rax, off))
	}
}

// region emits rdx = the address of the region the pointer in rax names, going to none when there
// is no such region.
func (c *jitc) region(none label) {
	c.load(8, rdx, reg(rax))
	c.shiftImm(shr, 8, reg(rdx), 32)
	c.aluLoad(aluCmp, 8, rdx, memAt(regMachine, offRegions+8))
	c.jcc(ccAE, none)
	if sizeRegion&(sizeRegion-1) == 0 && !multiplyRegionSize {
		c.shiftImm(shl, 8, reg(rdx), uint8(log2(sizeRegion)))
	} else {
		c.imulImm(8, rdx, reg(rdx), sizeRegion)
	}
	c.aluLoad(aluAdd, 8, rdx, memAt(regMachine, offRegions))
}

func log2(v int32) int {
	n := 0
	for v > 1 {
		v >>= 1
		n++
	}
	return n
}

func (c *jitc) memInstruction(pc int, in *op, after uint64) {
	slow := c.coldExit(exitMem, pc, after)
	if in.code == ClassLDX|ModeMEM|SizeW {
		slow = c.wideLoad(pc, in, slow)
	}
	size := int(accessSize(in.code))
	off := in.off
	switch in.code & 0x07 {
	case ClassLDX:
		at := c.check(in.src, off, int32(size), false, slow)
		r := xreg(rcx)
		if h := c.home[in.dst]; h >= 0 {
			r = xreg(h)
		}
		switch {
		case in.code&0xe0 == ModeMEMSX:
			c.movsx(size, 8, r, at)
		case size >= 4:
			c.load(size, r, at)
		default:
			c.movzx(size, r, at)
		}
		if c.home[in.dst] < 0 {
			c.mov(8, c.regMem(in.dst), rcx)
		}
	case ClassST:
		at := c.check(in.dst, off, int32(size), true, slow)
		c.storeImm(size, at, int32(in.imm))
	case ClassSTX:
		if in.code&0xe0 == ModeATOMIC {
			c.atomic(in, size, slow)
			return
		}
		at := c.check(in.dst, off, int32(size), true, slow)
		v := c.inReg(in.src, rcx)
		c.mov(size, at, v)
	}
}

// atomic emits an atomic operation, locked as the kernel's JIT locks it: machines on several
// goroutines may run programs that update the same map value at once.
func (c *jitc) atomic(in *op, size int, slow label) {
	c.check(in.dst, in.off, int32(size), true, slow)
	c.lea(rdx, memIndex(rdx, rax, 1, -int32(size)))
	at := memAt(rdx, 0)
	s := in.src
	setSrc := func() { // src = rax
		if h := c.home[s]; h >= 0 {
			c.load(8, xreg(h), reg(rax))
		} else {
			c.mov(8, c.regMem(s), rax)
		}
	}
	op := in.imm
	switch op {
	case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor:
		x := map[int64]byte{AtomicAdd: aluAdd, AtomicOr: aluOr, AtomicAnd: aluAnd, AtomicXor: aluXor}[op]
		v := c.inReg(s, rcx)
		c.lock()
		c.alu(x, size, at, v)
	case AtomicAdd | AtomicFetch:
		c.load(8, rax, c.opnd(s))
		c.lock()
		c.xadd(size, at, rax)
		setSrc()
	case AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch:
		// rax = old; retry: rcx = rax op src; lock cmpxchg at, rcx (rax = at when it changed).
		x := map[int64]byte{AtomicOr: aluOr, AtomicAnd: aluAnd, AtomicXor: aluXor}[op&^AtomicFetch]
		retry := c.newLabel()
		c.load(size, rax, at)
		c.bind(retry)
		c.load(size, rcx, reg(rax))
		c.aluLoad(x, size, rcx, c.opnd(s))
		c.lock()
		c.cmpxchg(size, at, rcx)
		c.jcc(ccNE, retry)
		setSrc()
	case AtomicXchg:
		c.load(8, rax, c.opnd(s))
		c.xchg(size, at, rax) // locked by itself
		setSrc()
	case AtomicCmpXchg:
		c.load(8, rax, c.opnd(0))
		v := c.inReg(s, rcx)
		c.lock()
		c.cmpxchg(size, at, v)
		if size == 4 {
			// A 32-bit cmpxchg that stores leaves rax's upper half; r0 gets the old value
			// zero-extended either way.
			c.load(4, rax, reg(rax))
		}
		if h := c.home[0]; h >= 0 {
			c.load(8, xreg(h), reg(rax))
		} else {
			c.mov(8, c.regMem(0), rax)
		}
	}
}

// Condition codes of the conditional jumps.
var jumpCC = map[uint8]byte{
	JmpJEQ: ccE, JmpJNE: ccNE, JmpJGT: ccA, JmpJGE: ccAE, JmpJLT: ccB, JmpJLE: ccBE,
	JmpJSGT: ccG, JmpJSGE: ccGE, JmpJSLT: ccL, JmpJSLE: ccLE, JmpJSET: ccNE,
}

func (c *jitc) jumpInstruction(pc int, in *op) {
	switch in.code {
	case ClassJMP | JmpJA, OpJA32:
		c.jmp(c.flow[in.off])
		return
	case OpCall:
		switch in.src {
		case 0:
			c.exitTo(exitHelper, pc, 0)
		case PseudoKfuncCall:
			c.exitTo(exitKfunc, pc, 0)
		default:
			c.call(pc, in)
		}
		return
	case OpCallX:
		c.exitTo(exitCallx, pc, 0)
		return
	case OpExit:
		c.exit(pc)
		return
	}
	size := 8
	if in.code&0x07 == ClassJMP32 {
		size = 4
	}
	o := in.code & 0xf0
	d := c.opnd(in.dst)
	switch {
	case in.code&SrcX == 0 && o == JmpJSET:
		c.testImm(size, d, int32(in.imm))
	case in.code&SrcX == 0:
		c.aluImm(aluCmp, size, d, int32(in.imm))
	case o == JmpJSET:
		c.test(size, d, c.inReg(in.src, rax))
	case !d.mem:
		c.aluLoad(aluCmp, size, d.r, c.opnd(in.src))
	default:
		c.alu(aluCmp, size, d, c.inReg(in.src, rax))
	}
	c.jcc(jumpCC[o], c.flow[in.off])
}

// call emits a bpf-to-bpf call, as Machine.pushFrame makes it.
func (c *jitc) call(pc int, in *op) {
	c.load(8, rax, memAt(regMachine, offDepth))
	c.aluImm(aluCmp, 8, reg(rax), MaxFrames-1)
	c.jcc(ccAE, c.coldExit(exitDepth, pc, 0))
	c.imulImm(8, rdx, reg(rax), sizeFrame)
	c.lea(rdx, memIndex(regMachine, rdx, 1, offFrames))
	c.storeImm(8, memAt(rdx, offFrameRet), int32(pc+1))
	for i := uint8(0); i < 4; i++ {
		c.mov(8, memAt(rdx, offFrameSaved+8*int32(i)), c.inReg(6+i, rcx))
	}
	c.load(8, rcx, c.regMem(10))
	c.mov(8, memAt(rdx, offFrameFP), rcx)
	c.aluImm(aluSub, 8, c.regMem(10), StackSize)
	c.aluImm(aluAdd, 8, reg(rax), 1)
	c.mov(8, memAt(regMachine, offDepth), rax)
	skip := c.newLabel()
	c.aluLoad(aluCmp, 8, rax, memAt(regMachine, offMaxDepth))
	c.jcc(ccBE, skip)
	c.mov(8, memAt(regMachine, offMaxDepth), rax)
	c.bind(skip)
	c.jmp(c.flow[in.off])
}

// exit emits exit: the end of the run at the stop depth, else a return from a bpf-to-bpf call as
// Machine.popFrame makes it (through Go when the caller's frame belongs to another program).
func (c *jitc) exit(pc int) {
	c.load(8, rax, memAt(regMachine, offDepth))
	c.aluLoad(aluCmp, 8, rax, memAt(regMachine, offStop))
	c.jcc(ccE, c.coldExit(exitDone, pc, 0))
	c.aluImm(aluSub, 8, reg(rax), 1)
	c.imulImm(8, rdx, reg(rax), sizeFrame)
	c.lea(rdx, memIndex(regMachine, rdx, 1, offFrames))
	c.load(8, rcx, memAt(rdx, offFrameProg))
	c.aluLoad(aluCmp, 8, rcx, memAt(regMachine, offProg))
	c.jcc(ccNE, c.coldExit(exitReturn, pc, 0))
	c.mov(8, memAt(regMachine, offDepth), rax)
	for i := uint8(0); i < 4; i++ {
		at := memAt(rdx, offFrameSaved+8*int32(i))
		if h := c.home[6+i]; h >= 0 {
			c.load(8, xreg(h), at)
		} else {
			c.load(8, rcx, at)
			c.mov(8, c.regMem(6+i), rcx)
		}
	}
	c.load(8, rcx, memAt(rdx, offFrameFP))
	c.mov(8, c.regMem(10), rcx)
	c.load(8, rax, memAt(rdx, offFrameRet))
	c.leaRIP(rcx, c.table)
	c.movsx(4, 8, rax, memIndex(rcx, rax, 4, 0))
	c.alu(aluAdd, 8, reg(rax), rcx)
	c.jmpReg(rax)
}
