package verifier

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

// walkBTF follows the kernel's btf_struct_walk rules on a struct made for the test: nested
// structs and arrays of structs are entered, pointer members must be read whole and give a
// pointer only when they point to a struct, unions with several members make what they hold
// untrusted, __rcu tags mark the pointer, bitfields and a trailing flexible int array give
// scalars, and every refusal carries the kernel's wording.
func TestLoadsFromAKernelStructWalkItAsTheKernelDoes(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	u64 := &btf.Int{Name: "u64", Size: 8}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	inner := &btf.Struct{Name: "inner", Size: 8, Members: []btf.Member{
		{Name: "a", Type: u32, Offset: 0}, {Name: "b", Type: u32, Offset: 32},
	}}
	obj := &btf.Struct{Name: "obj", Size: 80}
	self := &btf.Pointer{Target: obj}
	un := &btf.Union{Size: 8, Members: []btf.Member{{Name: "p", Type: self}, {Name: "v", Type: u64}}}
	obj.Members = []btf.Member{
		{Name: "x", Type: u64, Offset: 0},
		{Name: "in", Type: inner, Offset: 8 * 8},
		{Name: "arr", Type: &btf.Array{Type: inner, Nelems: 2}, Offset: 16 * 8},
		{Name: "next", Type: &btf.Typedef{Name: "obj_p", Type: self}, Offset: 32 * 8},
		{Name: "name", Type: &btf.Pointer{Target: char}, Offset: 40 * 8},
		{Name: "un", Type: un, Offset: 48 * 8},
		{Name: "flags", Type: u32, Offset: 56 * 8, BitfieldSize: 4},
		{Name: "rp", Type: &btf.Pointer{Target: &btf.TypeTag{Value: "rcu", Type: obj}}, Offset: 64 * 8},
		{Name: "tail", Type: &btf.Array{Type: u32, Nelems: 0}, Offset: 72 * 8},
	}
	scalar := btfLoad{}
	for _, c := range []struct {
		name      string
		typ       btf.Type
		off, size int
		want      btfLoad
		err       string
	}{
		{"a scalar member gives a scalar", obj, 0, 8, scalar, ""},
		{"a member of a nested struct gives a scalar", obj, 12, 4, scalar, ""},
		{"a member of the second element of an array of structs gives a scalar", obj, 28, 4, scalar, ""},
		{"a pointer to a struct gives a pointer to it", obj, 32, 8, btfLoad{ptr: true, target: "obj", member: "next"}, ""},
		{"half of a pointer member is refused", obj, 32, 4, scalar, "cannot access ptr member next with moff 32 in struct obj with off 32 size 4"},
		{"a pointer to a non-struct gives a scalar", obj, 40, 8, scalar, ""},
		{"a pointer in a union of several members is untrusted", obj, 48, 8, btfLoad{ptr: true, target: "obj", member: "p", flags: flagUntrusted}, ""},
		{"a whole bitfield gives a scalar", obj, 56, 4, scalar, ""},
		{"a byte inside a bitfield finds no field", obj, 57, 1, scalar, "struct obj doesn't have field at offset 57"},
		{"an __rcu pointer is marked rcu", obj, 64, 8, btfLoad{ptr: true, target: "obj", member: "rp", flags: flagRCU}, ""},
		{"a load crossing the end of a member is refused", obj, 4, 8, scalar, "access beyond the end of member x (mend:8) in struct obj with off 4 size 8"},
		{"a trailing flexible int array may be read past the struct", obj, 4096, 4, scalar, ""},
		{"a struct without one may not", inner, 8, 4, scalar, "access beyond struct inner at off 8 size 4"},
		{"an int is no struct", u32, 0, 4, scalar, "Type 'u32' is not a struct"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := walkBTF(c.typ, c.off, c.size)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("walkBTF(%s, off=%d, size=%d) = %+v, %v; want error %q", c.typ.TypeName(), c.off, c.size, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("walkBTF(%s, off=%d, size=%d) = %+v, %v; want %+v", c.typ.TypeName(), c.off, c.size, got, err, c.want)
			}
		})
	}
}
