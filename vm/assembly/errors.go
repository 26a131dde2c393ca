package assembly

import (
	"errors"
	"fmt"

	"github.com/xdpsim/xdpsim/vm"
)

// ErrSyntax is the error that every [SyntaxError] matches with errors.Is.
var ErrSyntax = errors.New("assembly syntax error")

// ErrInvalidInstruction is the error that every [InstructionError] matches with errors.Is.
var ErrInvalidInstruction = errors.New("invalid instruction")

// SyntaxError reports a line that [Assemble] could not turn into instructions.
type SyntaxError struct {
	Line   int    // 1-based line number in the source
	Text   string // the line without its comment, trimmed
	Reason string // what is wrong with it
}

// Error renders the error as `line N: "text": reason`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: %q: %s", e.Line, e.Text, e.Reason)
}

// Is reports whether target is [ErrSyntax].
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// InstructionError reports an instruction that has no text form: an unknown opcode, a reserved
// field that is not zero, or a lddw without its second word.
type InstructionError struct {
	Index  int            // slot index of the instruction in the program
	Insn   vm.Instruction // the offending instruction word
	Reason string         // what is wrong with it
}

// Error renders the error with the index and the raw fields of the instruction.
func (e *InstructionError) Error() string {
	return fmt.Sprintf("instruction %d (op 0x%02x dst %d src %d off %d imm %d): %s",
		e.Index, e.Insn.Op, e.Insn.Dst(), e.Insn.Src(), e.Insn.Off, e.Insn.Imm, e.Reason)
}

// Is reports whether target is [ErrInvalidInstruction].
func (e *InstructionError) Is(target error) bool { return target == ErrInvalidInstruction }
