//go:build linux

package runcost

import (
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPUTime says whether Clock measures thread CPU time (Linux) or falls back to wall time.
const ThreadCPUTime = true

func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// ProcessCPU is the CPU time the whole process has used, its garbage collector's threads included.
func ProcessCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
