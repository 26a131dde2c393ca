package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
)

// msgMaps are an array of one 64-byte value, a program array, a devmap and a ring buffer.
var msgMaps = []verifier.Map{{Name: "arr", Type: ebpf.Array, KeySize: 4, ValueSize: 64, MaxEntries: 1, SpinLock: -1, Timer: -1},
	{Name: "progs", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 1, SpinLock: -1, Timer: -1},
	{Name: "devs", Type: ebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 1, SpinLock: -1, Timer: -1},
	{Name: "rb", Type: ebpf.RingBuf, MaxEntries: 4096, SpinLock: -1, Timer: -1}}

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
		// A misaligned access prints a pointer's variable offset as a tnum, a constant one as
		// a number.
		{name: "a misaligned store to the stack", src: "mov64 %r1, 0\nstxdw [%r10-4], %r1\nmov64 %r0, 2\nexit", insn: 1, message: "misaligned stack access off 0+0+-4 size 8"},
		{name: "a misaligned store at a variable stack offset", src: "call 7\nand64 %r0, 4\nmov64 %r2, %r10\nadd64 %r2, -16\nadd64 %r2, %r0\nmov64 %r1, 0\nstxdw [%r2], %r1\nmov64 %r0, 2\nexit", insn: 6, message: "misaligned stack access off (0x0; 0x4)+-16+0 size 8"},
		{name: "a misaligned atomic add to a map value at a variable offset", src: "stw [%r10-4], 0\nmov64 %r2, %r10\nadd64 %r2, -4\nlddw %r1, map_fd 0\ncall 1\njeq %r0, 0, out\nmov64 %r6, %r0\ncall 7\nand64 %r0, 8\nadd64 %r6, %r0\nmov64 %r1, 1\nlock add32 [%r6+2], %r1\nout:\nmov64 %r0, 2\nexit", insn: 12, message: "misaligned value access off (0x0; 0x8)+0+2 size 4"},
		{name: "a misaligned atomic add to a map value", src: "stw [%r10-4], 0\nmov64 %r2, %r10\nadd64 %r2, -4\nlddw %r1, map_fd 0\ncall 1\njeq %r0, 0, out\nmov64 %r1, 1\nlock add32 [%r0+2], %r1\nout:\nmov64 %r0, 2\nexit", insn: 8, message: "misaligned value access off 0+0+2 size 4"},
		// bpf_tail_call wants a program array before the map's type is checked against the
		// helper: a devmap, which allows only lookups and redirects, is refused the same way.
		{name: "a tail call through an array", src: "lddw %r2, map_fd 0\nmov64 %r3, 0\ncall 12\nmov64 %r0, 2\nexit", insn: 3, message: "expected prog array map for tail call"},
		{name: "a tail call through a devmap", src: "lddw %r2, map_fd 2\nmov64 %r3, 0\ncall 12\nmov64 %r0, 2\nexit", insn: 3, message: "expected prog array map for tail call"},
		{name: "but first its index is read", src: "lddw %r2, map_fd 0\ncall 12\nmov64 %r0, 2\nexit", insn: 2, message: "R3 !read_ok"},
		{name: "a tail call through a program array", src: "lddw %r2, map_fd 1\nmov64 %r3, 0\ncall 12\nmov64 %r0, 2\nexit", accept: true},
		{name: "other helpers still name the map type they refuse", src: "lddw %r1, map_fd 0\nmov64 %r2, 0\nmov64 %r3, 0\ncall 51\nmov64 %r0, 2\nexit", insn: 4, message: "cannot pass map_type 2 into func bpf_redirect_map#51"},
		// A helper's access to the stack past the frame is a read from it or a write to it,
		// no longer an "indirect access to" it.
		{name: "bpf_xdp_store_bytes reads its buffer from the stack", src: "mov64 %r2, 0\nmov64 %r3, %r10\nadd64 %r3, -4\nmov64 %r4, 8\ncall 190\nmov64 %r0, 2\nexit", insn: 4, message: "invalid read from stack R3 off=-4 size=8"},
		{name: "bpf_csum_diff reads its first buffer", src: "mov64 %r1, %r10\nadd64 %r1, -4\nmov64 %r2, 8\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28\nmov64 %r0, 2\nexit", insn: 6, message: "invalid read from stack R1 off=-4 size=8"},
		{name: "bpf_xdp_load_bytes writes its buffer", src: "mov64 %r2, 0\nmov64 %r3, %r10\nadd64 %r3, -4\nmov64 %r4, 8\ncall 189\nmov64 %r0, 2\nexit", insn: 4, message: "invalid write to stack R3 off=-4 size=8"},
		{name: "a map key at a variable offset is read", src: "call 7\nand64 %r0, 8\nmov64 %r2, %r10\nadd64 %r2, -4\nadd64 %r2, %r0\nlddw %r1, map_fd 0\ncall 1\nmov64 %r0, 2\nexit", insn: 7, message: "invalid variable-offset read from stack R2 var_off=(0x0; 0x8) off=-4 size=4"},
	})
}

// withRingbufMem reserves size bytes of the ring buffer and, when it has them, runs use with
// the memory's pointer in r6 (from instruction 6), then discards it.
func withRingbufMem(size, use string) string {
	return "lddw %r1, map_fd 3\nmov64 %r2, " + size + "\nmov64 %r3, 0\ncall 131\njeq %r0, 0, out\nmov64 %r6, %r0\n" + use +
		"\nmov64 %r1, %r6\nmov64 %r2, 0\ncall 133\nout:\nmov64 %r0, 2\nexit"
}

// A map key or value handed to a helper may be any memory a helper reads (the kernel checks
// them against the same types as other memory arguments, and says so when it refuses one):
// ring buffer memory too, within its size.
func TestMapKeysAndValuesAreHelperMemory(t *testing.T) {
	lookup := "mov64 %r2, %r6\nlddw %r1, map_fd 0\ncall 1"
	update := "stw [%r10-4], 0\nmov64 %r2, %r10\nadd64 %r2, -4\nmov64 %r3, %r6\nmov64 %r4, 0\nlddw %r1, map_fd 0\ncall 2"
	mem := "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
	checkKernelCases(t, ebpf.XDP, msgMaps, []kernelCase{
		{name: "a key in ring buffer memory", src: withRingbufMem("8", lookup), accept: true},
		{name: "not past its end", src: withRingbufMem("2", lookup), insn: 10, message: "invalid access to memory, mem_size=2 off=0 size=4\nR2 min value is outside of the allowed memory range"},
		{name: "a value in ring buffer memory", src: withRingbufMem("64", update), accept: true},
		{name: "not past its end either", src: withRingbufMem("8", update), insn: 14, message: "invalid access to memory, mem_size=8 off=0 size=64\nR3 min value is outside of the allowed memory range"},
		{name: "a number is no key", src: "mov64 %r2, 0\nlddw %r1, map_fd 0\ncall 1\nmov64 %r0, 2\nexit", insn: 3, message: "R2 type=scalar expected=" + mem},
		{name: "nor is the context", src: "mov64 %r2, %r1\nlddw %r1, map_fd 0\ncall 1\nmov64 %r0, 2\nexit", insn: 3, message: "R2 type=ctx expected=" + mem},
		{name: "a number is no value", src: "stw [%r10-4], 0\nmov64 %r2, %r10\nadd64 %r2, -4\nmov64 %r3, 0\nmov64 %r4, 0\nlddw %r1, map_fd 0\ncall 2\nmov64 %r0, 2\nexit", insn: 7, message: "R3 type=scalar expected=" + mem},
	})
}
