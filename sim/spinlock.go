package sim

import (
	"errors"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/sim/maps"
	"github.com/xdpsim/xdpsim/vm"
)

// bpf_spin_lock and bpf_spin_unlock take and release the lock in a map value for real (see
// maps.SpinLock): programs on several goroutines at once (a parallel replay) exclude each other as
// programs on the kernel's CPUs do. The kernel's verifier lets a program hold one lock at a time,
// call no helper while it does, and not exit holding it; a program that breaks those rules (it
// was not verified) faults instead of deadlocking, and a lock still held when a run ends is
// released.

func init() {
	registerBase(asm.FnSpinLock, spinLock)
	registerBase(asm.FnSpinUnlock, spinUnlock)
}

var (
	errSpinHeld    = errors.New("bpf_spin_lock while the program holds a lock: the kernel's verifier allows one at a time")
	errSpinNotHeld = errors.New("bpf_spin_unlock of a lock the program does not hold")
)

func spinLock(s *runState, m *vm.Machine, lock, _, _, _, _ uint64) (uint64, error) {
	b, err := m.Bytes(lock, 4, true)
	if err != nil {
		return 0, err
	}
	if s.spin != nil {
		return 0, errSpinHeld
	}
	maps.SpinLock(b)
	s.spin, s.spinAddr = b, lock
	return 0, nil
}

func spinUnlock(s *runState, m *vm.Machine, lock, _, _, _, _ uint64) (uint64, error) {
	if s.spin == nil || lock != s.spinAddr {
		return 0, errSpinNotHeld
	}
	s.releaseSpin()
	return 0, nil
}

// releaseSpin releases the lock a run still holds (one that ended in a fault), so that programs on
// other goroutines do not wait for it forever.
func (s *runState) releaseSpin() {
	if s.spin != nil {
		maps.SpinUnlock(s.spin)
		s.spin = nil
	}
}
