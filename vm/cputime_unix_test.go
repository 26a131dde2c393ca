//go:build unix

package vm

import "syscall"

// cpuTime is the CPU time the process has used, in nanoseconds: on a machine that other work
// keeps busy, it measures what a benchmark costs where wall-clock time measures how long it waited.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
