package sim

// skbState is the kernel's view of the packet while a tc program runs: the sk_buff.
type skbState struct {
	r *runState
}

func (s *skbState) len() int { return 0 }

func (s *skbState) read(off int, buf []byte) {}
