package sim

import (
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/sim/corebtf"
	"github.com/xdpsim/xdpsim/verifier"
)

// memberOffset finds a member of a struct by name, looking inside anonymous unions and structs, and
// returns its offset in bytes.
func memberOffset(st btf.Type, name string) (int, bool) {
	var members []btf.Member
	switch t := btf.UnderlyingType(st).(type) {
	case *btf.Struct:
		members = t.Members
	case *btf.Union:
		members = t.Members
	default:
		return 0, false
	}
	for _, m := range members {
		if m.Name == name {
			return int(m.Offset.Bytes()), true
		}
		if m.Name == "" {
			if off, ok := memberOffset(m.Type, name); ok {
				return int(m.Offset.Bytes()) + off, true
			}
		}
	}
	return 0, false
}

// TestSkbRewriteOffsetsMatchBTF holds the kernel offsets the __sk_buff rewrites use
// (verifier.SkbKernelOffsets) to the simulator's Linux 6.18 BTF.
func TestSkbRewriteOffsetsMatchBTF(t *testing.T) {
	spec, err := corebtf.Spec()
	if err != nil {
		t.Fatal(err)
	}
	offs := verifier.SkbKernelOffsets()
	names := make([]string, 0, len(offs))
	for n := range offs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		want := offs[name]
		t.Run("offsetof "+name+" is as the rewrites say", func(t *testing.T) {
			typ, member, _ := strings.Cut(name, ".")
			var st *btf.Struct
			if err := spec.TypeByName(typ, &st); err != nil {
				t.Fatal(err)
			}
			got, ok := memberOffset(st, member)
			if !ok {
				t.Fatalf("struct %s has no member %s", typ, member)
			}
			if got != want {
				t.Errorf("the 6.18 BTF says %d, the rewrites use %d", got, want)
			}
		})
	}
}
