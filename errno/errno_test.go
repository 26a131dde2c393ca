package errno

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"testing"
)

// linuxValues are Linux's numbers for the table's symbols, from the kernel's
// include/uapi/asm-generic/errno-base.h and errno.h (524 from include/linux/errno.h).
var linuxValues = map[string]int{
	"EPERM": 1, "ENOENT": 2, "ENXIO": 6, "E2BIG": 7, "EBADF": 9, "EAGAIN": 11, "ENOMEM": 12,
	"EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17, "ENODEV": 19, "EINVAL": 22,
	"ENOSPC": 28, "ERANGE": 34, "EDEADLK": 35, "ENONET": 64, "EPROTO": 71, "EALREADY": 114, "ENODATA": 61, "ETIME": 62, "ENOLINK": 67, "EOVERFLOW": 75,
	"EMSGSIZE": 90, "EOPNOTSUPP": 95, "EAFNOSUPPORT": 97, "EADDRNOTAVAIL": 99,
	"EHOSTUNREACH": 113, "ESTALE": 116, "ENOTSUPP": 524,
}

func TestTable(t *testing.T) {
	t.Run("every symbol has Linux's number", func(t *testing.T) {
		if len(names) != len(linuxValues) {
			t.Fatalf("%d names, %d known Linux values", len(names), len(linuxValues))
		}
		for e, n := range names {
			if want, ok := linuxValues[n[0]]; !ok || int(e) != want {
				t.Errorf("%s is %d, Linux's is %d", n[0], int(e), want)
			}
		}
	})
	t.Run("descriptions are the host's strerror on Linux", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skipf("the host is %s: its syscall numbers are not Linux's", runtime.GOOS)
		}
		for e, n := range names {
			if e == ENOTSUPP {
				continue // kernel-internal: no strerror text
			}
			if got := syscall.Errno(e).Error(); got != n[1] {
				t.Errorf("%s: strerror says %q, the table %q", n[0], got, n[1])
			}
		}
	})
}

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       Errno
		neg       int64
		sym, text string
	}{
		{"ENOENT is -2 to a program", ENOENT, -2, "ENOENT", "ENOENT: no such file or directory"},
		{"EINVAL is -22 to a program", EINVAL, -22, "EINVAL", "EINVAL: invalid argument"},
		{"EOPNOTSUPP is -95 to a program", EOPNOTSUPP, -95, "EOPNOTSUPP", "EOPNOTSUPP: operation not supported"},
		{"the kernel-internal ENOTSUPP is -524", ENOTSUPP, -524, "ENOTSUPP", "ENOTSUPP: operation is not supported"},
		{"a number without a symbol prints as a number", Errno(200), -200, "errno 200", "errno 200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Neg(); got != c.neg {
				t.Errorf("Neg() = %d, want %d", got, c.neg)
			}
			if got := c.err.Return(); got != uint64(c.neg) {
				t.Errorf("Return() = %#x, want %#x", got, uint64(c.neg))
			}
			if got := c.err.Name(); got != c.sym {
				t.Errorf("Name() = %q, want %q", got, c.sym)
			}
			if got := c.err.Error(); got != c.text {
				t.Errorf("Error() = %q, want %q", got, c.text)
			}
		})
	}
	t.Run("errors.Is matches through a wrap, and the syscall.Errno of the same number", func(t *testing.T) {
		err := fmt.Errorf("update: %w", EEXIST)
		if !errors.Is(err, EEXIST) || !errors.Is(err, syscall.Errno(17)) {
			t.Fatalf("errors.Is does not match %v", err)
		}
		if errors.Is(err, ENOENT) || errors.Is(err, syscall.Errno(2)) {
			t.Fatalf("errors.Is matches an unrelated number in %v", err)
		}
	})
}

func TestFromReturn(t *testing.T) {
	for _, c := range []struct {
		name string
		r    int64
		want Errno
		ok   bool
	}{
		{"-22 is EINVAL", -22, EINVAL, true},
		{"-524 is ENOTSUPP", -524, ENOTSUPP, true},
		{"success is no error", 0, 0, false},
		{"a length is no error", 64, 0, false},
		{"a negative number the table lacks is no error it names", -3, 0, false},
		{"a large negative value is no error number", -70000, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := FromReturn(c.r)
			if ok != c.ok || (ok && got != c.want) {
				t.Errorf("FromReturn(%d) = %v, %v; want %v, %v", c.r, got, ok, c.want, c.ok)
			}
		})
	}
}

func ExampleErrno() {
	r := ENOSPC.Return() // what r0 holds when bpf_xdp_adjust_head finds no room
	e, _ := FromReturn(int64(r))
	fmt.Println(int64(r), e.Name(), e)
	// Output: -28 ENOSPC ENOSPC: no space left on device
}
