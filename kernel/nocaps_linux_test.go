//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const helperEnv = "XDPSIM_KERNEL_TEST_HELPER"

// TestWithoutCapabilities runs this test binary again as the unprivileged user nobody and checks
// that the kernel side then reports ErrNoKernel in one line.
func TestWithoutCapabilities(t *testing.T) {
	if os.Getenv(helperEnv) == "nocaps" {
		// The child: report what Available and Load say.
		err := Available()
		_, lerr := Load("testdata/xdp_verdict.o", Options{})
		fmt.Printf("available=%v\nis=%v\nload-is=%v\n", err, errors.Is(err, ErrNoKernel), errors.Is(lerr, ErrNoKernel))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child process as nobody")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "xdpsim-nocaps-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "kernel.test")
	if err := copyFile(exe, bin); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	for _, p := range []string{dir, bin} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestWithoutCapabilities$")
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), helperEnv+"=nocaps")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "is=true\n") || !strings.Contains(s, "load-is=true\n") {
		t.Fatalf("without capabilities the errors do not match ErrNoKernel:\n%s", s)
	}
	line := s[strings.Index(s, "available=")+len("available=") : strings.Index(s, "\nis=")]
	want := "kernel: the kernel side cannot be used: loading an XDP program needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN), which this process lacks (EPERM: operation not permitted)"
	if line != want {
		t.Errorf("as nobody Available says\n%q\nwant\n%q", line, want)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
