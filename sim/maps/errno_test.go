package maps

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestErrno(t *testing.T) {
	tests := []struct {
		name string
		err  Errno
		neg  int64
		sys  syscall.Errno
		text string
	}{
		{"ENOENT is -2 to a program", ENOENT, -2, syscall.ENOENT, "ENOENT"},
		{"EEXIST is -17 to a program", EEXIST, -17, syscall.EEXIST, "EEXIST"},
		{"E2BIG is -7 to a program", E2BIG, -7, syscall.E2BIG, "E2BIG"},
		{"EINVAL is -22 to a program", EINVAL, -22, syscall.EINVAL, "EINVAL"},
		{"ENOSPC is -28 to a program", ENOSPC, -28, syscall.ENOSPC, "ENOSPC"},
		{"EBUSY is -16 to a program", EBUSY, -16, syscall.EBUSY, "EBUSY"},
		{"ENOMEM is -12 to a program", ENOMEM, -12, syscall.ENOMEM, "ENOMEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Neg(); got != tt.neg {
				t.Errorf("Neg() = %d, want %d", got, tt.neg)
			}
			if tt.err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.text)
			}
			wrapped := fmt.Errorf("op: %w", tt.err)
			if !errors.Is(wrapped, tt.err) {
				t.Error("errors.Is does not match the Errno through a wrap")
			}
			if !errors.Is(wrapped, tt.sys) {
				t.Error("errors.Is does not match the syscall.Errno")
			}
			if errors.Is(wrapped, syscall.EPIPE) {
				t.Error("errors.Is matches an unrelated errno")
			}
		})
	}
	t.Run("an unnamed errno still prints its number", func(t *testing.T) {
		if got := Errno(200).Error(); got != "errno 200" {
			t.Errorf("got %q", got)
		}
	})
}
