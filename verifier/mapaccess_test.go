package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// progAccessMaps are the selftests' map_array_ro and map_array_wo (verifier_array_access.c):
// arrays of one 48-byte value, read-only (BPF_F_RDONLY_PROG) and write-only (BPF_F_WRONLY_PROG)
// for programs; and a hash map whose key is 8 bytes.
var progAccessMaps = []verifier.Map{
	{Name: "array_ro", Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1, Flags: 1 << 7, ReadOnly: true, SpinLock: -1, Timer: -1},
	{Name: "array_wo", Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1, Flags: 1 << 8, WriteOnly: true, SpinLock: -1, Timer: -1},
	{Name: "hash", Type: ebpf.Hash, KeySize: 8, ValueSize: 48, MaxEntries: 1, SpinLock: -1, Timer: -1},
}

// withValue looks up key 0 of map m (0: array_ro, 1: array_wo) and, when the value is there,
// runs access with the value's pointer in r0 (from instruction 7) and the context in r6.
func withValue(m, access string) string {
	return `mov64 %r6, %r1
stdw [%r10-8], 0
mov64 %r2, %r10
add64 %r2, -8
lddw %r1, map_fd ` + m + `
call 1
jeq %r0, 0, out
` + access + `
out:
mov64 %r0, 0
exit`
}

// A program may not read the values of a map created with BPF_F_WRONLY_PROG, directly or
// through a helper that reads memory, nor write those of a BPF_F_RDONLY_PROG map; the kernel
// blames the access with the map's value size and the offset and size accessed. The selftests'
// verifier_array_access.c a_write_only_array_2_2 hands a write-only value to bpf_csum_diff,
// a_read_only_array_2_2 a read-only one to bpf_skb_load_bytes.
func TestProgramsReadOnlyWhatTheMapLetsThemRead(t *testing.T) {
	checkKernelCases(t, ebpf.SchedCLS, progAccessMaps, []kernelCase{
		{name: "a write-only value is not read", src: withValue("1", "ldxdw %r1, [%r0]"), insn: 8, message: "read from map forbidden, value_size=48 off=0 size=8"},
		{name: "nor part of it", src: withValue("1", "ldxw %r1, [%r0+4]"), insn: 8, message: "read from map forbidden, value_size=48 off=4 size=4"},
		{name: "a write-only value is written", src: withValue("1", "stdw [%r0], 42"), accept: true},
		{name: "and written from a register", src: withValue("1", "stxdw [%r0+8], %r6"), accept: true},
		{name: "an atomic add reads it", src: withValue("1", "mov64 %r1, 1\nlock add [%r0], %r1"), insn: 9, message: "read from map forbidden, value_size=48 off=0 size=8"},
		{name: "bpf_csum_diff may not read it", src: withValue("1", "mov64 %r1, %r0\nmov64 %r2, 4\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28"), insn: 13, message: "read from map forbidden, value_size=48 off=0 size=4"},
		{name: "not past an offset either", src: withValue("1", "add64 %r0, 8\nmov64 %r1, %r0\nmov64 %r2, 4\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28"), insn: 14, message: "read from map forbidden, value_size=48 off=8 size=4"},
		{name: "bpf_skb_load_bytes may write it", src: withValue("1", "mov64 %r1, %r6\nmov64 %r2, 0\nmov64 %r3, %r0\nmov64 %r4, 8\ncall 26"), accept: true},
		{name: "it is no map key", src: withValue("1", "lddw %r1, map_fd 2\nmov64 %r2, %r0\ncall 1"), insn: 11, message: "read from map forbidden, value_size=48 off=0 size=8"},
		{name: "nor a value to store", src: withValue("1", "mov64 %r3, %r0\nlddw %r1, map_fd 2\nmov64 %r2, %r10\nadd64 %r2, -8\nmov64 %r4, 0\ncall 2"), insn: 14, message: "read from map forbidden, value_size=48 off=0 size=48"},
		{name: "a read-only value is read", src: withValue("0", "ldxdw %r1, [%r0]"), accept: true},
		{name: "not written", src: withValue("0", "stdw [%r0], 42"), insn: 8, message: "write into map forbidden, value_size=48 off=0 size=8"},
		{name: "nor by an atomic add", src: withValue("0", "mov64 %r1, 1\nlock add [%r0], %r1"), insn: 9, message: "write into map forbidden, value_size=48 off=0 size=8"},
		{name: "bpf_csum_diff may read it", src: withValue("0", "mov64 %r1, %r0\nmov64 %r2, 4\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28"), accept: true},
		{name: "bpf_skb_load_bytes may not write it", src: withValue("0", "mov64 %r1, %r6\nmov64 %r2, 0\nmov64 %r3, %r0\nmov64 %r4, 8\ncall 26"), insn: 12, message: "write into map forbidden, value_size=48 off=0 size=8"},
	})
}

// A kfunc's memory argument in a map value must be readable and writable both, whatever the
// kfunc does with it: Linux 6.18 checks it for reading, then for writing. Measured with a C
// program handing bpf_skb_ct_lookup its tuple, then its opts, in a value of a BPF_F_RDONLY_PROG
// and of a BPF_F_WRONLY_PROG array (the kernel blamed the call with "write into map forbidden"
// and "read from map forbidden", then "arg#1 arg#2 memory, len pair leads to invalid memory
// access" or arg#3 arg#4); the cases below are the same calls with the 48-byte values here.
func TestKfuncMemoryInAMapValueMustBeReadableAndWritable(t *testing.T) {
	ct, err := kfuncs.Lookup("bpf_skb_ct_lookup", kfuncs.Features{})
	if err != nil {
		t.Fatal(err)
	}
	// bpf_skb_ct_lookup(ctx, tuple, 12, opts, 16) with the tuple or the opts in the value (r0) at
	// offset 16, the other on the stack.
	call := func(tupleInMap bool) string {
		src := "stdw [%r10-16], 0\nstdw [%r10-24], 0\nstdw [%r10-32], 0\nstdw [%r10-40], 0\nmov64 %r1, %r6\n"
		if tupleInMap {
			src += "mov64 %r2, %r0\nadd64 %r2, 16\nmov64 %r4, %r10\nadd64 %r4, -40\n"
		} else {
			src += "mov64 %r2, %r10\nadd64 %r2, -24\nmov64 %r4, %r0\nadd64 %r4, 16\n"
		}
		return src + "mov64 %r3, 12\nmov64 %r5, 16\ncall kfunc 1\njeq %r0, 0, out\nmov64 %r0, 0\nexit"
	}
	for _, tc := range []struct {
		name    string
		m       string
		tuple   bool
		message string
	}{
		{"the tuple, which the kfunc reads, may not be in a read-only value", "0", true, "write into map forbidden, value_size=48 off=16 size=12\narg#1 arg#2 memory, len pair leads to invalid memory access"},
		{"nor in a write-only one", "1", true, "read from map forbidden, value_size=48 off=16 size=12\narg#1 arg#2 memory, len pair leads to invalid memory access"},
		{"the opts, which it writes, may not be in a read-only value", "0", false, "write into map forbidden, value_size=48 off=16 size=16\narg#3 arg#4 memory, len pair leads to invalid memory access"},
		{"nor in a write-only one", "1", false, "read from map forbidden, value_size=48 off=16 size=16\narg#3 arg#4 memory, len pair leads to invalid memory access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := assembly.Assemble(withValue(tc.m, call(tc.tuple)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifier.Verify(&verifier.Program{Name: "ct", Insns: insns, Type: ebpf.SchedCLS, GPL: true, Maps: progAccessMaps,
				Kfuncs: map[int32]*kfuncs.Kfunc{1: ct}}, verifier.Options{})
			if ok, msg := verdictOf(t, err); ok || msg != tc.message {
				t.Errorf("accepted=%v %q; the kernel refuses the call: %q", ok, msg, tc.message)
			}
		})
	}
}
