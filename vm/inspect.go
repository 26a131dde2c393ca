package vm

// Depth is the bpf-to-bpf call depth the machine is at: 0 in a program's main function, one more
// in each call and in each callback a helper makes. A trace function reads it to step over calls.
func (m *Machine) Depth() int { return m.depth }

// Caller returns the program and the return instruction of call frame i (0 is the outermost
// caller, Depth()-1 the innermost), for backtraces; ok is false when there is no such frame.
func (m *Machine) Caller(i int) (p *Program, ret int, ok bool) {
	if i < 0 || i >= m.depth {
		return nil, 0, false
	}
	f := &m.frames[i]
	return f.prog, f.ret, true
}
