package traits

import "strconv"

// Errno is an error number of the Linux kernel, as the traits store returns
// it. Every error of this package is an Errno, never wrapped, so callers may
// match it with errors.Is or with a type assertion.
type Errno int

// The error numbers the store returns (their Linux values on every
// architecture that xdpsim models).
const (
	// ENOENT reports that a key is not set (Get, Del).
	ENOENT Errno = 2
	// ENOMEM reports that buf has no room for the 16-byte header (Init).
	ENOMEM Errno = 12
	// EFAULT reports that buf is shorter than the header or than the values
	// the header describes; the RFC never lets this happen.
	EFAULT Errno = 14
	// EBUSY reports that a key is already set with a different length (Set).
	EBUSY Errno = 16
	// EINVAL reports a key outside 0..63 or a length the layout cannot encode.
	EINVAL Errno = 22
	// ENOSPC reports that a new value does not fit before the end of buf
	// (Set), or that the destination is shorter than the value (Get).
	ENOSPC Errno = 28
	// EOPNOTSUPP reports a Layout that is neither V1 nor V2. It is also
	// what the RFC's kfuncs return for a frame without traits support.
	EOPNOTSUPP Errno = 95
)

// Return gives the value a kernel function returns for the error: the
// negated error number, such as -22 for EINVAL.
func (e Errno) Return() int {
	return -int(e)
}

// Error gives the symbolic name and the usual description, such as
// "EINVAL: invalid argument".
func (e Errno) Error() string {
	switch e {
	case ENOENT:
		return "ENOENT: no such file or directory"
	case ENOMEM:
		return "ENOMEM: cannot allocate memory"
	case EFAULT:
		return "EFAULT: bad address"
	case EBUSY:
		return "EBUSY: device or resource busy"
	case EINVAL:
		return "EINVAL: invalid argument"
	case ENOSPC:
		return "ENOSPC: no space left on device"
	case EOPNOTSUPP:
		return "EOPNOTSUPP: operation not supported"
	}
	return "errno " + strconv.Itoa(int(e))
}
