//go:build !(amd64 && linux)

package vm

// Native code is generated for linux/amd64 only; elsewhere the JIT engine runs the interpreter.
const nativeSupported = false

type nativeCode struct{}

func jitExec(m *Machine, p *Program, pc int, stop int) (uint64, error) {
	return interpreter{}.exec(m, p, pc, stop)
}

func compileNativeOnce(*Program) bool { return false }
