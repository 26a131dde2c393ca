//go:build linux

package kernel

import (
	"fmt"
	"time"
)

// RunCost measures the kernel's own per-run cost of the program on pkt: one BPF_PROG_TEST_RUN with
// Repeat set to repeat runs the program that many times on the same xdp_buff (not reset between
// runs, as the kernel does it) and reports the time its loop took divided by repeat, in whole
// nanoseconds. That is the figure simulator benchmarks compare themselves with: the program as the
// kernel's JIT runs it, with no system call or copy in it. The packet arrives as the test run's
// defaults have it (loopback, RX queue 0), on the test host's thread pinned to cpu; map side
// effects persist. It also returns the last run's return value.
func (p *Program) RunCost(pkt []byte, cpu int, repeat int) (time.Duration, uint32, error) {
	if p.prog == nil {
		return 0, 0, errClosed
	}
	if repeat < 1 || repeat > 1<<30 {
		return 0, 0, fmt.Errorf("kernel: repeat %d: want 1 to %d", repeat, 1<<30)
	}
	runOn := onTestHost
	if p.host != nil {
		runOn = p.host.do
	}
	var (
		ret     uint32
		perRun  time.Duration
		attempt error
	)
	err := runOn(cpu, func() error {
		ret, perRun, attempt = p.prog.Benchmark(pkt, repeat, nil)
		return attempt
	})
	if err != nil {
		return 0, 0, fmt.Errorf("kernel: test run with repeat %d: %w", repeat, err)
	}
	return perRun, ret, nil
}
