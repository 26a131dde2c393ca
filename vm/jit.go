package vm

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// JIT is the native engine. On linux/amd64 it compiles each program once, the first time any machine
// runs it, into x86-64 machine code in executable memory, and enters that code through a small
// assembly trampoline. The code keeps the BPF registers in the CPU's registers, charges the
// instruction budget once per basic block, checks every load and store against the region table
// exactly as the interpreter does, and runs bpf-to-bpf calls and returns itself. It hands control
// back to Go for everything else: helpers, kfuncs, callx, tail calls, Load hooks, faults, the end
// of the budget, and every 2^20 instructions so that the Go scheduler and garbage collector are
// never kept waiting long.
//
// Its results are the interpreter's in every respect (r0, errors and their fields, instruction
// counts, what helpers observe). While a trace function is installed the run goes to the
// interpreter, which produces the trace, and while a coverage record is set, to the compiled-blocks
// engine, which records it; on other platforms the interpreter runs every program
// (JITNative reports which).
var JIT Engine = jitEngine{}

type jitEngine struct{}

func (jitEngine) Name() string { return "jit" }

func (jitEngine) exec(m *Machine, p *Program, pc int, stop int) (uint64, error) {
	if m.trace != nil || !nativeSupported {
		return interpreter{}.exec(m, p, pc, stop)
	}
	if m.cov != nil {
		// Native code records no coverage: the compiled-blocks engine records it a block at a
		// time, with the same results.
		return closureEngine{}.exec(m, p, pc, stop)
	}
	return jitExec(m, p, pc, stop)
}

// JITNative reports whether the JIT engine compiles to native code on this platform (linux/amd64);
// elsewhere it runs the interpreter.
func JITNative() bool { return nativeSupported }

// natState is what native code and the Go side of the JIT engine exchange, held in the Machine so
// that native code reaches it through the one pointer it keeps. Native code never writes a Go
// pointer anywhere (the garbage collector would not see the write), only these numbers, the
// registers, the call frames' numbers and the bytes of regions.
type natState struct {
	exit uint64  // why native code returned: exit code | aux<<8 | pc<<32
	fuel uint64  // instructions native code may still run before it must return
	stop int     // the call depth at which exit ends the run (exec's stop)
	prog uintptr // the program the native code runs, to tell a return into another program
	// Every frame from fillFrom up records fillProg as its program. Native code pushes frames
	// without writing their program (it would be a pointer write the garbage collector does not
	// see), so before it runs p, frames from the current depth up must record p.
	fillProg *Program
	fillFrom int
}

// nativeCache lives in a Program and holds its native code once made.
type nativeCache struct {
	mu   sync.Mutex
	code atomic.Pointer[nativeCode]
	// failed is set when the program cannot be compiled (say, executable memory is refused);
	// the interpreter then runs it, and err says why (written before failed is set).
	failed atomic.Bool
	err    error
}

// ErrNotNative is matched by errors.Is when the JIT engine runs a program on the interpreter:
// on a platform it does not compile for, or when compiling the program failed.
var ErrNotNative = errors.New("the JIT engine runs this program on the interpreter")

// CompileJIT compiles p to native code now, unless done already, and says why the JIT engine would
// run p on the interpreter instead (nil: it runs p natively). Without it p compiles when a machine
// first runs it on the JIT engine, and a failure then is seen only here: callers that let users
// choose the JIT call it to say so rather than run slower in silence.
func (p *Program) CompileJIT() error {
	if !nativeSupported {
		return fmt.Errorf("%w: it compiles to native code only on linux/amd64", ErrNotNative)
	}
	if compileNativeOnce(p) {
		return nil
	}
	if p.native.err == nil {
		return fmt.Errorf("%w: it has no instructions", ErrNotNative)
	}
	return fmt.Errorf("%w: %w", ErrNotNative, p.native.err)
}
