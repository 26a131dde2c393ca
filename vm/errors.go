package vm

import (
	"errors"
	"fmt"
)

// Fault is a bad memory access: the program touched bytes outside every region's accessible window,
// wrote to a read-only region, or handed a helper a bad pointer.
type Fault struct {
	PC     int    // instruction index in the program
	Line   string // source line from BTF line info, "" when unknown
	Access string // "load", "store", "atomic" or "helper argument"
	Addr   uint64
	Size   int
	Region string // the region the address names, "" when none
	Window string // the region's accessible window, for the message
	Reason string // what else is wrong, when the window does not say it
}

func (f *Fault) Error() string {
	msg := fmt.Sprintf("instruction %d: invalid %s of %d bytes at %s", f.PC, f.Access, f.Size, f.where())
	if f.Window != "" {
		msg += " (accessible " + f.Window + ")"
	}
	if f.Reason != "" {
		msg += ": " + f.Reason
	}
	return withLine(msg, f.Line)
}

func (f *Fault) where() string {
	if f.Region == "" {
		return fmt.Sprintf("%#x", f.Addr)
	}
	_, off := SplitAddress(f.Addr)
	if off >= 1<<31 {
		return fmt.Sprintf("%s%d", f.Region, int32(off))
	}
	return fmt.Sprintf("%s+%d", f.Region, off)
}

// ErrBudget is matched by errors.Is when a run executed more instructions than its budget allows.
var ErrBudget = errors.New("instruction budget exhausted")

// BudgetError says where a run stopped for exceeding the instruction budget.
type BudgetError struct {
	PC       int
	Line     string
	Executed uint64
}

func (e *BudgetError) Error() string {
	return withLine(fmt.Sprintf("instruction %d: instruction budget of %d exhausted (runaway program?)", e.PC, e.Executed), e.Line)
}

// withLine appends the source line to a message, when there is one.
func withLine(msg, line string) string {
	if line == "" {
		return msg
	}
	return msg + "\n  at " + line
}

// Unwrap lets errors.Is match ErrBudget.
func (e *BudgetError) Unwrap() error { return ErrBudget }

// RuntimeError is any other failure of a running program: too many nested calls, a helper failing
// hard, a call to an unknown helper through callx.
type RuntimeError struct {
	PC   int
	Line string
	Err  error
}

func (e *RuntimeError) Error() string {
	return withLine(fmt.Sprintf("instruction %d: %v", e.PC, e.Err), e.Line)
}

// Unwrap returns the underlying error.
func (e *RuntimeError) Unwrap() error { return e.Err }

// Errors that RuntimeError wraps.
var (
	ErrCallDepth     = fmt.Errorf("call stack of %d frames is too deep", MaxFrames)
	ErrUnknownHelper = errors.New("call to unknown helper")
	ErrBadCallTarget = errors.New("call target is not a function")
)

// LoadError says why a program cannot be prepared: an instruction the machine does not know, a jump
// outside the program, a call to a helper the host does not supply.
type LoadError struct {
	PC   int
	Line string
	Msg  string
}

func (e *LoadError) Error() string {
	return withLine(fmt.Sprintf("instruction %d: %s", e.PC, e.Msg), e.Line)
}

const (
	accessLoad   = "load"
	accessStore  = "store"
	accessAtomic = "atomic"
	accessHelper = "helper argument"
)

// fault builds a Fault for an access at the current instruction.
func (m *Machine) fault(addr uint64, size int, access, reason string) *Fault {
	f := &Fault{PC: m.pc, Access: access, Addr: addr, Size: size, Reason: reason}
	if m.prog != nil {
		f.Line = m.prog.LineAt(m.pc)
	}
	id, off := SplitAddress(addr)
	if off >= 1<<31 && id+1 < len(m.regions) && id+1 > RegionNull {
		// An offset that ran below zero borrowed from the region number: name the region the
		// pointer came from.
		r := &m.regions[id+1]
		f.Region, f.Window = r.Name, fmt.Sprintf("%d..%d", r.Lo, r.Hi)
		if f.Reason == "" {
			f.Reason = "before the start of the region"
		}
		return f
	}
	if id != RegionNull && id < len(m.regions) {
		r := &m.regions[id]
		f.Region = r.Name
		f.Window = fmt.Sprintf("%d..%d", r.Lo, r.Hi)
		if reason == "" && off >= r.Lo && uint64(off)+uint64(size) <= uint64(r.Hi) && r.ReadOnly {
			f.Reason = "region is read-only"
		}
	} else if f.Reason == "" && id == RegionNull {
		f.Reason = "not a pointer"
	} else if f.Reason == "" {
		f.Reason = "no such region"
	}
	return f
}

var errInvalidOp = errors.New("invalid instruction")
