package kfuncs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

func TestHeaderDeclaresEveryKfunc(t *testing.T) {
	src, err := os.ReadFile("include/xdpsim_kfuncs.h")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, m := range regexp.MustCompile(`(?m)^extern [\w\s]*?\**(\w+)\(`).FindAllStringSubmatch(string(src), -1) {
		declared = append(declared, m[1])
	}
	slices.Sort(declared)
	if !slices.Equal(declared, Names()) {
		t.Errorf("the header declares\n%v\nthe registry has\n%v", declared, Names())
	}
}

func TestSkbMetadataHeaderAgreesWithGo(t *testing.T) {
	src, err := os.ReadFile("include/xdp_skb_metadata.h")
	if err != nil {
		t.Fatal(err)
	}
	defines := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define (XDP_SKB_\w+)\s+\(?([0-9a-fx]+)(?:U << (\d+)\))?`).FindAllStringSubmatch(string(src), -1) {
		v, err := strconv.ParseUint(m[2], 0, 32)
		if err != nil {
			t.Fatal(err)
		}
		if m[3] != "" {
			sh, _ := strconv.Atoi(m[3])
			v <<= sh
		}
		defines[m[1]] = strconv.FormatUint(v, 10)
	}
	for name, want := range map[string]uint32{
		"XDP_SKB_METADATA_MAGIC": SkbMetadataMagic,
		"XDP_SKB_META_TIMESTAMP": SkbMetaTimestamp,
		"XDP_SKB_META_HASH":      SkbMetaHash,
		"XDP_SKB_META_VLAN":      SkbMetaVLAN,
	} {
		t.Run(name+" has the Go value", func(t *testing.T) {
			if got := defines[name]; got != strconv.FormatUint(uint64(want), 10) {
				t.Errorf("header says %q, Go says %d", got, want)
			}
		})
	}
}

// checkObject loads an object compiled from testdata/uses_kfuncs.c and checks its kfunc calls and
// their BTF prototypes (from the header) against the registry.
func checkObject(t *testing.T, path string) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	prog := spec.Programs["all_kfuncs"]
	if prog == nil {
		t.Fatal("no program all_kfuncs")
	}
	var called []string
	for _, ins := range prog.Instructions {
		if ins.IsKfuncCall() {
			called = append(called, ins.Reference())
		}
	}
	slices.Sort(called)
	called = slices.Compact(called)
	if !slices.Equal(called, Names()) {
		t.Errorf("the program calls\n%v\nthe registry has\n%v", called, Names())
	}
	for _, k := range All(Features{}) {
		t.Run(k.Name+" has the header's prototype", func(t *testing.T) {
			typ, err := spec.Types.AnyTypeByName(k.Name)
			if err != nil {
				t.Fatal(err)
			}
			fn, ok := typ.(*btf.Func)
			if !ok {
				t.Fatalf("%s is a %T", k.Name, typ)
			}
			params := fn.Type.(*btf.FuncProto).Params
			if len(params) != len(k.Args) {
				t.Fatalf("header has %d parameters, registry %d", len(params), len(k.Args))
			}
			for i, a := range k.Args {
				ptr, isPtr := btf.UnderlyingType(params[i].Type).(*btf.Pointer)
				switch a.Kind {
				case ArgCtx, ArgMem, ArgBTFPtr, ArgIn, ArgDynptr, ArgDynptrUninit:
					if !isPtr {
						t.Errorf("argument %d (%s) is not a pointer in the header", i, a.Name)
					}
				case ArgScalar, ArgMemSize, ArgConstSize:
					if isPtr {
						t.Errorf("argument %d (%s) is a pointer in the header", i, a.Name)
					}
				case ArgOut:
					if !isPtr {
						t.Fatalf("argument %d (%s) is not a pointer in the header", i, a.Name)
					}
					if n, err := btf.Sizeof(ptr.Target); err != nil || n != a.Size {
						t.Errorf("argument %d (%s) points to %d bytes in the header, %d in the registry (%v)", i, a.Name, n, a.Size, err)
					}
				}
			}
		})
	}
}

func TestCompiledHeaderMatchesTheRegistry(t *testing.T) {
	checkObject(t, "testdata/uses_kfuncs.o")
}

func TestHeadersCompileForBPF(t *testing.T) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 is not installed: the committed testdata/uses_kfuncs.o stands in for a fresh build")
	}
	out := filepath.Join(t.TempDir(), "uses_kfuncs.o")
	cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-Wall", "-Werror",
		"-I/usr/include/x86_64-linux-gnu", "-Iinclude", "-c", "testdata/uses_kfuncs.c", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	checkObject(t, out)
}
