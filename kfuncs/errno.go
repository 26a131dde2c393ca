package kfuncs

import "strconv"

// Errno is a Linux error number as the kfuncs of this package return it to a program, negated, in r0.
// Frames report failures of their methods as an Errno too (see [Frame]); any other error from a frame
// ends the run.
type Errno int

// The error numbers the kfuncs return (their values on every architecture xdpsim models).
const (
	// ENOENT: a trait key is not set.
	ENOENT Errno = 2
	// EFAULT: the traits store does not fit in its area (the RFC never lets this happen).
	EFAULT Errno = 14
	// EBUSY: a trait key is set with another length.
	EBUSY Errno = 16
	// EEXIST: bpf_xdp_metadata_export_to_skb already ran for this frame.
	EEXIST Errno = 17
	// EINVAL: a trait key outside 0..63 or a length the traits layout cannot encode.
	EINVAL Errno = 22
	// ENOSPC: no room in the headroom (export-to-skb, trait_set) or in the destination (trait_get).
	ENOSPC Errno = 28
	// ENODATA: the device implements the hint but has no data for this frame.
	ENODATA Errno = 61
	// EOPNOTSUPP: the device does not implement the hint, or the frame supports neither metadata
	// nor traits.
	EOPNOTSUPP Errno = 95
)

var errnoNames = map[Errno]string{
	ENOENT:     "ENOENT: no such file or directory",
	EFAULT:     "EFAULT: bad address",
	EBUSY:      "EBUSY: device or resource busy",
	EEXIST:     "EEXIST: file exists",
	EINVAL:     "EINVAL: invalid argument",
	ENOSPC:     "ENOSPC: no space left on device",
	ENODATA:    "ENODATA: no data available",
	EOPNOTSUPP: "EOPNOTSUPP: operation not supported",
}

// Error gives the symbolic name and the usual description, such as "ENODATA: no data available".
func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// Return gives the value a kfunc returns for the error, -errno, as the 64-bit register value r0 holds.
func (e Errno) Return() uint64 { return uint64(-int64(e)) }
