package verifier_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// genProgram turns fuzz bytes into an XDP program at the instruction level: a prologue that
// loads data and data_end, then operations chosen by the bytes (ALU on scalars and pointers,
// bounds checks against data_end, packet and stack loads and stores, pointer arithmetic,
// forward and backward jumps, a helper returning an unknown number), and an epilogue that
// returns XDP_PASS. Most of what it makes is plausible code, so that the verifier accepts a fair
// share of it and the machine can check those; the rest is whatever the bytes say.
func genProgram(b []byte) []vm.Instruction {
	var out []vm.Instruction
	mk := vm.Make
	pos := 0
	next := func() byte {
		if pos >= len(b) {
			return 0
		}
		pos++
		return b[pos-1]
	}
	// prologue: r6 = ctx, r7 = data, r8 = data_end, r9 = a random number
	out = append(out,
		mk(vm.ClassALU64|vm.AluMov|vm.SrcX, 6, 1, 0, 0),
		mk(vm.ClassLDX|vm.ModeMEM|vm.SizeW, 7, 6, 0, 0),
		mk(vm.ClassLDX|vm.ModeMEM|vm.SizeW, 8, 6, 4, 0),
		mk(vm.OpCall, 0, 0, 0, 7),
		mk(vm.ClassALU64|vm.AluMov|vm.SrcX, 9, 0, 0, 0),
		mk(vm.ClassALU64|vm.AluMov, 0, 0, 0, 0),
		mk(vm.ClassALU64|vm.AluMov|vm.SrcX, 2, 9, 0, 0),
		mk(vm.ClassALU64|vm.AluMov, 3, 0, 0, 1),
		mk(vm.ClassALU64|vm.AluMov, 4, 0, 0, 0),
		mk(vm.ClassALU64|vm.AluMov|vm.SrcX, 5, 9, 0, 0),
		mk(vm.ClassALU64|vm.AluAnd, 5, 0, 0, 0xff),
	)
	sizes := []uint8{vm.SizeB, vm.SizeH, vm.SizeW, vm.SizeDW}
	aluOps := []uint8{vm.AluAdd, vm.AluSub, vm.AluMul, vm.AluOr, vm.AluAnd, vm.AluLsh, vm.AluRsh, vm.AluXor, vm.AluArsh, vm.AluMov, vm.AluDiv, vm.AluMod}
	jmpOps := []uint8{vm.JmpJEQ, vm.JmpJGT, vm.JmpJGE, vm.JmpJSET, vm.JmpJNE, vm.JmpJSGT, vm.JmpJSGE, vm.JmpJLT, vm.JmpJLE, vm.JmpJSLT, vm.JmpJSLE}
	type fix struct{ at, to int }
	var jumps []fix
	n := 0
	for pos < len(b) && n < 96 {
		n++
		sel := next()
		a, c, d := next(), next(), next()
		reg := func(x byte) uint8 { return []uint8{0, 2, 3, 4, 5, 9, 7, 8}[x%8] }
		switch sel % 12 {
		case 0, 1: // ALU on a scalar or a pointer
			op := aluOps[int(a)%len(aluOps)]
			cls := uint8(vm.ClassALU64)
			if c&0x80 != 0 {
				cls = vm.ClassALU
			}
			if c&0x40 != 0 {
				out = append(out, mk(cls|op|vm.SrcX, reg(d), reg(d>>3), 0, 0))
			} else {
				imm := int32(int8(d))
				if op == vm.AluLsh || op == vm.AluRsh || op == vm.AluArsh {
					imm &= 31
				}
				if (op == vm.AluDiv || op == vm.AluMod) && imm == 0 {
					imm = 3
				}
				out = append(out, mk(cls|op, reg(c), 0, 0, imm))
			}
		case 2, 3: // r4 = data + K; if r4 > data_end goto later
			out = append(out,
				mk(vm.ClassALU64|vm.AluMov|vm.SrcX, 4, 7, 0, 0),
				mk(vm.ClassALU64|vm.AluAdd, 4, 0, 0, int32(a%80)),
				mk(vm.ClassJMP|vm.JmpJGT|vm.SrcX, 4, 8, 0, 0))
			jumps = append(jumps, fix{len(out) - 1, -1})
		case 4: // packet load
			out = append(out, mk(vm.ClassLDX|vm.ModeMEM|sizes[c%4], reg(d), 7, int16(a%72), 0))
		case 5: // packet store
			out = append(out, mk(vm.ClassSTX|vm.ModeMEM|sizes[c%4], 7, reg(d), int16(a%72), 0))
		case 6: // data += something
			if c&1 == 0 {
				out = append(out, mk(vm.ClassALU64|vm.AluAdd, 7, 0, 0, int32(a%32)))
			} else {
				out = append(out, mk(vm.ClassALU64|vm.AluAdd|vm.SrcX, 7, reg(d), 0, 0))
			}
		case 7: // stack store
			out = append(out, mk(vm.ClassSTX|vm.ModeMEM|sizes[c%4], 10, reg(d), -int16(8*(1+a%8)), 0))
		case 8: // stack load
			out = append(out, mk(vm.ClassLDX|vm.ModeMEM|sizes[c%4], reg(d), 10, -int16(8*(1+a%8)), 0))
		case 9: // conditional jump, forward or (rarely) back
			op := jmpOps[int(a)%len(jmpOps)]
			cls := uint8(vm.ClassJMP)
			if c&0x80 != 0 {
				cls = vm.ClassJMP32
			}
			if c&0x40 != 0 {
				out = append(out, mk(cls|op|vm.SrcX, reg(d), reg(d>>3), 0, 0))
			} else {
				out = append(out, mk(cls|op, reg(d), 0, 0, int32(int8(c&0x3f))))
			}
			to := len(out) + 1 + int(d%8)
			if d&0xe0 == 0xe0 && len(out) > 8 {
				to = len(out) - 1 - int(d%6)
			}
			jumps = append(jumps, fix{len(out) - 1, to})
		case 10: // a call that returns an unknown number
			out = append(out, mk(vm.OpCall, 0, 0, 0, 7))
		case 11: // now and then, an arbitrary instruction word
			if a&7 == 0 {
				out = append(out, vm.Instruction{Op: c, Regs: d, Off: int16(a), Imm: int32(next())})
			}
		}
	}
	exit := len(out)
	out = append(out, mk(vm.ClassALU64|vm.AluMov, 0, 0, 0, 2), mk(vm.OpExit, 0, 0, 0, 0))
	for _, j := range jumps {
		to := j.to
		if to < 0 || to > exit {
			to = exit
		}
		off := to - j.at - 1
		out[j.at].Off = int16(off)
	}
	return out
}

// runXDP runs insns on the machine with a context for pkt, as the simulator lays it out.
func runXDP(insns []vm.Instruction, pkt []byte) error {
	helpers := map[int32]vm.Helper{7: func(*vm.Machine, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return 0x12345678, nil
	}}
	p, err := vm.NewProgram(insns, vm.ProgramOptions{Helpers: helpers})
	if err != nil {
		return err
	}
	m := vm.NewMachine(nil)
	m.SetBudget(1 << 20)
	buf := append(make([]byte, 0, len(pkt)), pkt...)
	pr := m.AddRegion(vm.NewRegion("packet", buf, false))
	ctx := m.AddRegion(vm.Region{Name: "ctx", Load: func(_ *vm.Machine, off, size uint32) (uint64, bool) {
		if size != 4 {
			return 0, false
		}
		switch off {
		case 0, 8:
			return vm.Address(pr, 0), true
		case 4:
			return vm.Address(pr, uint32(len(buf))), true
		case 12:
			return 1, true
		case 16:
			return 0, true
		}
		return 0, false
	}})
	_, err = m.Run(p, vm.Address(ctx, 0))
	return err
}

// FuzzVerifierSoundness: a program the verifier accepts never faults in the machine, whatever
// the packet, and ends within the budget.
func FuzzVerifierSoundness(f *testing.F) {
	f.Add([]byte{2, 20, 0, 0, 4, 12, 1, 0}, uint8(60))
	f.Add([]byte{2, 20, 0, 0, 4, 30, 1, 0, 6, 3, 1, 9, 4, 0, 0, 0}, uint8(14))
	f.Add([]byte{9, 1, 2, 3, 0, 1, 2, 3, 7, 0, 0, 0, 8, 0, 0, 1}, uint8(0))
	f.Add([]byte{2, 60, 0, 0, 0, 5, 0, 0xc5, 9, 7, 0xe7, 0xe9, 5, 3, 2, 0}, uint8(100))
	f.Fuzz(checkSoundness)
}

// checkSoundness is one run of FuzzVerifierSoundness. A run that takes longer than
// soundnessDeadline is a finding too (verification and the four runs are bounded), reported with
// its program so that the fuzzer keeps the input instead of stalling on it.
func checkSoundness(t *testing.T, code []byte, plen uint8) {
	done := make(chan string, 1)
	go func() { done <- soundnessRun(code, plen) }()
	select {
	case msg := <-done:
		if msg != "" {
			t.Fatal(msg)
		}
	case <-time.After(soundnessDeadline):
		t.Fatalf("verifying and running the program took more than %v\n%s", soundnessDeadline, dump(genProgram(code)))
	}
}

const soundnessDeadline = 20 * time.Second

// soundnessRun verifies the program code makes and, when accepted, runs it over four packets;
// it returns what went wrong, or "".
func soundnessRun(code []byte, plen uint8) string {
	{
		insns := genProgram(code)
		res, err := verifier.Verify(&verifier.Program{Name: "fuzz", Insns: insns, Type: ebpf.XDP, GPL: true}, verifier.Options{MaxInsns: 30000})
		if err != nil {
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				return fmt.Sprintf("Verify returned %T: %v", err, err)
			}
			return ""
		}
		for _, n := range []int{int(plen), int(plen) / 2, 14, 0} {
			pkt := make([]byte, n)
			for i := range pkt {
				pkt[i] = byte(i*7 + int(plen))
			}
			if len(pkt) >= 4 {
				binary.BigEndian.PutUint32(pkt, uint32(plen)*0x01010101)
			}
			if err := runXDP(insns, pkt); err != nil {
				var le *vm.LoadError
				if errors.As(err, &le) {
					return "" // the machine refuses what the verifier has no opinion on (e.g. callx)
				}
				return fmt.Sprintf("accepted (%d insns processed) but faults on a %d-byte packet: %v\n%s", res.Stats.Processed, n, err, dump(insns))
			}
		}
	}
	return ""
}

func dump(insns []vm.Instruction) string {
	var s string
	for i, in := range insns {
		s += fmtInsn(i, in) + "\n"
	}
	return s
}
