package verifier_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/verifier"
)

// kptrMaps are an array whose 32-byte value is the selftests' map_kptr_fail.c map_value: 8
// bytes, then an untrusted kptr to struct prog_test_ref_kfunc at 8, a referenced one at 16 and
// a referenced kptr to struct prog_test_member at 24 (kernel structs of net/bpf/test_run.c);
// arrays of 32-byte values without kptrs, with BTF and without; and one with a spin lock at 8.
var kptrMaps = []verifier.Map{
	{Name: "kptrs", Type: ebpf.Array, KeySize: 4, ValueSize: 32, MaxEntries: 1, SpinLock: -1, Timer: -1, BTF: true,
		Kptrs: []verifier.Kptr{{Off: 8, Type: "prog_test_ref_kfunc"}, {Off: 16, Type: "prog_test_ref_kfunc", Ref: true}, {Off: 24, Type: "prog_test_member", Ref: true}}},
	{Name: "plain", Type: ebpf.Array, KeySize: 4, ValueSize: 32, MaxEntries: 1, SpinLock: -1, Timer: -1, BTF: true},
	{Name: "nobtf", Type: ebpf.Array, KeySize: 4, ValueSize: 32, MaxEntries: 1, SpinLock: -1, Timer: -1},
	{Name: "locked", Type: ebpf.Array, KeySize: 4, ValueSize: 32, MaxEntries: 1, SpinLock: 8, Timer: -1, BTF: true},
}

// mapValueBTF is the BTF of m's key (an int) and value (a struct of m.ValueSize bytes with m's
// kptr fields and spin lock, the rest bytes) with which the kernel creates m when m.BTF.
func mapValueBTF(m verifier.Map) (key, value btf.Type) {
	key = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	type field struct {
		off, size int
		typ       btf.Type
	}
	var fs []field
	if m.SpinLock >= 0 {
		lock := &btf.Struct{Name: "bpf_spin_lock", Size: 4, Members: []btf.Member{{Name: "val", Type: &btf.Int{Name: "unsigned int", Size: 4}}}}
		fs = append(fs, field{m.SpinLock, 4, lock})
	}
	for _, k := range m.Kptrs {
		tag := "kptr_untrusted"
		if k.Ref {
			tag = "kptr"
		}
		fs = append(fs, field{k.Off, 8, &btf.Pointer{Target: &btf.TypeTag{Value: tag, Type: &btf.Struct{Name: k.Type}}}})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].off < fs[j].off })
	v := &btf.Struct{Name: "map_value", Size: m.ValueSize}
	bytes := func(from, to int) {
		if to > from {
			v.Members = append(v.Members, btf.Member{Name: fmt.Sprintf("bytes%d", from), Type: &btf.Array{Index: key, Type: char, Nelems: uint32(to - from)}, Offset: btf.Bits(from * 8)})
		}
	}
	at := 0
	for i, f := range fs {
		bytes(at, f.off)
		v.Members = append(v.Members, btf.Member{Name: fmt.Sprintf("field%d", i), Type: f.typ, Offset: btf.Bits(f.off * 8)})
		at = f.off + f.size
	}
	bytes(at, int(m.ValueSize))
	return key, v
}

// A kptr field of a map value is read and written only whole, by a load or store of its own
// (8 bytes, at its offset, not by an atomic operation nor a helper); a load gives a pointer to
// its struct that may be NULL: untrusted, or for a referenced kptr of a struct the kernel
// protects by RCU an RCU pointer; only NULL or a pointer of its type (untrusted or not) is
// stored into an untrusted kptr, nothing into a referenced one. A helper may not read a spin lock
// either. Measured on Linux 6.18, as the selftests' map_kptr_fail.c does with C.
func TestKptrFieldsAreAccessedAsTheKernelAllows(t *testing.T) {
	checkKernelCases(t, ebpf.SchedCLS, kptrMaps, []kernelCase{
		{name: "an untrusted kptr is loaded", src: withValue("0", "ldxdw %r1, [%r0+8]"), accept: true},
		{name: "as an untrusted pointer that may be NULL", src: withValue("0", "ldxdw %r1, [%r0+8]\ncall 154"), insn: 9,
			message: "R1 type=untrusted_ptr_or_null_ expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_"},
		{name: "a referenced one as an RCU pointer", src: withValue("0", "ldxdw %r1, [%r0+16]\ncall 154"), insn: 9,
			message: "R1 type=rcu_ptr_or_null_ expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_"},
		{name: "not by half", src: withValue("0", "ldxw %r1, [%r0+8]"), insn: 8, message: "kptr access size must be BPF_DW"},
		{name: "nor across two fields", src: withValue("0", "ldxdw %r1, [%r0+12]"), insn: 8, message: "kptr access misaligned expected=8 off=12"},
		{name: "nor by an atomic add", src: withValue("0", "mov64 %r1, 1\nlock add [%r0+8], %r1"), insn: 9,
			message: "kptr in map can only be accessed using BPF_MEM instruction mode"},
		{name: "NULL is stored into an untrusted kptr", src: withValue("0", "stdw [%r0+8], 0"), accept: true},
		{name: "another immediate is not", src: withValue("0", "stdw [%r0+8], 1"), insn: 8, message: "BPF_ST imm must be 0 when storing to kptr at off=8"},
		{name: "nor a context pointer", src: withValue("0", "stxdw [%r0+8], %r6"), insn: 8,
			message: "invalid kptr access, R6 type=ctx expected=ptr_prog_test_ref_kfunc or untrusted_ptr_prog_test_ref_kfunc"},
		{name: "what was loaded from it is stored back", src: withValue("0", "ldxdw %r1, [%r0+8]\nstxdw [%r0+8], %r1"), accept: true},
		{name: "nothing is stored into a referenced kptr", src: withValue("0", "stdw [%r0+16], 0"), insn: 8, message: "store to referenced kptr disallowed"},
		{name: "the bytes before a kptr are plain", src: withValue("0", "stdw [%r0], 1\nldxdw %r1, [%r0]"), accept: true},
		{name: "a helper may not read a kptr", src: withValue("0", "mov64 %r1, %r0\nmov64 %r2, 16\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28"), insn: 13,
			message: "kptr cannot be accessed indirectly by helper"},
		{name: "but the bytes before it", src: withValue("0", "mov64 %r1, %r0\nmov64 %r2, 8\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28"), accept: true},
		{name: "nor a spin lock", src: withValue("3", "mov64 %r1, %r0\nmov64 %r2, 12\nmov64 %r3, 0\nmov64 %r4, 0\nmov64 %r5, 0\ncall 28"), insn: 13,
			message: "bpf_spin_lock cannot be accessed directly by load/store"},
	})
}

// bpf_kptr_xchg takes a referenced kptr field of a map value at a constant offset and a
// referenced pointer of its type (or NULL), and gives the program a reference to what the field
// held (or NULL), which it must release. Measured on Linux 6.18.
func TestKptrXchgExchangesReferencedKptrs(t *testing.T) {
	xchg := func(field, r2 string) string {
		return withValue("0", "mov64 %r1, %r0\nadd64 %r1, "+field+"\n"+r2+"\ncall 194")
	}
	checkKernelCases(t, ebpf.SchedCLS, kptrMaps, []kernelCase{
		{name: "what it gives must be released", src: xchg("16", "mov64 %r2, 0"), insn: 13,
			message: "Unreleased reference id=3 alloc_insn=11\nBPF_EXIT instruction in main prog would lead to reference leak"},
		{name: "an untrusted kptr is not exchanged", src: xchg("8", "mov64 %r2, 0"), insn: 11, message: "off=8 kptr isn't referenced kptr"},
		{name: "nor plain bytes", src: xchg("0", "mov64 %r2, 0"), insn: 11, message: "off=0 doesn't point to kptr"},
		{name: "nor a context pointer given", src: xchg("16", "mov64 %r2, %r6"), insn: 11, message: "R2 type=ctx expected=ptr_, trusted_ptr_, rcu_ptr_"},
		{name: "nor a pointer not referenced", src: withValue("0", "ldxdw %r2, [%r0+16]\njeq %r2, 0, out\nmov64 %r1, %r0\nadd64 %r1, 16\ncall 194"), insn: 12,
			message: "R2 must be referenced when passed to release function"},
		{name: "nor a value without kptrs", src: withValue("1", "mov64 %r1, %r0\nadd64 %r1, 16\nmov64 %r2, 0\ncall 194"), insn: 11, message: "R1 has no valid kptr"},
		{name: "nor one of a map without BTF", src: withValue("2", "mov64 %r1, %r0\nadd64 %r1, 16\nmov64 %r2, 0\ncall 194"), insn: 11,
			message: "map 'nobtf' has to have BTF in order to use bpf_kptr_xchg"},
		{name: "nor one of another struct", src: withValue("0", "ldxdw %r2, [%r0+16]\njeq %r2, 0, out\nmov64 %r1, %r0\nadd64 %r1, 24\ncall 194"), insn: 12,
			message: "invalid kptr access, R2 type=rcu_ptr_prog_test_ref_kfunc expected=ptr_prog_test_member"},
	})
}
