package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
)

// msgMaps is one array map of a 64-byte value.
var msgMaps = []verifier.Map{{Name: "arr", Type: ebpf.Array, KeySize: 4, ValueSize: 64, MaxEntries: 1, SpinLock: -1, Timer: -1}}

// The words of Linux 6.18's refusals where they differ from older kernels' (and from what
// xdpsim once printed), each as measured.
func TestRefusalsSpeakAsLinux618(t *testing.T) {
	checkKernelCases(t, ebpf.XDP, msgMaps, []kernelCase{
		// The walk refuses a ninth frame without the " !" that the check of the whole call
		// graph's depth still prints (stack_depth_test.go).
		{name: "a recursive static function reaches nine frames", src: `call local f
mov %r0, 2
exit
f:
call local f
exit`, insn: 3, message: "the call stack of 9 frames is too deep"},
		// A helper's access to the stack past the frame is a read from it or a write to it,
		// no longer an "indirect access to" it.
		{name: "bpf_xdp_store_bytes reads its buffer from the stack", src: "mov64 %r2, 0\nmov64 %r3, %r10\nadd64 %r3, -4\nmov64 %r4, 8\ncall 190\nmov64 %r0, 2\nexit", insn: 4, message: "invalid read from stack R3 off=-4 size=8"},
		{name: "bpf_csum_diff reads its first buffer", src: "mov64 %r1, %r10\nadd64 %r1, -4\nmov64 %r2, 8\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28\nmov64 %r0, 2\nexit", insn: 6, message: "invalid read from stack R1 off=-4 size=8"},
		{name: "bpf_xdp_load_bytes writes its buffer", src: "mov64 %r2, 0\nmov64 %r3, %r10\nadd64 %r3, -4\nmov64 %r4, 8\ncall 189\nmov64 %r0, 2\nexit", insn: 4, message: "invalid write to stack R3 off=-4 size=8"},
		{name: "a map key at a variable offset is read", src: "call 7\nand64 %r0, 8\nmov64 %r2, %r10\nadd64 %r2, -4\nadd64 %r2, %r0\nlddw %r1, map_fd 0\ncall 1\nmov64 %r0, 2\nexit", insn: 7, message: "invalid variable-offset read from stack R2 var_off=(0x0; 0x8) off=-4 size=4"},
	})
}
