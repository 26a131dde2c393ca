package verifier

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// Helper numbers with special handling.
const (
	fnMapLookup        = 1
	fnMapUpdate        = 2
	fnTailCall         = 12
	fnSpinLock         = 93
	fnSpinUnlock       = 94
	fnForEachMapElem   = 164
	fnTimerSetCallback = 170
	fnFindVMA          = 180
	fnLoop             = 181
	fnUserRingbufDrain = 209
	fnDynptrFromMem    = 197
	fnRingbufResDynptr = 198
	fnDynptrWrite      = 202
	fnDynptrData       = 203
	maxBPFFuncID       = 212
)

func helperName(id int32) string {
	if n := assembly.HelperName(id); n != "" {
		return n
	}
	return "unknown"
}

// callMeta is what the argument checks of one call learn (struct bpf_call_arg_meta).
type callMeta struct {
	mapIdx      int32
	haveMap     bool
	rawMode     bool
	accessSize  int
	accessReg   uint8
	memSize     int64
	refID       uint32
	releaseReg  int
	subprog     int
	constKey    int64
	haveKey     bool
	pktAccess   bool
	dynRefID    uint32
	dynID       uint32
	dynKind     dynptrKind
	timerMapIdx int32
	msizeMax    int64 // the largest value of the last ARG_CONST_SIZE argument
	kptr        *Kptr // the kptr field bpf_kptr_xchg exchanges
}

// checkCall handles a call instruction. jumped says execution continues elsewhere (a
// bpf-to-bpf call); exit that the path ended.
func (e *env) checkCall(idx int, ins vm.Instruction) (jumped, exit bool, err error) {
	if ins.Op&vm.SrcX != 0 || (ins.Src() != vm.PseudoKfuncCall && ins.Off != 0) ||
		(ins.Src() != 0 && ins.Src() != vm.PseudoCall && ins.Src() != vm.PseudoKfuncCall) || ins.Dst() != 0 {
		return false, false, e.reject("BPF_CALL uses reserved fields")
	}
	if e.cur.activeLock != 0 {
		if (ins.Src() == 0 && ins.Imm != fnSpinUnlock) || ins.Src() == vm.PseudoKfuncCall {
			return false, false, e.reject("function calls are not allowed while holding a lock")
		}
	}
	switch ins.Src() {
	case vm.PseudoCall:
		return e.checkFuncCall(idx, ins)
	case vm.PseudoKfuncCall:
		return false, false, e.checkKfuncCall(idx, ins)
	}
	return false, false, e.checkHelperCall(idx, ins)
}

func (e *env) clearCallerSaved() {
	regs := e.regs()
	for r := 0; r <= 5; r++ {
		regs[r].setNotInit()
		e.scratch(uint8(r))
	}
}

// clearAllPktPointers forgets every packet pointer after a helper that may move packet data.
func (e *env) clearAllPktPointers() {
	e.cur.forEachReg(func(r *reg) {
		switch r.typ {
		case ptrToPacket, ptrToPacketMeta, ptrToPacketEnd:
			r.setUnknown()
		case ptrToMem:
			if r.flags&flagPktSlice != 0 {
				r.setUnknown()
			}
		}
	})
}

func (e *env) checkHelperCall(idx int, ins vm.Instruction) error {
	id := ins.Imm
	if id < 0 || id >= maxBPFFuncID {
		return e.reject("invalid func %s#%d", helperName(id), id)
	}
	fn := e.pt.helper(id, e.p)
	if fn == nil {
		return e.reject("program of this type cannot use helper %s#%d", helperName(id), id)
	}
	if fn.gpl && !e.p.GPL {
		return e.reject("cannot call GPL-restricted function from non-GPL compatible program")
	}
	if fn.sleeps {
		return e.reject("helper call might sleep in a non-sleepable prog")
	}
	meta := callMeta{pktAccess: fn.pktAccess, mapIdx: -1, subprog: -1, timerMapIdx: -1}
	for i := range 5 {
		var a argSpec
		if i < len(fn.args) {
			a = fn.args[i]
		}
		if err := e.checkFuncArg(idx, id, fn, i, a, &meta); err != nil {
			return err
		}
	}
	regs := e.regs()
	if id == fnTailCall && meta.haveMap {
		// record_func_key: the map must be a program array, whatever its type would allow
		// (Linux 6.18 says so before it checks the map against the helper; measured, the line
		// has no newline in the log); a constant index within the program array is
		// remembered (the kernel turns the call into a direct jump), which needs it precise.
		if e.p.Maps[meta.mapIdx].Type != ebpf.ProgramArray {
			return e.reject("expected prog array map for tail call")
		}
		if r3 := &regs[3]; r3.isConst() && r3.varOff.value < uint64(e.p.Maps[meta.mapIdx].MaxEntries) {
			e.markPrecise(3)
		}
	}
	// A helper that writes an uninitialised buffer on the stack: its bytes become data.
	if meta.accessSize > 0 {
		r := regs[meta.accessReg]
		for i := 0; i < meta.accessSize; i++ {
			e.stImm = false
			if err := e.checkMemAccessWith(idx, &r, i, 1); err != nil {
				return err
			}
		}
	}
	if meta.releaseReg > 0 {
		a := fn.args[meta.releaseReg-1]
		var err error
		switch {
		case a.t == argDynptr:
			err = e.releaseDynptr(&regs[meta.releaseReg])
		case meta.refID != 0:
			if !e.releaseReference(meta.refID) {
				err = errReject
			}
		case regs[meta.releaseReg].isNull():
		default:
			err = errReject
		}
		if err != nil {
			if err == errReject && e.err == nil {
				return e.reject("func %s#%d reference has not been acquired before", helperName(id), id)
			}
			return err
		}
	}
	switch id {
	case fnTailCall:
		if err := e.checkResourceLeak(false, true, "tail_call"); err != nil {
			return err
		}
		e.tailCalls = true
		e.subprogs[e.cur.cur().subprog].hasTail = true
	case fnLoop:
		e.markPrecise(1)
		f := e.cur.cur()
		if uint64(f.cbDepth) < regs[1].umax {
			if err := e.pushCallbackCall(idx, meta.subprog, id); err != nil {
				return err
			}
		} else {
			f.cbDepth = 0
		}
	case fnForEachMapElem, fnFindVMA, fnUserRingbufDrain:
		if err := e.pushCallbackCall(idx, meta.subprog, id); err != nil {
			return err
		}
	case fnTimerSetCallback:
		if err := e.pushAsyncCallback(idx, meta.subprog, regs[1].mapIdx); err != nil {
			return err
		}
	case fnDynptrFromMem, fnRingbufResDynptr:
		// the dynptr was marked by the argument check
	}
	e.clearCallerSaved()
	r0 := &regs[0]
	switch fn.ret {
	case retInteger:
		r0.setUnknown()
		e.refineRetval(id, r0, &meta)
	case retVoid:
		r0.setNotInit()
	case retMapValueOrNull:
		r0.setPointer(ptrToMapValue)
		r0.flags = flagMaybeNull
		r0.mapIdx = meta.mapIdx
		m := &e.p.Maps[meta.mapIdx]
		if id == fnMapLookup && (m.Type == ebpf.Array || m.Type == ebpf.PerCPUArray) && meta.haveKey &&
			meta.constKey >= 0 && meta.constKey < int64(m.MaxEntries) {
			r0.flags = 0
		}
		if r0.flags == 0 && m.SpinLock >= 0 {
			r0.id = e.newID()
		}
	case retSocketOrNull:
		r0.setPointer(ptrToSocket)
		r0.flags = flagMaybeNull
	case retSockCommonOrNull:
		r0.setPointer(ptrToSockCommon)
		r0.flags = flagMaybeNull
	case retTCPSockOrNull:
		r0.setPointer(ptrToTCPSock)
		r0.flags = flagMaybeNull
	case retRingbufMemOrNull:
		r0.setPointer(ptrToMem)
		r0.flags = flagMaybeNull | flagRingbuf
		r0.rng = meta.memSize
	case retDynptrMemOrNull:
		r0.setPointer(ptrToMem)
		r0.flags = flagMaybeNull
		r0.rng = meta.memSize
		if meta.dynKind == dynptrRingbuf || meta.dynKind == dynptrLocal {
			// writable
		}
	case retBTFIDOrNull:
		r0.setPointer(ptrToBTFID)
		r0.flags = flagMaybeNull | flagTrusted
		r0.btf = fn.retBTF
	case retMemOrBTFID:
		r0.setUnknown()
		if id == fnKptrXchg && meta.kptr != nil {
			// the object the field held, which the program now owns
			r0.setPointer(ptrToBTFID)
			r0.btf = meta.kptr.Type
			r0.flags = flagMaybeNull
		}
	}
	if r0.maybeNull() {
		r0.id = e.newID()
	}
	switch {
	case fn.refCast:
		r0.refID = meta.refID
	case id == fnDynptrData:
		r0.refID = meta.dynRefID
		r0.dynptrID = meta.dynID
	case fn.acquire, id == fnKptrXchg && meta.kptr != nil:
		rid := e.acquireReference(idx)
		r0.id = rid
		r0.refID = rid
	}
	if meta.haveMap && !mapHelperCompat(e.p.Maps[meta.mapIdx].Type, id) ||
		meta.haveMap && e.p.Maps[meta.mapIdx].Control && id != fnMapLookup && id != fnMapUpdate {
		return e.reject("cannot pass map_type %d into func %s#%d", mapTypeNumber(e.p.Maps[meta.mapIdx].Type), helperName(id), id)
	}
	if fn.changesPkt || id == fnDynptrWrite && meta.dynKind == dynptrSkb {
		// Writing an skb dynptr may change the packet data too: the packet pointers and the
		// slices taken before die (writes to other dynptrs keep them).
		e.clearAllPktPointers()
	}
	return nil
}

// kfuncMemAccesses are the accesses a kfunc's memory argument r is checked for: the kernel
// checks a map value for reading and then for writing whatever the kfunc does with it, so that
// the map must let the program do both (measured with bpf_skb_ct_lookup's tuple and opts in
// BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG maps); other memory for what the kfunc does.
func kfuncMemAccesses(r *reg, write bool) []bool {
	if r.typ == ptrToMapValue {
		return []bool{false, true}
	}
	return []bool{write}
}

func mapTypeNumber(t ebpf.MapType) int { return int(t) }

func (e *env) acquireReference(idx int) uint32 {
	id := e.newID()
	e.cur.refs = append(e.cur.refs, refState{id: id, insn: idx, kind: refPtr})
	return id
}

// releaseReference drops the reference and invalidates every register holding it.
func (e *env) releaseReference(id uint32) bool {
	if !e.cur.releaseRef(id) {
		return false
	}
	e.cur.forEachReg(func(r *reg) {
		if r.refID == id {
			r.setUnknown()
		}
	})
	return true
}

// checkMemAccessWith is a byte store through a copy of a register (the raw-mode writes).
func (e *env) checkMemAccessWith(idx int, r *reg, off, size int) error {
	if r.typ != ptrToStack {
		return nil
	}
	f := e.stackFrame(r)
	soff := int64(r.varOff.value) + int64(r.off) + int64(off)
	spi, i := byteAt(soff)
	if spi >= len(f.stack) {
		f.growStack(int(-soff))
	}
	s := &f.stack[spi]
	if s.isSpilled() || s.slot[7] == stackDynptr {
		s.spilled.setNotInit()
		s.miscify()
	}
	s.slot[i] = stackMisc
	e.scratchSlot(f, spi)
	return nil
}

// memTypes are the pointers a helper takes for memory: its map keys and values too.
var memTypes = []struct {
	t regType
	f typeFlag
}{{ptrToStack, 0}, {ptrToPacket, 0}, {ptrToPacketMeta, 0}, {ptrToMapKey, 0}, {ptrToMapValue, 0}, {ptrToMem, 0}, {ptrToMem, flagRingbuf}, {ptrToBuf, 0}, {ptrToBTFID, flagTrusted}}

var compatTypes = map[argType][]struct {
	t regType
	f typeFlag
}{
	// Map keys and values are memory like any other (the kernel's mem_types for all four).
	argMapKey:            memTypes,
	argMapValue:          memTypes,
	argMem:               memTypes,
	argFixedMem:          memTypes,
	argBTFID:             {{ptrToBTFID, 0}, {ptrToBTFID, flagTrusted}, {ptrToBTFID, flagRCU}},
	argBTFIDNull:         {{ptrToBTFID, 0}, {ptrToBTFID, flagTrusted}, {ptrToBTFID, flagRCU}},
	argPercpuBTF:         {{ptrToBTFID, flagPercpu}, {ptrToBTFID, flagPercpu | flagRCU}, {ptrToBTFID, flagPercpu | flagTrusted}},
	argKptr:              {{ptrToMapValue, 0}, {ptrToBTFID, flagAlloc}},
	argConstSize:         {{scalarValue, 0}},
	argConstSizeOr0:      {{scalarValue, 0}},
	argConstAllocSizeOr0: {{scalarValue, 0}},
	argConstMapPtr:       {{constPtrToMap, 0}},
	argCtx:               {{ptrToCtx, 0}},
	argSockCommon:        {{ptrToSockCommon, 0}, {ptrToSocket, 0}, {ptrToTCPSock, 0}, {ptrToXDPSock, 0}},
	argBTFSockCommon:     {{ptrToSockCommon, 0}, {ptrToSocket, 0}, {ptrToTCPSock, 0}, {ptrToXDPSock, 0}, {ptrToBTFID, 0}, {ptrToBTFID, flagTrusted}},
	argSocket:            {{ptrToSocket, 0}},
	argSpinLock:          {{ptrToMapValue, 0}, {ptrToBTFID, flagAlloc}},
	argRingbufMem:        {{ptrToMem, flagRingbuf}},
	argTimer:             {{ptrToMapValue, 0}},
	argFunc:              {{ptrToFunc, 0}},
	argStack:             {{ptrToStack, 0}},
	argConstStr:          {{ptrToMapValue, 0}},
	argDynptr:            {{ptrToStack, 0}, {constPtrToDynptr, 0}},
}

// checkRegType is check_reg_type: the register's type must be one the argument accepts.
func (e *env) checkRegType(regno uint8, a argSpec) error {
	r := &e.regs()[regno]
	types := compatTypes[a.t]
	t, f := r.typ, r.flags
	if a.null {
		f &^= flagMaybeNull
	}
	// A read-only argument accepts read-only memory.
	if a.rdonly {
		f &^= flagRdonly
	}
	for _, c := range types {
		if c.t == t && c.f == f {
			return nil
		}
	}
	e.reject("R%d type=%s expected=%s", regno, r.typeStr(), expectedList(types))
	return errReject
}

func expectedList(types []struct {
	t regType
	f typeFlag
}) string {
	s := ""
	for i, c := range types {
		if i > 0 {
			s += ", "
		}
		s += typeString(c.t, c.f)
	}
	return s
}

// checkFuncArgRegOff is check_func_arg_reg_off.
func (e *env) checkFuncArgRegOff(regno uint8, r *reg, a argSpec) error {
	if a.release {
		if a.t == argDynptr {
			return nil
		}
		if r.off != 0 {
			return e.reject("R%d must have zero offset when passed to release func or trusted arg to kfunc", regno)
		}
		return e.checkPtrOffReg(regno, r, false)
	}
	switch r.typ {
	case ptrToStack, ptrToPacket, ptrToPacketMeta, ptrToMapKey, ptrToMapValue, ptrToMem, scalarValue:
		return nil
	case ptrToBTFID:
		return nil
	}
	return e.checkPtrOffReg(regno, r, false)
}

// checkFuncArg is check_func_arg for argument i of helper id.
func (e *env) checkFuncArg(idx int, id int32, fn *helperProto, i int, a argSpec, meta *callMeta) error {
	regno := uint8(i + 1)
	if a.t == argNone {
		return nil
	}
	if err := e.readReg(regno); err != nil {
		return err
	}
	regs := e.regs()
	r := &regs[regno]
	if a.t == argAnything {
		return nil
	}
	if r.isPkt() && !meta.pktAccess {
		return e.reject("helper access to the packet is not allowed")
	}
	skipType := r.isNull() && a.null
	if !skipType {
		if err := e.checkRegType(regno, a); err != nil {
			return err
		}
		if id == fnKptrXchg && a.t == argBTFIDNull && meta.kptr != nil {
			if err := e.mapKptrMatchType(meta.kptr, r, regno); err != nil {
				return err
			}
		}
		if err := e.checkFuncArgRegOff(regno, r, a); err != nil {
			return err
		}
	}
	if a.release {
		if a.t == argDynptr {
			if err := e.checkReleaseDynptrArg(regno, r); err != nil {
				return err
			}
		} else if r.refID == 0 && !r.isNull() {
			return e.reject("R%d must be referenced when passed to release function", regno)
		}
		meta.releaseReg = int(regno)
	}
	if r.refID != 0 {
		meta.refID = r.refID
	}
	switch a.t {
	case argConstMapPtr:
		if meta.timerMapIdx >= 0 && meta.timerMapIdx != r.mapIdx {
			return e.reject("timer pointer in R1 map_uid=%d doesn't match map pointer in R2 map_uid=%d", 0, 0)
		}
		meta.mapIdx, meta.haveMap = r.mapIdx, true
	case argMapKey:
		if !meta.haveMap {
			return e.reject("invalid map_ptr to access map->key")
		}
		m := &e.p.Maps[meta.mapIdx]
		if err := e.checkHelperMemAccess(regno, int(m.KeySize), false, false, nil); err != nil {
			return err
		}
		if m.Type == ebpf.Array || m.Type == ebpf.PerCPUArray {
			meta.constKey, meta.haveKey = e.constMapKey(r, int(m.KeySize))
		}
	case argMapValue:
		if a.null && r.isNull() {
			return nil
		}
		if !meta.haveMap {
			return e.reject("invalid map_ptr to access map->value")
		}
		m := &e.p.Maps[meta.mapIdx]
		var mm *callMeta
		if a.uninit {
			mm = meta
		}
		return e.checkHelperMemAccess(regno, int(m.ValueSize), a.uninit, false, mm)
	case argKptr:
		return e.processKptrArg(regno, r, meta)
	case argSpinLock:
		return e.processSpinLock(regno, r, id == fnSpinLock)
	case argTimer:
		return e.processTimer(regno, r, meta)
	case argFunc:
		meta.subprog = int(r.subprog)
	case argMem, argFixedMem:
		meta.rawMode = a.uninit
		if a.t == argFixedMem {
			var mm *callMeta
			if a.uninit {
				mm = meta
			}
			return e.checkHelperMemAccess(regno, a.size, a.uninit, false, mm)
		}
	case argConstSize, argConstSizeOr0:
		meta.msizeMax = int64(r.umax)
		prev := fn.args[i-1]
		var mm *callMeta
		if r.varOff.isConst() && prev.uninit {
			mm = meta
		}
		return e.checkMemSizeReg(regno, r, prev.uninit, a.t == argConstSizeOr0, mm)
	case argConstAllocSizeOr0:
		if !r.varOff.isConst() {
			return e.reject("R%d is not a known constant'", regno)
		}
		meta.memSize = int64(r.varOff.value)
		e.markPrecise(regno)
	case argConstStr:
		return e.checkConstStr(regno, r)
	case argDynptr:
		return e.processDynptrArg(idx, regno, r, a, meta)
	case argStack:
	}
	return nil
}

// checkMemSizeReg is check_mem_size_reg: the size argument of a memory argument.
func (e *env) checkMemSizeReg(regno uint8, r *reg, write, zeroOK bool, meta *callMeta) error {
	if r.smin < 0 {
		return e.reject("R%d min value is negative, either use unsigned or 'var &= const'", regno)
	}
	if r.umin == 0 && !zeroOK {
		return e.reject("R%d invalid zero-sized read: u64=[%d,%d]", regno, r.umin, r.umax)
	}
	if r.umax >= maxVarOff {
		return e.reject("R%d unbounded memory access, use 'var &= const' or 'if (var < const)'", regno)
	}
	if err := e.checkHelperMemAccess(regno-1, int(r.umax), write, zeroOK, meta); err != nil {
		return err
	}
	e.markPrecise(regno)
	return nil
}

// checkHelperMemAccess is check_helper_mem_access: size bytes at a pointer argument.
func (e *env) checkHelperMemAccess(regno uint8, size int, write, zeroOK bool, meta *callMeta) error {
	r := &e.regs()[regno]
	switch r.typ {
	case ptrToPacket, ptrToPacketMeta:
		return e.checkPacketAccess(regno, r, int(r.off), size, zeroOK)
	case ptrToMapKey:
		if write {
			return e.reject("R%d cannot write into %s", regno, r.typeStr())
		}
		return e.checkMemRegion(regno, r, int(r.off), size, int64(e.p.Maps[r.mapIdx].KeySize), false)
	case ptrToMapValue:
		m := &e.p.Maps[r.mapIdx]
		if err := e.checkMapAccessType(m, int(r.off), size, write); err != nil {
			return err
		}
		if err := e.checkMemRegion(regno, r, int(r.off), size, int64(m.ValueSize), zeroOK); err != nil {
			return err
		}
		return e.checkMapSpecialFields(regno, r, m, int(r.off), size, false)
	case ptrToMem:
		if write && r.flags&flagRdonly != 0 {
			return e.reject("R%d cannot write into %s", regno, r.typeStr())
		}
		return e.checkMemRegion(regno, r, int(r.off), size, r.rng, zeroOK)
	case ptrToStack:
		if meta != nil {
			if err := e.checkStackBoundsMsg(regno, r, int(r.off), size, " write to"); err != nil {
				return err
			}
			meta.accessSize, meta.accessReg = size, regno
			return nil
		}
		if size == 0 && zeroOK {
			return nil
		}
		return e.checkStackRange(regno, r, int(r.off), size, write, zeroOK, false)
	case ptrToBTFID:
		return nil
	}
	if zeroOK && size == 0 && r.isNull() {
		return nil
	}
	return e.reject("R%d type=%s expected=%s", regno, r.typeStr(), typeString(ptrToStack, 0))
}

// constMapKey is get_constant_map_key: the constant key on the stack, when there is one.
func (e *env) constMapKey(r *reg, keySize int) (int64, bool) {
	if r.typ != ptrToStack || !r.varOff.isConst() {
		return 0, false
	}
	f := e.stackFrame(r)
	soff := int64(r.off) + int64(r.varOff.value)
	spi, off := byteAt(soff)
	if spi >= len(f.stack) {
		return 0, false
	}
	s := &f.stack[spi]
	zero := 0
	for i := off; i >= 0 && s.slot[i] == stackZero; i-- {
		zero++
	}
	if zero >= keySize {
		return 0, true
	}
	if !s.isSpilled() || s.spilled.typ != scalarValue {
		return 0, false
	}
	spill := 0
	for i := off; i >= 0 && s.slot[i] == stackSpill; i-- {
		spill++
	}
	if spill != keySize || !s.spilled.varOff.isConst() {
		return 0, false
	}
	e.markSlotPrecise(int(r.frame), spi)
	return int64(s.spilled.varOff.value), true
}

func (e *env) processSpinLock(regno uint8, r *reg, lock bool) error {
	if !r.varOff.isConst() {
		return e.reject("R%d doesn't have constant offset. bpf_spin_lock has to be at the constant offset", regno)
	}
	m := &e.p.Maps[r.mapIdx]
	if m.SpinLock < 0 {
		return e.reject("map '%s' has no valid bpf_spin_lock", m.Name)
	}
	off := int64(r.varOff.value) + int64(r.off)
	if off != int64(m.SpinLock) {
		return e.reject("off %d doesn't point to 'struct bpf_spin_lock' that is at %d", off, m.SpinLock)
	}
	st := e.cur
	if lock {
		if st.activeLock != 0 {
			return e.reject("Locking two bpf_spin_locks are not allowed")
		}
		st.activeLock = r.id
		if st.activeLock == 0 {
			st.activeLock = ^uint32(0)
		}
		st.lockMap, st.lockOff = r.mapIdx, off
		return nil
	}
	if st.activeLock == 0 {
		return e.reject("bpf_spin_unlock without taking a lock")
	}
	want := r.id
	if want == 0 {
		want = ^uint32(0)
	}
	if st.activeLock != want || st.lockMap != r.mapIdx {
		return e.reject("bpf_spin_unlock of different lock")
	}
	st.activeLock = 0
	return nil
}

func (e *env) processTimer(regno uint8, r *reg, meta *callMeta) error {
	if !r.varOff.isConst() {
		return e.reject("R%d doesn't have constant offset. bpf_timer has to be at the constant offset", regno)
	}
	m := &e.p.Maps[r.mapIdx]
	if m.Timer < 0 {
		return e.reject("map '%s' has no valid bpf_timer", m.Name)
	}
	off := int64(r.varOff.value) + int64(r.off)
	if off != int64(m.Timer) {
		return e.reject("off %d doesn't point to 'struct bpf_timer' that is at %d", off, m.Timer)
	}
	meta.timerMapIdx = r.mapIdx
	meta.mapIdx, meta.haveMap = r.mapIdx, true
	return nil
}

// checkConstStr requires a pointer into a read-only map holding a NUL-terminated string.
func (e *env) checkConstStr(regno uint8, r *reg) error {
	m := &e.p.Maps[r.mapIdx]
	if !m.ReadOnly {
		return e.reject("R%d does not point to a readonly map'", regno)
	}
	if !r.varOff.isConst() {
		return e.reject("R%d is not a constant address'", regno)
	}
	off := int(r.varOff.value) + int(r.off)
	if m.Data != nil {
		for i := off; i < len(m.Data); i++ {
			if m.Data[i] == 0 {
				return nil
			}
		}
		return e.reject("string is not zero-terminated")
	}
	return nil
}

// checkFuncCall is a bpf-to-bpf call: a static function is entered, a global one checked
// against its signature.
func (e *env) checkFuncCall(idx int, ins vm.Instruction) (bool, bool, error) {
	target := idx + int(ins.Imm) + 1
	st := e.cur
	if st.curframe+1 >= maxCallFrames {
		return false, false, e.reject("the call stack of %d frames is too deep", st.curframe+2)
	}
	sp := e.subprogAt(target)
	if sp < 0 || e.subprogs[sp].start != target {
		return false, false, e.reject("verifier bug. No program starts at insn %d", target)
	}
	caller := st.cur()
	if e.subprogs[sp].global {
		name := e.subprogName(sp)
		if st.activeLock != 0 {
			return false, false, e.reject("global function calls are not allowed while holding a lock,\nuse static function instead")
		}
		if fn := e.subprogs[sp].fn; fn != nil && fn.RetVoid {
			// Only functions returning an integer or an enum may be global: the kernel
			// finds out at the first call, whatever the caller does with R0.
			e.verbose("Global function %s() doesn't return scalar. Only those are supported.\n", name)
			return false, false, e.reject("Caller passes invalid args into func#%d ('%s')", sp, name)
		}
		if err := e.checkGlobalArgs(sp); err != nil {
			e.note("Caller passes invalid args into func#%d ('%s')", sp, name)
			return false, false, err
		}
		e.verbose("Func#%d ('%s') is global and assumed valid.\n", sp, name)
		if e.subprogs[sp].changesPkt {
			e.clearAllPktPointers()
		}
		e.subprogs[sp].called = true
		e.clearCallerSaved()
		caller.regs[0].setUnknown()
		return false, false, nil
	}
	callee := e.initFrame(st.curframe+1, idx, sp)
	for r := 1; r <= 5; r++ {
		callee.regs[r] = caller.regs[r]
	}
	st.frames = append(st.frames, callee)
	st.curframe++
	e.lv.cur = nil
	for r := 0; r <= 5; r++ {
		caller.regs[r].setNotInit()
	}
	if e.opts.LogLevel > 0 {
		e.verbose("\ncaller:\n%s\ncallee:\n%s\n", e.formatFrame(st, st.curframe-1, true), e.formatFrame(st, st.curframe, true))
	}
	e.idx = target
	return true, false, nil
}

// prepareFuncExit returns from a static function or a callback.
func (e *env) prepareFuncExit(idx int) (bool, error) {
	e.updateLiveStack()
	st := e.cur
	callee := st.cur()
	r0 := &callee.regs[0]
	e.scratch(0)
	if r0.typ == notInit && callee.inCallback {
		return false, e.reject("R0 !read_ok")
	}
	if r0.typ == ptrToStack {
		return false, e.reject("cannot return stack pointer to the caller")
	}
	caller := st.frames[st.curframe-1]
	if callee.inCallback {
		if r0.typ != scalarValue {
			return false, e.reject("R0 not a scalar value")
		}
		e.markPrecise(0)
		if r0.smin < int64(callee.cbRetMin) || r0.smax > int64(callee.cbRetMax) {
			return false, e.reject("At callback return the register R0 has%s should have been in [%d, %d]", invalidScalar(r0), callee.cbRetMin, callee.cbRetMax)
		}
		e.idx = callee.callsite
	} else {
		caller.regs[0] = *r0
		e.idx = callee.callsite + 1
	}
	if e.opts.LogLevel > 0 {
		e.verbose("\nreturning from callee:\n%s\nto caller at %d:\n", e.formatFrame(st, st.curframe, true), e.idx)
	}
	st.frames = st.frames[:st.curframe]
	st.curframe--
	if e.opts.LogLevel > 0 {
		e.verbose("%s\n", e.formatFrame(st, st.curframe, true))
	}
	// The log goes on as after a jump: "from <exit> to <return address>".
	e.printSt, e.popped, e.prevIdx = true, true, idx
	if callee.inCallback {
		// The callback runs again from the call: imprecise scalars that changed since the
		// call's checkpoint on this path become unknown, so that the iterations converge.
		if prev := e.findPrevEntry(st, e.idx); prev != nil {
			widenImpreciseScalars(prev, st)
		}
	}
	return false, nil
}

// findPrevEntry is the checkpoint at insn on the current path that st is a later iteration of
// (find_prev_entry).
func (e *env) findPrevEntry(st *vstate, insn int) *vstate {
	list := e.explored[e.exploredAt(st, insn)]
	for i := len(list) - 1; i >= 0; i-- {
		o := list[i].st
		if o.insnIdx == insn && o.branches > 0 && sameCallsites(o, st) && o.dfsDepth < st.dfsDepth {
			return o
		}
	}
	return nil
}

// widenImpreciseScalars forgets the imprecise scalars of cur that differ from old's
// (widen_imprecise_scalars).
func widenImpreciseScalars(old, cur *vstate) {
	ids := &idmap{}
	widen := func(o, c *reg) {
		if o.typ != scalarValue || c.typ != scalarValue || o.precise || c.precise || regsExact(o, c, ids) {
			return
		}
		c.setUnknown()
	}
	for fr := old.curframe; fr >= 0; fr-- {
		fo, fc := old.frames[fr], cur.frames[fr]
		for i := range fo.regs {
			widen(&fo.regs[i], &fc.regs[i])
		}
		for spi := range fo.stack {
			if spi < len(fc.stack) && fo.stack[spi].isSpilled() && fc.stack[spi].isSpilled() {
				widen(&fo.stack[spi].spilled, &fc.stack[spi].spilled)
			}
		}
	}
}

func invalidScalar(r *reg) string {
	s := ""
	unknown := true
	if r.smin > -1<<63 {
		s += fmt.Sprintf(" smin=%d", r.smin)
		unknown = false
	}
	if r.smax < 1<<63-1 {
		s += fmt.Sprintf(" smax=%d", r.smax)
		unknown = false
	}
	if unknown {
		s += " unknown scalar value"
	}
	return s
}

// pushCallbackCall queues the exploration of a callback that a helper calls synchronously
// (push_callback_call): the callback runs in a new frame from the call site, and returns to
// the call, where the next iteration is considered.
func (e *env) pushCallbackCall(idx, sp int, helper int32) error {
	if sp < 0 || sp >= len(e.subprogs) {
		return e.reject("verifier bug. No program starts at insn %d", -1)
	}
	st := e.cur
	if st.curframe+1 >= maxCallFrames {
		return e.reject("the call stack of %d frames is too deep", st.curframe+2)
	}
	if e.subprogs[sp].global {
		return e.reject("Callback '%s' is global", e.subprogName(sp))
	}
	e.aux[idx].callback = true
	caller := st.cur()
	cs, err := e.pushStack(e.subprogs[sp].start, idx)
	if err != nil {
		return err
	}
	callee := e.initFrame(cs.curframe+1, idx, sp)
	callee.inCallback = true
	callee.cbRetMin, callee.cbRetMax = 0, 1
	cregs := &cs.cur().regs
	switch helper {
	case fnLoop:
		callee.regs[1].setUnknown()
		callee.regs[2] = cregs[3]
	case fnForEachMapElem:
		m := caller.regs[1].mapIdx
		callee.regs[1].setPointer(constPtrToMap)
		callee.regs[1].mapIdx = m
		callee.regs[2].setPointer(ptrToMapKey)
		callee.regs[2].mapIdx = m
		callee.regs[3].setPointer(ptrToMapValue)
		callee.regs[3].mapIdx = m
		callee.regs[4] = cregs[3]
	case fnUserRingbufDrain:
		callee.regs[1].setPointer(constPtrToDynptr)
		callee.regs[2] = cregs[3]
	default:
		callee.regs[1].setUnknown()
	}
	cs.frames = append(cs.frames, callee)
	cs.curframe++
	cs.cbUnrollDepth++
	cs.frames[cs.curframe-1].cbDepth++
	caller.cbDepth = 0
	return nil
}

// pushAsyncCallback queues the verification of a timer callback: it runs later, on its own.
func (e *env) pushAsyncCallback(idx, sp int, mapIdx int32) error {
	if sp < 0 || sp >= len(e.subprogs) {
		return nil
	}
	if e.subprogs[sp].global {
		return e.reject("Callback '%s' is global", e.subprogName(sp))
	}
	cs, err := e.pushStack(e.subprogs[sp].start, idx)
	if err != nil {
		return err
	}
	if cs.parent != nil {
		cs.parent.branches--
	}
	cs.parent = nil
	cs.hist, cs.histCnt = nil, 0
	f := e.initFrame(0, idx, sp)
	f.async = true
	f.cbRetMin, f.cbRetMax = 0, 0
	f.regs[1].setPointer(constPtrToMap)
	f.regs[1].mapIdx = mapIdx
	f.regs[2].setPointer(ptrToMapKey)
	f.regs[2].mapIdx = mapIdx
	f.regs[3].setPointer(ptrToMapValue)
	f.regs[3].mapIdx = mapIdx
	cs.frames = []*funcState{f}
	cs.curframe = 0
	cs.refs = nil
	cs.activeLock = 0
	cs.activeRCU, cs.activePreempt = false, 0
	return nil
}

// checkKfuncCall checks a kfunc call against the kfunc's prototype and flags.
func (e *env) checkKfuncCall(idx int, ins vm.Instruction) error {
	k := e.p.Kfuncs[ins.Imm]
	if k == nil {
		return e.reject("kernel btf_id %d is not a function", ins.Imm)
	}
	if e.pt.kfunc != nil && !e.pt.kfunc(k) {
		return e.reject("calling kernel function %s is not allowed", k.Name)
	}
	regs := e.regs()
	release := k.Flags&kfuncs.KFRelease != 0
	// A release kfunc's arguments are trusted ones too (is_kfunc_trusted_args).
	trusted := release || k.Flags&kfuncs.KFTrustedArgs != 0
	var releaseReg uint8
	var meta callMeta
	constSize := int64(-1) // the value of a __szk argument
	var iterFrame *funcState
	iterSpi := -1
	for i, a := range k.Args {
		regno := uint8(i + 1)
		if err := e.readReg(regno); err != nil {
			return err
		}
		r := &regs[regno]
		// A trusted kfunc takes no pointer that may be NULL, whatever it points to: the
		// kernel checks it of every pointer argument before it looks at the pointer's kind.
		switch a.Kind {
		case kfuncs.ArgScalar, kfuncs.ArgMemSize, kfuncs.ArgConstSize:
		default:
			if trusted && (r.isNull() || r.maybeNull()) && !a.Nullable {
				return e.reject("Possibly NULL pointer passed to trusted arg%d", i)
			}
		}
		switch a.Kind {
		case kfuncs.ArgBTFPtr:
			if err := e.checkKfuncBTFArg(k, i, regno, r, a, trusted); err != nil {
				return err
			}
			if release && r.refID != 0 {
				releaseReg = regno
			}
		case kfuncs.ArgCtx:
			if r.typ != ptrToCtx {
				return e.reject("arg#%d expected pointer to ctx, but got %s", i, r.typeStr())
			}
			if err := e.checkPtrOffReg(regno, r, false); err != nil {
				return err
			}
		case kfuncs.ArgScalar, kfuncs.ArgMemSize:
			if r.typ != scalarValue {
				return e.reject("R%d is not a scalar", regno)
			}
		case kfuncs.ArgOut, kfuncs.ArgIn:
			// Both are KF_ARG_PTR_TO_MEM of the pointed-to type's size in the kernel.
			if r.maybeNull() || r.typ == scalarValue {
				return e.reject("arg#%d pointer type %s must point to scalar, or struct with scalar", i, kfuncArgType(a))
			}
			for _, write := range kfuncMemAccesses(r, true) {
				if err := e.checkHelperMemAccess(regno, a.Size, write, false, nil); err != nil {
					return err
				}
			}
		case kfuncs.ArgIRQFlag:
			if err := e.processIRQFlag(idx, k, i, regno, r); err != nil {
				return err
			}
		case kfuncs.ArgIter:
			f, spi, err := e.iterArg(k, i, regno, r)
			if err != nil {
				return err
			}
			iterFrame, iterSpi = f, spi
		case kfuncs.ArgDynptr, kfuncs.ArgDynptrUninit:
			if r.typ != ptrToStack && r.typ != constPtrToDynptr {
				return e.reject("arg#%d expected pointer to stack or const struct bpf_dynptr", i)
			}
			spec := argSpec{t: argDynptr, uninit: a.Kind == kfuncs.ArgDynptrUninit, dyn: kfuncDynptrKind(k.Name)}
			if spec.uninit && k.Name == "bpf_dynptr_clone" {
				spec.clone, spec.dyn = true, meta.dynKind
			}
			if err := e.processDynptrArg(idx, regno, r, spec, &meta); err != nil {
				return err
			}
		case kfuncs.ArgMem:
			if i+1 >= len(k.Args) {
				continue
			}
			if i+1 < len(k.Args) && k.Args[i+1].Kind == kfuncs.ArgConstSize {
				sz := &regs[regno+1]
				if err := e.readReg(regno + 1); err != nil {
					return err
				}
				if !(a.Nullable && r.isNull()) {
					for _, write := range kfuncMemAccesses(r, a.Write) {
						if err := e.checkMemSizeReg(regno+1, sz, write, true, nil); err != nil {
							e.note("arg#%d arg#%d memory, len pair leads to invalid memory access", i, i+1)
							return err
						}
					}
				}
				if !sz.isConst() {
					return e.reject("R%d must be a known constant", regno+1)
				}
				constSize = int64(sz.varOff.value)
				continue
			}
			sz := &regs[regno+1]
			if err := e.readReg(regno + 1); err != nil {
				return err
			}
			if sz.typ != scalarValue {
				return e.reject("R%d is not a scalar", regno+1)
			}
			for _, write := range kfuncMemAccesses(r, a.Write) {
				if err := e.checkMemSizeReg(regno+1, sz, write, true, nil); err != nil {
					e.note("arg#%d arg#%d memory, len pair leads to invalid memory access", i, i+1)
					return err
				}
			}
		}
	}
	switch k.Name {
	case "bpf_rcu_read_lock":
		if e.cur.activeRCU {
			return e.reject("nested rcu read lock (kernel function %s)", k.Name)
		}
		e.cur.activeRCU = true
	case "bpf_rcu_read_unlock":
		if !e.cur.activeRCU {
			return e.reject("unmatched rcu read unlock (kernel function %s)", k.Name)
		}
		e.cur.activeRCU = false
	case "bpf_preempt_disable":
		e.cur.activePreempt++
	case "bpf_preempt_enable":
		if e.cur.activePreempt == 0 {
			return e.reject("unmatched attempt to enable preemption (kernel function %s)", k.Name)
		}
		e.cur.activePreempt--
	}
	if iterFrame != nil {
		switch {
		case k.Flags&kfuncs.KFIterNew != 0:
			e.makeIter(idx, iterFrame, iterSpi)
		case k.Flags&kfuncs.KFIterDestroy != 0:
			if !e.destroyIter(iterFrame, iterSpi) {
				return e.reject("kfunc %s#%d reference has not been acquired before", k.Name, ins.Imm)
			}
		}
	}
	if release {
		if releaseReg == 0 {
			return e.reject("release kernel function %s expects refcounted PTR_TO_BTF_ID", k.Name)
		}
		if !e.releaseReference(regs[releaseReg].refID) {
			return e.reject("kfunc %s#%d reference has not been acquired before", k.Name, ins.Imm)
		}
	}
	e.clearCallerSaved()
	r0 := &regs[0]
	switch k.Ret {
	case kfuncs.RetVoid:
		r0.setNotInit()
	case kfuncs.RetMem:
		if k.Flags&kfuncs.KFIterNext != 0 {
			// The element: memory of the type's size, NULL once the iterator is drained.
			r0.setPointer(ptrToMem)
			r0.rng = 4 // int
			r0.flags = flagMaybeNull
			r0.id = e.newID()
			break
		}
		// A dynptr slice: read-only memory of the __szk size, NULL when out of bounds.
		r0.setPointer(ptrToMem)
		r0.flags = flagRdonly
		if meta.dynKind == dynptrXdp || meta.dynKind == dynptrSkb {
			r0.flags |= flagPktSlice
		}
		r0.rng = constSize
		if k.Flags&kfuncs.KFRetNull != 0 {
			r0.flags |= flagMaybeNull
			r0.id = e.newID()
		}
	case kfuncs.RetBTFPtr:
		r0.setPointer(ptrToBTFID)
		r0.btf = kfuncStruct(k.RetType)
		if k.Flags&kfuncs.KFRetNull != 0 {
			r0.flags |= flagMaybeNull
			r0.id = e.newID()
		}
		if k.Flags&kfuncs.KFAcquire != 0 {
			rid := e.acquireReference(idx)
			if r0.maybeNull() {
				r0.id = rid
			}
			r0.refID = rid
		}
	default:
		r0.setUnknown()
	}
	if k.ChangesPacketData {
		e.clearAllPktPointers()
	}
	if k.Flags&kfuncs.KFIterNext != 0 && iterFrame != nil {
		return e.forkIterNext(idx, iterFrame.frameno, iterSpi)
	}
	return nil
}

func kfuncArgType(a kfuncs.Arg) string { return a.Type }

// kfuncDynptrKind is the kind of dynptr a kfunc makes (bpf_dynptr_from_xdp, _from_skb); any
// kind for the others.
func kfuncDynptrKind(name string) dynptrKind {
	switch name {
	case "bpf_dynptr_from_xdp":
		return dynptrXdp
	case "bpf_dynptr_from_skb":
		return dynptrSkb
	}
	return dynptrNone
}

// kfuncStruct is the name of a kernel struct as the verifier's log prints it ("nf_conn" for
// "struct nf_conn").
func kfuncStruct(t string) string { return strings.TrimPrefix(t, "struct ") }

// checkKfuncBTFArg checks a pointer to a kernel object passed to a kfunc (KF_ARG_PTR_TO_BTF_ID
// in check_kfunc_args; a trusted one is known not to be NULL by now): a referenced or trusted
// PTR_TO_BTF_ID of exactly the struct the prototype names, at offset 0.
func (e *env) checkKfuncBTFArg(k *kfuncs.Kfunc, i int, regno uint8, r *reg, a kfuncs.Arg, trusted bool) error {
	if a.Nullable && r.isNull() {
		return nil
	}
	switch r.typ {
	case ptrToBTFID, ptrToSocket, ptrToSockCommon, ptrToTCPSock, ptrToXDPSock:
	default:
		// Not a kernel object: the kernel takes the argument for memory, which a struct
		// holding more than scalars cannot be (get_kfunc_ptr_arg_type).
		e.reject("max struct nesting depth exceeded")
		e.note("arg#%d pointer type STRUCT %s must point to scalar, or struct with scalar", i, kfuncStruct(a.Struct))
		return errReject
	}
	if trusted && !(r.typ == ptrToBTFID && (r.refID != 0 || r.flags&flagTrusted != 0)) {
		return e.reject("R%d must be referenced or trusted", regno)
	}
	if r.off != 0 && trusted {
		return e.reject("R%d must have zero offset when passed to release func or trusted arg to kfunc", regno)
	}
	if err := e.checkPtrOffReg(regno, r, true); err != nil {
		return err
	}
	if want := kfuncStruct(a.Struct); r.btf != want {
		return e.reject("kernel function %s args#%d expected pointer to STRUCT %s but R%d has a pointer to STRUCT %s", k.Name, i, want, regno, r.btf)
	}
	return nil
}

// refineRetval is do_refine_retval_range: the helpers whose integer result the verifier bounds.
func (e *env) refineRetval(id int32, r0 *reg, meta *callMeta) {
	const maxErrno = 4095
	switch id {
	case 45, 67, 114, 115, 141: // probe_read_str and friends, get_stack, get_task_stack
		r0.smax, r0.s32max = meta.msizeMax, int32(meta.msizeMax)
		r0.smin, r0.s32min = -maxErrno, -maxErrno
	case 8: // get_smp_processor_id: [0, nr_cpu_ids-1]
		if e.p.NrCPUs <= 0 {
			return
		}
		n := uint64(e.p.NrCPUs - 1)
		r0.umin, r0.umax, r0.smin, r0.smax = 0, n, 0, int64(n)
		r0.u32min, r0.u32max, r0.s32min, r0.s32max = 0, uint32(n), 0, int32(n)
	default:
		return
	}
	r0.sync()
}
