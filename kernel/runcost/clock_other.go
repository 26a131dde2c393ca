//go:build !linux

package runcost

import "time"

// ThreadCPUTime says whether Clock measures thread CPU time (Linux) or falls back to wall time.
const ThreadCPUTime = false

var epoch = time.Now()

func threadCPU() time.Duration { return time.Since(epoch) }

// ProcessCPU is the CPU time the whole process has used; where it cannot be read, wall time.
func ProcessCPU() time.Duration { return time.Since(epoch) }
