//go:build !linux

package kernel

import "time"

// RunCost measures the kernel's per-run cost of the program; outside Linux it returns an error
// matching [ErrNoKernel].
func (p *Program) RunCost(pkt []byte, cpu int, repeat int) (time.Duration, uint32, error) {
	return 0, 0, errNotLinux
}
