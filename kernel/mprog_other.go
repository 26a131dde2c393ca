//go:build !linux

package kernel

// RunMprog runs an attach sequence against the real kernel; outside Linux it returns an error
// matching [ErrNoKernel].
func RunMprog(s MprogScript) ([]MprogResult, error) { return nil, errNotLinux }
