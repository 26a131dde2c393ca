// Package corebtf holds the simulator's own kernel BTF: the type information of a Linux 6.18 x86_64
// kernel, against which CO-RE relocations in programs are resolved when the user names no other
// vmlinux BTF. It was taken from /sys/kernel/btf/vmlinux of such a kernel (see gen.go).
package corebtf

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"sync"

	"github.com/cilium/ebpf/btf"
)

//go:generate sh -c "gzip -9 -c /sys/kernel/btf/vmlinux > vmlinux.btf.gz"

//go:embed vmlinux.btf.gz
var vmlinuxGz []byte

var (
	once sync.Once
	spec *btf.Spec
	err  error
)

// Spec returns the parsed kernel BTF; it is parsed once, on first use.
func Spec() (*btf.Spec, error) {
	once.Do(func() {
		zr, e := gzip.NewReader(bytes.NewReader(vmlinuxGz))
		if e != nil {
			err = fmt.Errorf("simulator kernel BTF: %w", e)
			return
		}
		var raw bytes.Buffer
		if _, e := raw.ReadFrom(zr); e != nil {
			err = fmt.Errorf("simulator kernel BTF: %w", e)
			return
		}
		spec, err = btf.LoadSpecFromReader(bytes.NewReader(raw.Bytes()))
		if err != nil {
			err = fmt.Errorf("simulator kernel BTF: %w", err)
		}
	})
	return spec, err
}

// Load reads a vmlinux BTF file the user names (raw BTF, or an ELF with a .BTF section).
func Load(path string) (*btf.Spec, error) {
	s, err := btf.LoadSpec(path)
	if err != nil {
		return nil, fmt.Errorf("vmlinux BTF %s: %w", path, err)
	}
	return s, nil
}
