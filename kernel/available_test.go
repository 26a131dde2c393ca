package kernel

import (
	"errors"
	"strings"
	"testing"
)

func TestAvailableSaysWhyInOneLine(t *testing.T) {
	err := Available()
	if err == nil {
		t.Log("the kernel side is available")
		return
	}
	if !errors.Is(err, ErrNoKernel) {
		t.Errorf("%v does not match ErrNoKernel", err)
	}
	if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "kernel: the kernel side cannot be used: ") {
		t.Errorf("not one clear line: %q", err)
	}
	if _, lerr := Load("testdata/xdp_verdict.o", Options{}); !errors.Is(lerr, ErrNoKernel) {
		t.Errorf("Load returned %v, want ErrNoKernel", lerr)
	}
	t.Skip(err)
}
