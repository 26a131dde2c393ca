package maps

import (
	"strconv"
	"syscall"
)

// Errno is a kernel error number returned by a map operation. It is the positive errno value; the
// helper layer hands Neg() to the BPF program, which is what the kernel's helpers return. Errno
// values compare with == and match with errors.Is against themselves and against the matching
// syscall.Errno, so callers may test either `errors.Is(err, maps.ENOENT)` or
// `errors.Is(err, syscall.ENOENT)`.
type Errno int

// Error numbers the map operations return, with the kernel's (x86-64 and generic) values.
const (
	// EPERM: operation not permitted (for example an update of a frozen map from Go).
	EPERM Errno = 1
	// ENOENT: no such element (missing key, empty queue, missing slot).
	ENOENT Errno = 2
	// E2BIG: index out of range, or the map is full.
	E2BIG Errno = 7
	// EAGAIN: try again (bpf_ringbuf_output on a full ring buffer).
	EAGAIN Errno = 11
	// ENOMEM: out of memory (an LRU map found no element to reuse).
	ENOMEM Errno = 12
	// EFAULT: bad address.
	EFAULT Errno = 14
	// EBUSY: resource busy.
	EBUSY Errno = 16
	// EEXIST: element exists (BPF_NOEXIST on a present key, or on any array slot).
	EEXIST Errno = 17
	// ENODEV: no such device (cpumap key that is not a possible CPU).
	ENODEV Errno = 19
	// EINVAL: invalid argument (bad flags, bad sizes, operation the map type does not have).
	EINVAL Errno = 22
	// ENOSPC: no space left (LPM trie full).
	ENOSPC Errno = 28
	// EOVERFLOW: value too large (cpumap queue size above 16384).
	EOVERFLOW Errno = 75
	// EOPNOTSUPP: operation not supported on this map type.
	EOPNOTSUPP Errno = 95
	// ENOTSUPP is the kernel-internal 524 that some map operations leak to user space (ring
	// buffer lookups, LRU maps without preallocation).
	ENOTSUPP Errno = 524
)

var errnoNames = map[Errno]string{
	EPERM:      "EPERM",
	ENOENT:     "ENOENT",
	E2BIG:      "E2BIG",
	EAGAIN:     "EAGAIN",
	ENOMEM:     "ENOMEM",
	EFAULT:     "EFAULT",
	EBUSY:      "EBUSY",
	EEXIST:     "EEXIST",
	ENODEV:     "ENODEV",
	EINVAL:     "EINVAL",
	ENOSPC:     "ENOSPC",
	EOVERFLOW:  "EOVERFLOW",
	EOPNOTSUPP: "EOPNOTSUPP",
	ENOTSUPP:   "ENOTSUPP",
}

// Error returns the symbolic name, for example "ENOENT".
func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// Neg returns the negative value a kernel helper returns for this error, for example -2 for
// ENOENT, as the 64-bit register value the BPF program sees.
func (e Errno) Neg() int64 { return -int64(e) }

// Is lets errors.Is match an Errno against a syscall.Errno with the same number.
func (e Errno) Is(target error) bool {
	switch t := target.(type) {
	case Errno:
		return t == e
	case syscall.Errno:
		return uintptr(t) == uintptr(e)
	}
	return false
}
