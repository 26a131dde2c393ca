package assembly

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
)

// Assemble translates a program in the conformance suite's assembly (see the package
// documentation) into instruction words. A lddw yields two words. Errors are [*SyntaxError]s
// that name the line and its text.
func Assemble(src string) ([]vm.Instruction, error) {
	a := &assembler{labels: map[string]int{}, labelLines: map[string]int{}, firstExit: -1}
	for n, raw := range strings.Split(src, "\n") {
		if err := a.line(n+1, raw); err != nil {
			return nil, err
		}
	}
	if err := a.resolve(); err != nil {
		return nil, err
	}
	if a.out == nil {
		a.out = []vm.Instruction{}
	}
	return a.out, nil
}

// form is the operand shape of a mnemonic.
type form uint8

const (
	formALU   form = iota // dst, src register or immediate
	formNeg               // dst
	formMovsx             // dst, src register
	formEnd               // dst
	formLdx               // dst, [src+off]
	formSt                // [dst+off], immediate
	formStx               // [dst+off], src
	formJa                // target in off
	formJa32              // target in imm
	formJmp               // dst, src register or immediate, target in off
	formLdAbs             // immediate
	formLdInd             // src, immediate
)

// spec is what a mnemonic stands for: its operand shape and the fields it fixes.
type spec struct {
	form form
	op   uint8
	off  int16
	imm  int32
}

// mnemonics maps every plain mnemonic (all but lock, call, lddw and exit) to its spec.
var mnemonics = buildMnemonics()

func buildMnemonics() map[string]spec {
	m := map[string]spec{}
	classes := []struct {
		suffix string
		class  uint8
	}{{"", vm.ClassALU64}, {"64", vm.ClassALU64}, {"32", vm.ClassALU}}
	for _, c := range classes {
		for op, name := range aluNames {
			switch {
			case name == "":
			case op<<4 == vm.AluNeg:
				m[name+c.suffix] = spec{form: formNeg, op: c.class | vm.AluNeg}
			default:
				m[name+c.suffix] = spec{form: formALU, op: c.class | uint8(op<<4)}
			}
		}
		m["sdiv"+c.suffix] = spec{form: formALU, op: c.class | vm.AluDiv, off: 1}
		m["smod"+c.suffix] = spec{form: formALU, op: c.class | vm.AluMod, off: 1}
	}
	m["movsx832"] = spec{form: formMovsx, op: vm.ClassALU | vm.AluMov | vm.SrcX, off: 8}
	m["movsx1632"] = spec{form: formMovsx, op: vm.ClassALU | vm.AluMov | vm.SrcX, off: 16}
	m["movsx864"] = spec{form: formMovsx, op: vm.ClassALU64 | vm.AluMov | vm.SrcX, off: 8}
	m["movsx1664"] = spec{form: formMovsx, op: vm.ClassALU64 | vm.AluMov | vm.SrcX, off: 16}
	m["movsx3264"] = spec{form: formMovsx, op: vm.ClassALU64 | vm.AluMov | vm.SrcX, off: 32}
	for _, bits := range []int32{16, 32, 64} {
		n := strconv.Itoa(int(bits))
		m["le"+n] = spec{form: formEnd, op: vm.ClassALU | vm.AluEnd | vm.SrcK, imm: bits}
		m["be"+n] = spec{form: formEnd, op: vm.ClassALU | vm.AluEnd | vm.SrcX, imm: bits}
		m["bswap"+n] = spec{form: formEnd, op: vm.ClassALU64 | vm.AluEnd, imm: bits}
		m["swap"+n] = spec{form: formEnd, op: vm.ClassALU64 | vm.AluEnd, imm: bits}
	}
	for size, name := range sizeNames {
		sz := uint8(size << 3)
		m["ldx"+name] = spec{form: formLdx, op: vm.ClassLDX | vm.ModeMEM | sz}
		m["st"+name] = spec{form: formSt, op: vm.ClassST | vm.ModeMEM | sz}
		m["stx"+name] = spec{form: formStx, op: vm.ClassSTX | vm.ModeMEM | sz}
		if sz != vm.SizeDW {
			m["ldxs"+name] = spec{form: formLdx, op: vm.ClassLDX | vm.ModeMEMSX | sz}
			m["ldabs"+name] = spec{form: formLdAbs, op: vm.ClassLD | modeABS | sz}
			m["ldind"+name] = spec{form: formLdInd, op: vm.ClassLD | modeIND | sz}
		}
	}
	m["ja"] = spec{form: formJa, op: vm.ClassJMP | vm.JmpJA}
	m["may_goto"] = spec{form: formJa, op: vm.OpMayGoto} // Linux's, beyond ISA v4
	m["ja32"] = spec{form: formJa32, op: vm.OpJA32}
	m["gotol"] = spec{form: formJa32, op: vm.OpJA32}
	for op, name := range jmpNames {
		if name != "" {
			m[name] = spec{form: formJmp, op: vm.ClassJMP | uint8(op<<4)}
			m[name+"32"] = spec{form: formJmp, op: vm.ClassJMP32 | uint8(op<<4)}
		}
	}
	return m
}

// fixup is a jump, call or function address whose target is a label, patched once all labels
// are known.
type fixup struct {
	slot  int    // index of the instruction to patch
	label string // the target
	imm   bool   // the relative target goes to imm (32 bits) rather than off (16 bits)
	line  int
	text  string
}

type assembler struct {
	out        []vm.Instruction
	labels     map[string]int // label -> slot
	labelLines map[string]int // label -> line that defined it
	fixups     []fixup
	firstExit  int // slot of the first exit, the implicit target of the label "exit"

	// The line being assembled, for errors and fixups.
	lineNo int
	text   string
}

func (a *assembler) errorf(format string, args ...any) error {
	return &SyntaxError{Line: a.lineNo, Text: a.text, Reason: fmt.Sprintf(format, args...)}
}

// line assembles one source line: comment, labels, and at most one instruction.
func (a *assembler) line(n int, raw string) error {
	code := raw
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[:i]
	}
	code = strings.TrimSpace(code)
	a.lineNo, a.text = n, code
	for {
		i := strings.IndexByte(code, ':')
		if i < 0 {
			break
		}
		name := strings.TrimSpace(code[:i])
		if !isLabel(name) {
			return a.errorf("invalid label %q", name)
		}
		if prev, ok := a.labelLines[name]; ok {
			return a.errorf("label %q already defined on line %d", name, prev)
		}
		a.labels[name] = len(a.out)
		a.labelLines[name] = n
		code = strings.TrimSpace(code[i+1:])
	}
	if code == "" {
		return nil
	}
	insns, err := a.instruction(code)
	if err != nil {
		return err
	}
	a.out = append(a.out, insns...)
	return nil
}

// isLabel reports whether s can name a label: letters, digits, '_', '.' and '$'.
func isLabel(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '$':
		default:
			return false
		}
	}
	return true
}

// splitWord splits off the first whitespace-separated word of s.
func splitWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

// splitOperands splits a comma-separated operand list; an empty list gives no operands.
func (a *assembler) splitOperands(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	ops := strings.Split(s, ",")
	for i := range ops {
		ops[i] = strings.TrimSpace(ops[i])
		if ops[i] == "" {
			return nil, a.errorf("empty operand")
		}
	}
	return ops, nil
}

func (a *assembler) want(mn string, ops []string, n int) error {
	if len(ops) != n {
		return a.errorf("%s takes %d operand(s), got %d", mn, n, len(ops))
	}
	return nil
}

// instruction assembles the text of one instruction (no label, no comment).
func (a *assembler) instruction(code string) ([]vm.Instruction, error) {
	word, rest := splitWord(code)
	mn := strings.ToLower(word)
	switch mn {
	case "exit":
		if rest != "" {
			return nil, a.errorf("exit takes no operands")
		}
		if a.firstExit < 0 {
			a.firstExit = len(a.out)
		}
		return one(vm.Make(vm.OpExit, 0, 0, 0, 0)), nil
	case "lock":
		return a.atomic(rest)
	case "call":
		return a.call(rest)
	case "lddw":
		return a.lddw(rest)
	}
	sp, ok := mnemonics[mn]
	if !ok {
		return nil, a.errorf("unknown mnemonic %q", word)
	}
	ops, err := a.splitOperands(rest)
	if err != nil {
		return nil, err
	}
	switch sp.form {
	case formALU:
		if err := a.want(mn, ops, 2); err != nil {
			return nil, err
		}
		dst, err := a.reg(ops[0])
		if err != nil {
			return nil, err
		}
		src, isReg, imm, err := a.regOrImm(ops[1])
		if err != nil {
			return nil, err
		}
		if isReg {
			return one(vm.Make(sp.op|vm.SrcX, dst, src, sp.off, 0)), nil
		}
		return one(vm.Make(sp.op|vm.SrcK, dst, 0, sp.off, imm)), nil
	case formNeg, formEnd:
		if err := a.want(mn, ops, 1); err != nil {
			return nil, err
		}
		dst, err := a.reg(ops[0])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, dst, 0, 0, sp.imm)), nil
	case formMovsx:
		if err := a.want(mn, ops, 2); err != nil {
			return nil, err
		}
		dst, err := a.reg(ops[0])
		if err != nil {
			return nil, err
		}
		src, err := a.reg(ops[1])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, dst, src, sp.off, 0)), nil
	case formLdx:
		if err := a.want(mn, ops, 2); err != nil {
			return nil, err
		}
		dst, err := a.reg(ops[0])
		if err != nil {
			return nil, err
		}
		src, off, err := a.mem(ops[1])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, dst, src, off, 0)), nil
	case formSt:
		if err := a.want(mn, ops, 2); err != nil {
			return nil, err
		}
		dst, off, err := a.mem(ops[0])
		if err != nil {
			return nil, err
		}
		imm, err := a.imm32(ops[1])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, dst, 0, off, imm)), nil
	case formStx:
		if err := a.want(mn, ops, 2); err != nil {
			return nil, err
		}
		dst, off, err := a.mem(ops[0])
		if err != nil {
			return nil, err
		}
		src, err := a.reg(ops[1])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, dst, src, off, 0)), nil
	case formJa:
		if err := a.want(mn, ops, 1); err != nil {
			return nil, err
		}
		off, err := a.target(ops[0], false)
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, 0, 0, int16(off), 0)), nil
	case formJa32:
		if err := a.want(mn, ops, 1); err != nil {
			return nil, err
		}
		imm, err := a.target(ops[0], true)
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, 0, 0, 0, imm)), nil
	case formJmp:
		if err := a.want(mn, ops, 3); err != nil {
			return nil, err
		}
		dst, err := a.reg(ops[0])
		if err != nil {
			return nil, err
		}
		src, isReg, imm, err := a.regOrImm(ops[1])
		if err != nil {
			return nil, err
		}
		op := sp.op | vm.SrcK
		if isReg {
			op = sp.op | vm.SrcX
		}
		off, err := a.target(ops[2], false)
		if err != nil {
			return nil, err
		}
		return one(vm.Make(op, dst, src, int16(off), imm)), nil
	case formLdAbs:
		if err := a.want(mn, ops, 1); err != nil {
			return nil, err
		}
		imm, err := a.imm32(ops[0])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, 0, 0, 0, imm)), nil
	case formLdInd:
		if err := a.want(mn, ops, 2); err != nil {
			return nil, err
		}
		src, err := a.reg(ops[0])
		if err != nil {
			return nil, err
		}
		imm, err := a.imm32(ops[1])
		if err != nil {
			return nil, err
		}
		return one(vm.Make(sp.op, 0, src, 0, imm)), nil
	}
	return nil, a.errorf("unknown mnemonic %q", word)
}

func one(ins vm.Instruction) []vm.Instruction { return []vm.Instruction{ins} }

// atomic assembles the operands of lock: [fetch] op[32] [dst+off], src.
func (a *assembler) atomic(rest string) ([]vm.Instruction, error) {
	word, rest := splitWord(rest)
	fetch := false
	if strings.EqualFold(word, "fetch") {
		fetch = true
		word, rest = splitWord(rest)
	}
	name := strings.ToLower(word)
	size := uint8(vm.SizeDW)
	if s, ok := strings.CutSuffix(name, "32"); ok {
		name, size = s, vm.SizeW
	} else if s, ok := strings.CutSuffix(name, "64"); ok {
		name = s
	}
	var imm int32
	switch name {
	case "add":
		imm = vm.AtomicAdd
	case "or":
		imm = vm.AtomicOr
	case "and":
		imm = vm.AtomicAnd
	case "xor":
		imm = vm.AtomicXor
	case "xchg":
		imm = vm.AtomicXchg
	case "cmpxchg":
		imm = vm.AtomicCmpXchg
	default:
		if word == "" {
			return nil, a.errorf("lock needs an operation")
		}
		return nil, a.errorf("unknown atomic operation %q", word)
	}
	if fetch {
		imm |= vm.AtomicFetch
	}
	ops, err := a.splitOperands(rest)
	if err != nil {
		return nil, err
	}
	if err := a.want("lock "+word, ops, 2); err != nil {
		return nil, err
	}
	dst, off, err := a.mem(ops[0])
	if err != nil {
		return nil, err
	}
	src, err := a.reg(ops[1])
	if err != nil {
		return nil, err
	}
	return one(vm.Make(vm.ClassSTX|vm.ModeATOMIC|size, dst, src, off, imm)), nil
}

// call assembles the operands of call: a helper id, helper N, local target, kfunc N[, off],
// runtime N[, off], or a register (callx).
func (a *assembler) call(rest string) ([]vm.Instruction, error) {
	if rest == "" {
		return nil, a.errorf("call needs a target")
	}
	if r, ok := parseReg(rest); ok {
		return one(vm.Make(vm.OpCallX, r, 0, 0, 0)), nil
	}
	word, tail := splitWord(rest)
	switch strings.ToLower(word) {
	case "local":
		if tail == "" {
			return nil, a.errorf("call local needs a target")
		}
		imm, err := a.target(tail, true)
		if err != nil {
			return nil, err
		}
		return one(vm.Make(vm.OpCall, 0, vm.PseudoCall, 0, imm)), nil
	case "kfunc", "runtime":
		ops, err := a.splitOperands(tail)
		if err != nil {
			return nil, err
		}
		if len(ops) != 1 && len(ops) != 2 {
			return nil, a.errorf("call %s takes an id and an optional offset", word)
		}
		imm, err := a.imm32(ops[0])
		if err != nil {
			return nil, err
		}
		var off int16
		if len(ops) == 2 {
			if off, err = a.off16(ops[1]); err != nil {
				return nil, err
			}
		}
		return one(vm.Make(vm.OpCall, 0, vm.PseudoKfuncCall, off, imm)), nil
	case "helper":
		rest = tail
	}
	if strings.ContainsAny(rest, " \t,") {
		return nil, a.errorf("call takes one target")
	}
	imm, err := a.imm32(rest)
	if err != nil {
		return nil, err
	}
	return one(vm.Make(vm.OpCall, 0, 0, 0, imm)), nil
}

// lddw assembles the operands of lddw: dst, a 64-bit value or a pseudo source.
func (a *assembler) lddw(rest string) ([]vm.Instruction, error) {
	ops, err := a.splitOperands(rest)
	if err != nil {
		return nil, err
	}
	if len(ops) != 2 && len(ops) != 3 {
		return nil, a.errorf("lddw takes 2 operands (3 with a pseudo source), got %d", len(ops))
	}
	dst, err := a.reg(ops[0])
	if err != nil {
		return nil, err
	}
	kind, value := splitWord(ops[1])
	src := uint8(0)
	for i, name := range pseudoNames {
		if name != "" && strings.EqualFold(kind, name) {
			src = uint8(i)
		}
	}
	if src == 0 {
		if len(ops) != 2 {
			return nil, a.errorf("lddw of a plain value takes 2 operands")
		}
		v, err := a.imm64(ops[1])
		if err != nil {
			return nil, err
		}
		return []vm.Instruction{
			vm.Make(vm.OpLdImm64, dst, 0, 0, int32(uint32(v))),
			vm.Make(0, 0, 0, 0, int32(uint32(v>>32))),
		}, nil
	}
	if value == "" {
		return nil, a.errorf("lddw %s needs a value", kind)
	}
	var lo, hi int32
	if src == vm.PseudoFunc {
		lo, err = a.target(value, true)
	} else {
		lo, err = a.imm32(value)
	}
	if err != nil {
		return nil, err
	}
	if len(ops) == 3 {
		if hi, err = a.imm32(ops[2]); err != nil {
			return nil, err
		}
	}
	return []vm.Instruction{
		vm.Make(vm.OpLdImm64, dst, src, 0, lo),
		vm.Make(0, 0, 0, 0, hi),
	}, nil
}

// resolve patches every label reference with its relative target.
func (a *assembler) resolve() error {
	if _, ok := a.labels["exit"]; !ok && a.firstExit >= 0 {
		a.labels["exit"] = a.firstExit
	}
	for _, f := range a.fixups {
		a.lineNo, a.text = f.line, f.text
		to, ok := a.labels[f.label]
		if !ok {
			return a.errorf("undefined label %q", f.label)
		}
		rel := to - f.slot - 1
		if f.imm {
			if rel < math.MinInt32 || rel > math.MaxInt32 {
				return a.errorf("label %q is out of reach (%d slots)", f.label, rel)
			}
			a.out[f.slot].Imm = int32(rel)
		} else {
			if rel < math.MinInt16 || rel > math.MaxInt16 {
				return a.errorf("label %q is out of reach of a 16-bit offset (%d slots)", f.label, rel)
			}
			a.out[f.slot].Off = int16(rel)
		}
	}
	return nil
}

// target parses a jump target: a signed offset, or a label to patch later (returning 0 for now).
// With imm the target is 32 bits wide, else 16.
func (a *assembler) target(s string, imm bool) (int32, error) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, mag, err := parseNumber(s)
		if err != nil && !tooLarge(err) {
			return 0, a.errorf("invalid offset %q", s)
		}
		limit := uint64(math.MaxInt16)
		if imm {
			limit = math.MaxInt32
		}
		if neg && mag <= limit+1 {
			return int32(-int64(mag)), nil
		}
		if !neg && mag <= limit {
			return int32(mag), nil
		}
		return 0, a.errorf("offset %s out of range", s)
	}
	if !isLabel(s) {
		return 0, a.errorf("invalid jump target %q (want a label or a signed offset such as +3)", s)
	}
	a.fixups = append(a.fixups, fixup{slot: len(a.out), label: s, imm: imm, line: a.lineNo, text: a.text})
	return 0, nil
}

// parseReg parses %rN or rN with N from 0 to 15.
func parseReg(s string) (uint8, bool) {
	s = strings.TrimPrefix(strings.ToLower(s), "%")
	if len(s) < 2 || len(s) > 3 || s[0] != 'r' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 10, 8)
	if err != nil || n > 15 || (len(s) == 3 && s[1] == '0') {
		return 0, false
	}
	return uint8(n), true
}

func (a *assembler) reg(s string) (uint8, error) {
	r, ok := parseReg(s)
	if !ok {
		return 0, a.errorf("invalid register %q", s)
	}
	return r, nil
}

// regOrImm parses a source operand: a register, or else a 32-bit immediate.
func (a *assembler) regOrImm(s string) (r uint8, isReg bool, imm int32, err error) {
	if r, ok := parseReg(s); ok {
		return r, true, 0, nil
	}
	if strings.HasPrefix(s, "%") {
		return 0, false, 0, a.errorf("invalid register %q", s)
	}
	imm, err = a.imm32(s)
	return 0, false, imm, err
}

// mem parses a memory operand [%rN], [%rN+off] or [%rN-off].
func (a *assembler) mem(s string) (uint8, int16, error) {
	inner, ok := strings.CutPrefix(s, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	if !ok {
		return 0, 0, a.errorf("invalid memory operand %q (want [%%rN+off])", s)
	}
	inner = strings.Join(strings.Fields(inner), "")
	i := strings.IndexAny(inner, "+-")
	if i < 0 {
		r, err := a.reg(inner)
		return r, 0, err
	}
	r, err := a.reg(inner[:i])
	if err != nil {
		return 0, 0, err
	}
	off, err := a.off16(inner[i:])
	return r, off, err
}

// parseNumber parses an optionally signed decimal or 0x-prefixed hexadecimal number.
func parseNumber(s string) (neg bool, mag uint64, err error) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	base := 10
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	mag, err = strconv.ParseUint(s, base, 64)
	return neg, mag, err
}

// tooLarge reports whether a parseNumber error is about the size of a well-formed number.
func tooLarge(err error) bool { return errors.Is(err, strconv.ErrRange) }

// imm32 parses a 32-bit field: any value from -2^31 to 2^32-1, keeping the low 32 bits.
func (a *assembler) imm32(s string) (int32, error) {
	neg, mag, err := parseNumber(s)
	switch {
	case tooLarge(err):
	case err != nil:
		return 0, a.errorf("invalid number %q", s)
	case neg && mag <= 1<<31:
		return int32(-int64(mag)), nil
	case !neg && mag <= math.MaxUint32:
		return int32(uint32(mag)), nil
	}
	return 0, a.errorf("%s does not fit in 32 bits", s)
}

// off16 parses a 16-bit offset: any value from -2^15 to 2^16-1, keeping the low 16 bits.
func (a *assembler) off16(s string) (int16, error) {
	neg, mag, err := parseNumber(s)
	switch {
	case tooLarge(err):
	case err != nil:
		return 0, a.errorf("invalid offset %q", s)
	case neg && mag <= 1<<15:
		return int16(-int64(mag)), nil
	case !neg && mag <= math.MaxUint16:
		return int16(uint16(mag)), nil
	}
	return 0, a.errorf("offset %s does not fit in 16 bits", s)
}

// imm64 parses a 64-bit value: any value from -2^63 to 2^64-1.
func (a *assembler) imm64(s string) (uint64, error) {
	neg, mag, err := parseNumber(s)
	switch {
	case tooLarge(err):
	case err != nil:
		return 0, a.errorf("invalid number %q", s)
	case neg && mag <= 1<<63:
		return -mag, nil
	case !neg:
		return mag, nil
	}
	return 0, a.errorf("%s does not fit in 64 bits", s)
}
