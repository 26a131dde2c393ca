package verifier

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
)

// Result is what a verification leaves: the log, the statistics, and the program as the kernel
// runs it after its rewrites (the "xlated" program).
type Result struct {
	// Log is the verifier log at the level asked for, ending with the statistics line.
	Log   string
	Stats Stats
	// Xlated is the program after context rewriting; Origin maps each of its instruction slots
	// to the slot of Program.Insns it comes from. Both are nil when the program was rejected.
	Xlated []vm.Instruction
	Origin []int
	// TstampTypeAccess says a tc program reads __sk_buff's tstamp_type (the kernel's
	// prog->tstamp_type_access), which makes tstamp a plain field to it.
	TstampTypeAccess bool
	// DirectWrite says the program stores into packet data through packet pointers (the
	// kernel's seen_direct_write): a tc program then starts with the prologue that unclones
	// the skb.
	DirectWrite bool
}

// Error is a rejection: the instruction the kernel blames (the kernel's numbering, in which a
// lddw takes two slots), its C source line, and the kernel's message.
type Error struct {
	Program string
	PC      int
	Line    string
	// Msg is the kernel's error line, or lines (as "invalid access to packet, off=14 size=1,
	// R2(id=0,off=14,r=14)\nR2 offset is outside of the packet").
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.PC >= 0 {
		fmt.Fprintf(&b, "the verifier rejects instruction %d: %s", e.PC, strings.ReplaceAll(e.Msg, "\n", "; "))
	} else {
		fmt.Fprintf(&b, "the verifier rejects the program: %s", strings.ReplaceAll(e.Msg, "\n", "; "))
	}
	if e.Line != "" {
		b.WriteString("\n  at " + e.Line)
	}
	return b.String()
}

// StatsLine is the kernel's last log line: "processed N insns (limit 1000000) max_states_per_insn
// M total_states T peak_states P mark_read R".
func (s Stats) StatsLine() string {
	return fmt.Sprintf("processed %d insns (limit %d) max_states_per_insn %d total_states %d peak_states %d mark_read %d",
		s.Processed, complexityLimit, s.MaxStatesPerInsn, s.TotalStates, s.PeakStates, s.MarkRead)
}
