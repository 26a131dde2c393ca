package device

import "strconv"

// Errno is a Linux error number as bpf(2) and rtnetlink return it for the attach operations this
// package models (their values on every architecture xdpsim models). Errors from this package's
// attach, detach, query and device operations are Errno values: match them with errors.Is.
type Errno int

// The error numbers the modelled operations return.
const (
	EPERM         Errno = 1
	ENOENT        Errno = 2
	E2BIG         Errno = 7
	ENXIO         Errno = 6
	EBADF         Errno = 9
	EACCES        Errno = 13
	EBUSY         Errno = 16
	EEXIST        Errno = 17
	ENODEV        Errno = 19
	EINVAL        Errno = 22
	ENOSPC        Errno = 28
	ERANGE        Errno = 34
	ENOLINK       Errno = 67
	EOPNOTSUPP    Errno = 95
	EADDRNOTAVAIL Errno = 99
	ESTALE        Errno = 116
)

var errnoNames = map[Errno]string{
	EPERM:         "EPERM: operation not permitted",
	ENOENT:        "ENOENT: no such file or directory",
	E2BIG:         "E2BIG: argument list too long",
	ENXIO:         "ENXIO: no such device or address",
	EBADF:         "EBADF: bad file descriptor",
	EACCES:        "EACCES: permission denied",
	EBUSY:         "EBUSY: device or resource busy",
	EEXIST:        "EEXIST: file exists",
	ENODEV:        "ENODEV: no such device",
	EINVAL:        "EINVAL: invalid argument",
	ENOSPC:        "ENOSPC: no space left on device",
	ERANGE:        "ERANGE: numerical result out of range",
	ENOLINK:       "ENOLINK: link has been severed",
	EOPNOTSUPP:    "EOPNOTSUPP: operation not supported",
	EADDRNOTAVAIL: "EADDRNOTAVAIL: cannot assign requested address",
	ESTALE:        "ESTALE: stale file handle",
}

// Error names the error as strerror does, after its symbol.
func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// Name is the symbol alone ("EEXIST").
func (e Errno) Name() string {
	s := e.Error()
	for i := range len(s) {
		if s[i] == ':' {
			return s[:i]
		}
	}
	return s
}
