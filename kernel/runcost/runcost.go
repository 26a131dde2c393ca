// Package runcost measures what one run of an XDP program costs, on the simulator and in the real
// kernel, so that benchmarks can put the two side by side in one run: the kernel's own per-run
// figure from BPF_PROG_TEST_RUN with a repeat count (its JIT on, no system call in it), and the
// CPU time of the thread that ran the simulator.
//
// Thread CPU time, not wall time, is the simulator's figure: the kernel's test-run loop stops its
// clock while it is rescheduled, and on a loaded machine wall time would charge the simulator for
// every other process that ran meanwhile.
package runcost

import (
	"fmt"
	"runtime"
	"time"

	"github.com/xdpsim/xdpsim/kernel"
)

// Repeat is how many times the kernel runs each packet in one test run. Each test run has a fixed
// cost inside the kernel's clock (about 700 ns measured on 6.18: the first, cold run), which
// 10,000 runs make negligible; fewer inflate the figure (100 runs of a 22 ns program read 33 ns).
const Repeat = 10000

// SamplePackets is how many packets Sample picks. Every test run with a repeat count swaps the
// program into the kernel's XDP dispatcher and back, each time waiting for an RCU grace period
// (tens of milliseconds on a loaded machine), so the kernel is measured on a sample of a trace.
const SamplePackets = 48

// Sample picks up to SamplePackets packets evenly spread over pkts, in order: the packets both the
// simulator and the kernel are measured on.
func Sample(pkts [][]byte) [][]byte {
	if len(pkts) <= SamplePackets {
		return pkts
	}
	out := make([][]byte, 0, SamplePackets)
	for i := range SamplePackets {
		out = append(out, pkts[i*len(pkts)/SamplePackets])
	}
	return out
}

// Kernel is one program loaded into the kernel with the packets to measure it on.
type Kernel struct {
	prog *kernel.Program
	pkts [][]byte
}

// NewKernel loads program prog ("" for the only XDP program) of the object at path into the
// kernel to measure it on pkts. Without a usable kernel the error matches kernel.ErrNoKernel and
// says why in one line.
func NewKernel(path, prog string, pkts [][]byte) (*Kernel, error) {
	if err := kernel.Available(); err != nil {
		return nil, err
	}
	if len(pkts) == 0 {
		return nil, fmt.Errorf("runcost: no packets to measure %s on", path)
	}
	p, err := kernel.Load(path, kernel.Options{Program: prog})
	if err != nil {
		return nil, err
	}
	return &Kernel{prog: p, pkts: pkts}, nil
}

// PerRun is the kernel's mean per-run cost over the packets, in nanoseconds: each packet runs
// Repeat times in one test run on CPU 0, and the kernel's per-run figures (whole nanoseconds,
// rounded down) are averaged with equal weight, as a benchmark that cycles through the packets
// weighs them.
func (k *Kernel) PerRun() (float64, error) {
	var sum time.Duration
	for i, pkt := range k.pkts {
		d, _, err := k.prog.RunCost(pkt, 0, Repeat)
		if err != nil {
			return 0, fmt.Errorf("packet %d: %w", i+1, err)
		}
		sum += d
	}
	return float64(sum) / float64(len(k.pkts)), nil
}

// Close unloads the program.
func (k *Kernel) Close() error { return k.prog.Close() }

// Clock measures the CPU time of the calling goroutine's thread. Start locks the goroutine to its
// thread until Stop, so that the two readings are of the same thread.
type Clock struct {
	start time.Duration
}

// Start begins a measurement.
func (c *Clock) Start() {
	runtime.LockOSThread()
	c.start = threadCPU()
}

// Stop ends it and returns the thread's CPU time since Start.
func (c *Clock) Stop() time.Duration {
	d := threadCPU() - c.start
	runtime.UnlockOSThread()
	return d
}
