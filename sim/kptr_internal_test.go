package sim

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/verifier"
)

// The kptr fields of a map value are the pointers to a struct tagged "kptr" (__kptr, referenced)
// or "kptr_untrusted" (__kptr_untrusted), in nested structs too; an untagged pointer or one with
// another tag is plain bytes; the pointer itself may be volatile.
func TestKptrFieldsAreFoundInTheValuesBTF(t *testing.T) {
	task := &btf.Struct{Name: "task_struct"}
	tagged := func(tag string) btf.Type { return &btf.Pointer{Target: &btf.TypeTag{Value: tag, Type: task}} }
	long := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	inner := &btf.Struct{Name: "inner", Size: 16, Members: []btf.Member{
		{Name: "n", Type: long},
		{Name: "ref", Type: tagged("kptr"), Offset: 64},
	}}
	value := &btf.Struct{Name: "value", Size: 48, Members: []btf.Member{
		{Name: "untrusted", Type: tagged("kptr_untrusted"), Offset: 0},
		{Name: "plain", Type: &btf.Pointer{Target: task}, Offset: 64},
		{Name: "other", Type: tagged("user"), Offset: 128},
		{Name: "in", Type: inner, Offset: 192},
		{Name: "ref", Type: &btf.Volatile{Type: tagged("kptr")}, Offset: 320},
	}}
	want := []verifier.Kptr{{Off: 0, Type: "task_struct"}, {Off: 32, Type: "task_struct", Ref: true}, {Off: 40, Type: "task_struct", Ref: true}}
	if got := valueKptrs(value); !reflect.DeepEqual(got, want) {
		t.Errorf("valueKptrs = %+v, want %+v", got, want)
	}
	if got := valueKptrs(long); got != nil {
		t.Errorf("valueKptrs of a long = %+v, want none", got)
	}
}
