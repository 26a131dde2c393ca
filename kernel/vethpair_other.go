//go:build !linux

package kernel

// RunVethPair sends frames through a veth pair; outside Linux it returns an error matching
// [ErrNoKernel].
func RunVethPair(v VethPair) (*VethPairResult, error) { return nil, errNotLinux }
