//go:build !linux

package kernel

// NetdevGet reads a device's features; outside Linux it returns an error matching [ErrNoKernel].
func NetdevGet(ifindex int) (NetdevFeatures, error) { return NetdevFeatures{}, errNotLinux }

// VethFeatures reads a veth pair's features; outside Linux it returns an error matching
// [ErrNoKernel].
func VethFeatures(setup VethSetup) (end, peer NetdevFeatures, err error) {
	return end, peer, errNotLinux
}
