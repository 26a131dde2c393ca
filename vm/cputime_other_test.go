//go:build !unix

package vm

// cpuTime is not measured here; benchmarks then report no CPU time.
func cpuTime() int64 { return 0 }
