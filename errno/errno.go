// Package errno is xdpsim's one table of Linux error numbers: the values helpers, kfuncs, map
// operations, the traits store and the device model return, their symbols and their strerror
// descriptions.
//
// The numbers are Linux's (the same on every architecture xdpsim models), not the host's: the
// simulator runs on any operating system, where package syscall has other values or none. Like
// package vm, errno imports nothing of the project, so every package may use it.
package errno

import (
	"strconv"
	"syscall"
)

// Errno is a positive Linux error number. Kernel code returns it negated: see [Errno.Neg] and
// [Errno.Return]. Errors of this type match with errors.Is against themselves and against the
// syscall.Errno of the same number, so a caller on Linux may test either
// errors.Is(err, errno.ENOENT) or errors.Is(err, syscall.ENOENT).
type Errno int

// The error numbers xdpsim returns, with their Linux values.
const (
	EPERM         Errno = 1   // operation not permitted
	ENOENT        Errno = 2   // no such entry: a missing key, an unset trait, an empty queue
	ENXIO         Errno = 6   // no such device or address
	E2BIG         Errno = 7   // index out of range, a full map, too many programs
	EBADF         Errno = 9   // bad file descriptor
	EAGAIN        Errno = 11  // try again: a full ring buffer
	ENOMEM        Errno = 12  // out of memory, or no room for a header
	EACCES        Errno = 13  // permission denied
	EFAULT        Errno = 14  // bad address
	EBUSY         Errno = 16  // busy: a trait set with another length, a held attachment
	EEXIST        Errno = 17  // exists: BPF_NOEXIST on a present key, a repeated export
	ENODEV        Errno = 19  // no such device
	EINVAL        Errno = 22  // invalid argument
	ENOSPC        Errno = 28  // no space left: headroom, a full trie
	ERANGE        Errno = 34  // out of range
	EDEADLK       Errno = 35  // deadlock avoided: a timer callback cancelling its own timer
	ENODATA       Errno = 61  // no data: a device that implements a hint has none for this frame
	ETIME         Errno = 62  // timer expired: a dying conntrack entry
	ENONET        Errno = 64  // not on the network: a conntrack lookup in a network namespace that is not there
	ENOLINK       Errno = 67  // link has been severed
	EPROTO        Errno = 71  // protocol error: a conntrack tuple of an unsupported protocol
	EOVERFLOW     Errno = 75  // value too large
	EMSGSIZE      Errno = 90  // message too long: a frame above the MTU
	EOPNOTSUPP    Errno = 95  // operation not supported
	EAFNOSUPPORT  Errno = 97  // address family not supported
	EADDRNOTAVAIL Errno = 99  // cannot assign requested address
	EHOSTUNREACH  Errno = 113 // no route to host
	EALREADY      Errno = 114 // already in progress
	ESTALE        Errno = 116 // stale file handle
	// ENOTSUPP is the kernel-internal 524 that some helpers and map operations leak to programs
	// and user space (bpf_xdp_adjust_meta without metadata support, ring buffer lookups).
	ENOTSUPP Errno = 524
)

var names = map[Errno][2]string{
	EPERM:         {"EPERM", "operation not permitted"},
	ENOENT:        {"ENOENT", "no such file or directory"},
	ENXIO:         {"ENXIO", "no such device or address"},
	E2BIG:         {"E2BIG", "argument list too long"},
	EBADF:         {"EBADF", "bad file descriptor"},
	EAGAIN:        {"EAGAIN", "resource temporarily unavailable"},
	ENOMEM:        {"ENOMEM", "cannot allocate memory"},
	EACCES:        {"EACCES", "permission denied"},
	EFAULT:        {"EFAULT", "bad address"},
	EBUSY:         {"EBUSY", "device or resource busy"},
	EEXIST:        {"EEXIST", "file exists"},
	ENODEV:        {"ENODEV", "no such device"},
	EINVAL:        {"EINVAL", "invalid argument"},
	ENOSPC:        {"ENOSPC", "no space left on device"},
	ERANGE:        {"ERANGE", "numerical result out of range"},
	EDEADLK:       {"EDEADLK", "resource deadlock avoided"},
	ENODATA:       {"ENODATA", "no data available"},
	ETIME:         {"ETIME", "timer expired"},
	ENONET:        {"ENONET", "machine is not on the network"},
	ENOLINK:       {"ENOLINK", "link has been severed"},
	EPROTO:        {"EPROTO", "protocol error"},
	EOVERFLOW:     {"EOVERFLOW", "value too large for defined data type"},
	EMSGSIZE:      {"EMSGSIZE", "message too long"},
	EOPNOTSUPP:    {"EOPNOTSUPP", "operation not supported"},
	EAFNOSUPPORT:  {"EAFNOSUPPORT", "address family not supported by protocol"},
	EADDRNOTAVAIL: {"EADDRNOTAVAIL", "cannot assign requested address"},
	EHOSTUNREACH:  {"EHOSTUNREACH", "no route to host"},
	EALREADY:      {"EALREADY", "operation already in progress"},
	ESTALE:        {"ESTALE", "stale file handle"},
	ENOTSUPP:      {"ENOTSUPP", "operation is not supported"},
}

// Name is the symbol alone, such as "ENOENT", or "errno N" for a number without one here.
func (e Errno) Name() string {
	if n, ok := names[e]; ok {
		return n[0]
	}
	return "errno " + strconv.Itoa(int(e))
}

// Error gives the symbol and the description, such as "EINVAL: invalid argument".
func (e Errno) Error() string {
	if n, ok := names[e]; ok {
		return n[0] + ": " + n[1]
	}
	return "errno " + strconv.Itoa(int(e))
}

// Neg is the value kernel code returns for the error: the negated number, such as -22 for EINVAL.
func (e Errno) Neg() int64 { return -int64(e) }

// Return is [Errno.Neg] as the 64-bit register value r0 holds when a helper or kfunc fails.
func (e Errno) Return() uint64 { return uint64(-int64(e)) }

// Is lets errors.Is match an Errno against the syscall.Errno of the same number.
func (e Errno) Is(target error) bool {
	switch t := target.(type) {
	case Errno:
		return t == e
	case syscall.Errno:
		return uintptr(t) == uintptr(e)
	}
	return false
}

// FromReturn gives the error a helper's or kfunc's return value stands for: r as a signed value
// when it is the negation of a number in this table, and ok false otherwise (success, or a
// negative value that is no error number xdpsim knows).
func FromReturn(r int64) (e Errno, ok bool) {
	if r >= 0 || r < -4095 {
		return 0, false
	}
	e = Errno(-r)
	_, ok = names[e]
	return e, ok
}
