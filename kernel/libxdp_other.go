//go:build !(linux && amd64)

package kernel

import (
	"fmt"
	"runtime"
)

// RunLibxdp attaches objects with the real libxdp; its dispatcher needs BPF trampolines, which
// only x86_64 Linux has, so elsewhere it returns an error matching [ErrNoKernel].
func RunLibxdp(objs []string, opts LibxdpOptions) (*LibxdpResult, error) {
	return nil, &noKernelError{fmt.Sprintf("libxdp's dispatcher needs x86_64 Linux and this is %s/%s", runtime.GOOS, runtime.GOARCH)}
}
