package kernel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestBuildsWithoutLinux holds the promise that xdpsim needs no Linux: the whole module, tests
// included, type-checks for macOS, so every Linux-only API of this package has its stand-in in
// kernel_other.go (or another !linux file), and the command builds for Windows.
func TestBuildsWithoutLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: cross-checking the module for other systems takes a while")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, target := range []struct{ goos, goarch string }{{"darwin", "arm64"}} {
		t.Run("the module vets for "+target.goos+"/"+target.goarch, func(t *testing.T) {
			cmd := exec.Command(gobin, "vet", "./...")
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go vet for %s/%s: %v\n%s", target.goos, target.goarch, err, out)
			}
		})
	}
	t.Run("the command builds for windows/amd64", func(t *testing.T) {
		cmd := exec.Command(gobin, "build", "-o", os.DevNull, "./cmd/xdpsim")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build for windows/amd64: %v\n%s", err, out)
		}
	})
}
