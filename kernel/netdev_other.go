//go:build !linux

package kernel

// NetdevGet reads a device's features; outside Linux it returns an error matching [ErrNoKernel].
func NetdevGet(ifindex int) (NetdevFeatures, error) { return NetdevFeatures{}, errNotLinux }

// VethFeatures reads a veth pair's features; outside Linux it returns an error matching
// [ErrNoKernel].
func VethFeatures(setup VethSetup) (VethReport, error) { return VethReport{}, errNotLinux }

// LoopbackFeatures reads lo's features; outside Linux it returns an error matching
// [ErrNoKernel].
func LoopbackFeatures() (NetdevFeatures, error) { return NetdevFeatures{}, errNotLinux }
