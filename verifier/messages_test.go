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
	})
}
