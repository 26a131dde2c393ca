package kernel_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/device"
	simmaps "github.com/xdpsim/xdpsim/sim/maps"
)

// The proposal never merged: Linux 6.18 has no BPF_MAP_TYPE_CONTROL and refuses xdpsim's number
// for it, so the corpus's control-map programs are the simulator's only. (BPF_MAP_CREATE is made
// by hand: cilium/ebpf refuses an unknown map type before asking the kernel.)
func TestTheKernelHasNoControlMap(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: no kernel to ask: %v", err)
	}
	var attr [72]byte // union bpf_attr, BPF_MAP_CREATE's part up to map_extra
	binary.NativeEndian.PutUint32(attr[0:], uint32(simmaps.Control))
	binary.NativeEndian.PutUint32(attr[4:], 4)
	binary.NativeEndian.PutUint32(attr[8:], uint32(device.Latest().Size))
	binary.NativeEndian.PutUint32(attr[12:], 1)
	binary.NativeEndian.PutUint64(attr[64:], simmaps.ControlXDPAttr)
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
	if errno == 0 {
		unix.Close(int(fd))
	}
	if !errors.Is(errno, unix.EINVAL) {
		t.Errorf("BPF_MAP_CREATE of map type %#x: errno %v, want EINVAL", uint32(simmaps.Control), errno)
	}
}
