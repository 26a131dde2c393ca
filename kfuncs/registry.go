package kfuncs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/vm"
)

// Kfunc is a kernel function a program may call by name (BPF_PSEUDO_KFUNC_CALL).
type Kfunc struct {
	// Name is the kfunc's name, as the program's ELF object names it.
	Name string
	// Proto is its prototype in the kernel's words (and its BTF's), as
	// "int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, u32 *hash, enum xdp_rss_hash_type *rss_type)".
	Proto string
	// Doc says in one line what it does.
	Doc string
	// Args describes the arguments r1, r2, ... in order.
	Args []Arg
	// DevBound: the kfunc reads the device's RX metadata, so the kernel only lets a device-bound
	// program call it (one loaded with BPF_F_XDP_DEV_BOUND_ONLY and the device's ifindex); the
	// verifier rejects others with [DevBoundMessage].
	DevBound bool
	// ChangesPacketData: the kfunc moves data_meta, so, as after bpf_xdp_adjust_meta, the
	// verifier must forget every packet pointer the program holds.
	ChangesPacketData bool
	// Feature is the feature switch the kfunc needs ("" for kfuncs that are in Linux; see
	// [FeatureTraits] and [FeatureExportToSkb] for proposals that never merged).
	Feature string
	// Flags are the kernel's KF_* flags for the kfunc (BTF_ID_FLAGS).
	Flags Flags
	// Types are the program types the kernel registers the kfunc for; empty means every type
	// the simulator runs (XDP and tc).
	Types []ebpf.ProgramType
	// Refused, when set, is the kernel verifier's message for a program that calls the kfunc:
	// Linux 6.18 has it but refuses it to the program types the simulator runs (measured), so the
	// simulator refuses the program too, quoting the kernel.
	Refused string
	// Ret is what the kfunc returns, for the verifier: an integer, nothing, or a pointer; RetType
	// names what a returned pointer points to ("struct nf_conn"; "void" for memory whose size
	// an argument gives, "int" for bpf_iter_num_next's value).
	Ret     RetKind
	RetType string
	// Impl runs the kfunc. It finds the frame in the machine's Host ([Frame]).
	Impl vm.Helper
}

// KfuncFlags are the kernel's kfunc flags: [Flags] under the name the verifier first gave them.
type KfuncFlags = Flags

// The verifier's first names for the flags.
const (
	KfAcquire     = KFAcquire
	KfRelease     = KFRelease
	KfRetNull     = KFRetNull
	KfTrustedArgs = KFTrustedArgs
)

// RetKind says what a kfunc returns.
type RetKind uint8

const (
	// RetInt is an integer (the default).
	RetInt RetKind = iota
	// RetVoid is nothing.
	RetVoid
	// RetBTFPtr is a pointer to a kernel object of type RetType (struct nf_conn *): a reference
	// when the kfunc is KFAcquire, maybe NULL when it is KFRetNull.
	RetBTFPtr
	// RetMem is a pointer to memory of RetType (void: as many bytes as an ArgConstSize
	// argument says; int: 4 bytes), maybe NULL when the kfunc is KFRetNull.
	RetMem
)

// ArgKind says what an argument is.
type ArgKind uint8

const (
	// ArgCtx is the program's context, struct xdp_md * (the kernel passes its xdp_buff).
	ArgCtx ArgKind = iota
	// ArgScalar is a number.
	ArgScalar
	// ArgOut is a pointer to Size bytes the kfunc writes (on success).
	ArgOut
	// ArgMem is a pointer to memory whose size is the next argument (the kernel's "name__sz"
	// pair); the kfunc reads it, or writes it when Write is set.
	ArgMem
	// ArgMemSize is the size of the preceding ArgMem, in bytes.
	ArgMemSize
	// ArgIn is a pointer to Size bytes the kfunc reads (a struct it takes by pointer).
	ArgIn
	// ArgBTFPtr is a pointer to a kernel object of type Struct that a kfunc handed to the program
	// (an acquired reference, say: struct nf_conn *).
	ArgBTFPtr
	// ArgDynptr is a pointer to an initialised struct bpf_dynptr on the stack.
	ArgDynptr
	// ArgDynptrUninit is a pointer to a struct bpf_dynptr on the stack that the kfunc initialises
	// (the kernel's "ptr__uninit").
	ArgDynptrUninit
	// ArgConstSize is a size the verifier must know as a constant (the kernel's "name__szk"),
	// of the preceding ArgMem.
	ArgConstSize
	// ArgIter is a pointer to an open-coded iterator (struct bpf_iter_<kind>) on the stack:
	// uninitialised for a KFIterNew kfunc, initialised for the others.
	ArgIter
	// ArgIRQFlag is a pointer to a stack slot holding saved interrupt flags (the kernel's
	// "flags__irq_flag").
	ArgIRQFlag
)

// ArgKindNames names the argument kinds, for listings.
var ArgKindNames = map[ArgKind]string{ArgCtx: "ctx", ArgScalar: "scalar", ArgOut: "out", ArgMem: "mem", ArgMemSize: "mem size", ArgIn: "in",
	ArgBTFPtr: "btf ptr", ArgDynptr: "dynptr", ArgDynptrUninit: "dynptr (uninit)", ArgConstSize: "const size",
	ArgIter: "iterator", ArgIRQFlag: "irq flag"}

// Arg is one argument of a kfunc.
type Arg struct {
	// Name is the argument's name in the prototype.
	Name string
	// Type is its C type, as "u32 *".
	Type string
	Kind ArgKind
	// Size is the number of bytes an ArgOut or ArgIn pointer must reach.
	Size int
	// Write: an ArgMem the kfunc writes.
	Write bool
	// Nullable: the pointer may be NULL (the kernel's "__nullable" and "__opt" suffixes).
	Nullable bool
	// Struct is the type an ArgBTFPtr points to ("struct nf_conn___init").
	Struct string
}

// CheckArgs checks the pointer arguments among r1..r5 as the kernel's verifier would: each ArgOut must
// point to Size writable bytes, each ArgMem to as many bytes as its size argument says (writable when
// the kfunc writes them). It returns the machine's fault for the first bad one. The context argument is
// not checked: the host knows its context, the kfuncs do not.
func (k *Kfunc) CheckArgs(m *vm.Machine, r1, r2, r3, r4, r5 uint64) error {
	regs := [5]uint64{r1, r2, r3, r4, r5}
	for i, a := range k.Args {
		switch a.Kind {
		case ArgOut, ArgIn:
			if _, err := m.Bytes(regs[i], a.Size, a.Kind == ArgOut); err != nil {
				return err
			}
		case ArgMem:
			if a.Nullable && regs[i] == 0 {
				continue
			}
			if i+1 < len(regs) {
				if _, err := memArg(m, regs[i], regs[i+1], a.Write); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// memArg gives the memory of an ArgMem/ArgMemSize pair; a size of 0 needs no memory at all.
func memArg(m *vm.Machine, ptr, size uint64, write bool) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	if size > 1<<31 {
		return nil, tooLarge(size)
	}
	return m.Bytes(ptr, int(size), write)
}

func tooLarge(size uint64) error {
	return fmt.Errorf("memory argument of %d bytes is larger than any region", size)
}

// DevBoundMessage is the kernel verifier's message for a program that calls a [Kfunc.DevBound] kfunc
// without being device-bound (measured on 6.18; the load fails with EINVAL).
const DevBoundMessage = "metadata kfuncs require device-bound program"

// The feature switches for kfuncs of proposals that never merged into Linux, as `--feature` takes
// them.
const (
	// FeatureTraits enables the packet-traits kfuncs of the "traits: Per packet metadata KV
	// store" RFC (Arthur Fabre, 2025).
	FeatureTraits = "traits"
	// FeatureTraitsV1 enables them with the semantics and layout of the RFC's first version
	// (March 2025) instead of the second (April 2025).
	FeatureTraitsV1 = "traits-v1"
	// FeatureExportToSkb enables bpf_xdp_metadata_export_to_skb, after Stanislav Fomichev's
	// 2022 "xdp: hints via kfuncs" RFC.
	FeatureExportToSkb = "export-to-skb"
	// FeatureControlMap enables BPF_MAP_TYPE_CONTROL, after Saeed Mahameed's 2019 "BPF Control
	// MAP" proposal: not a kfunc, but a switch of the same kind (package sim/maps and sim/device
	// implement it).
	FeatureControlMap = "control-map"
)

// Features are the feature switches a run has on. The zero value has every proposal off.
type Features struct {
	// Traits: the packet-traits kfuncs are available.
	Traits bool
	// TraitsV1: traits follow the RFC's first version: 2-, 4- and 8-byte values, and traits live
	// beside the XDP metadata (up to data_meta) instead of excluding it. Otherwise they follow
	// the second version: 0-, 4- and 8-byte values, and traits and metadata exclude each other.
	TraitsV1 bool
	// ExportToSkb: bpf_xdp_metadata_export_to_skb is available.
	ExportToSkb bool
	// ControlMap: programs may declare BPF_MAP_TYPE_CONTROL maps.
	ControlMap bool
}

// FeatureNames lists the names Enable takes.
func FeatureNames() []string {
	return []string{FeatureControlMap, FeatureExportToSkb, FeatureTraits, FeatureTraitsV1}
}

// Enable turns on the feature of that name (see [FeatureNames]); "traits-v1" turns on traits too.
func (f *Features) Enable(name string) error {
	switch name {
	case FeatureTraits:
		f.Traits = true
	case FeatureTraitsV1:
		f.Traits, f.TraitsV1 = true, true
	case FeatureExportToSkb:
		f.ExportToSkb = true
	case FeatureControlMap:
		f.ControlMap = true
	default:
		return fmt.Errorf("unknown feature %q (known: %s)", name, strings.Join(FeatureNames(), ", "))
	}
	return nil
}

// Enabled reports whether the named feature is on; "" (no feature needed) is always on.
func (f Features) Enabled(name string) bool {
	switch name {
	case "":
		return true
	case FeatureTraits:
		return f.Traits
	case FeatureTraitsV1:
		return f.Traits && f.TraitsV1
	case FeatureExportToSkb:
		return f.ExportToSkb
	case FeatureControlMap:
		return f.ControlMap
	}
	return false
}

// ErrUnknownKfunc is matched by errors.Is when a program calls a kfunc xdpsim does not provide.
var ErrUnknownKfunc = errors.New("kfunc not provided by xdpsim")

// ErrFeatureOff is matched by errors.Is when a program calls a kfunc whose feature switch is off.
var ErrFeatureOff = errors.New("kfunc needs a feature that is off")

// FeatureError says which feature a kfunc needs. It matches ErrFeatureOff.
type FeatureError struct {
	Kfunc   string
	Feature string
}

func (e *FeatureError) Error() string {
	return fmt.Sprintf("kfunc %s belongs to a proposal that never merged into Linux; enable it with --feature %s",
		e.Kfunc, e.Feature)
}

// Is lets errors.Is match ErrFeatureOff.
func (e *FeatureError) Is(target error) bool { return target == ErrFeatureOff }

// entry is a registered kfunc: its description, and how to make its implementation for the features.
type entry struct {
	desc Kfunc
	impl func(Features) vm.Helper
}

var registry = map[string]*entry{}

func register(k Kfunc, impl func(Features) vm.Helper) {
	if _, dup := registry[k.Name]; dup {
		panic("kfuncs: " + k.Name + " registered twice")
	}
	if k.Ret == RetInt && strings.HasPrefix(k.Proto, "void "+k.Name+"(") {
		k.Ret = RetVoid // the prototype says so
	}
	registry[k.Name] = &entry{desc: k, impl: impl}
}

// Lookup finds the kfunc of that name for a run with these features. It fails with an error wrapping
// ErrUnknownKfunc for a name xdpsim does not know, and with a *FeatureError when the kfunc's feature
// is off; both name the kfunc.
func Lookup(name string, features Features) (*Kfunc, error) {
	e, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("kfunc %s: %w (it provides %s)", name, ErrUnknownKfunc, strings.Join(Names(), ", "))
	}
	if !features.Enabled(e.desc.Feature) {
		return nil, &FeatureError{Kfunc: name, Feature: e.desc.Feature}
	}
	return e.make(features), nil
}

// For reports whether a program of type t may call the kfunc.
func (k *Kfunc) For(t ebpf.ProgramType) bool {
	if len(k.Types) == 0 {
		return true
	}
	for _, kt := range k.Types {
		if kt == t {
			return true
		}
	}
	return false
}

func (e *entry) make(features Features) *Kfunc {
	k := e.desc
	k.Args = append([]Arg(nil), e.desc.Args...)
	k.Types = append([]ebpf.ProgramType(nil), e.desc.Types...)
	k.Impl = e.impl(features)
	return &k
}

// Names lists every kfunc xdpsim knows, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// All returns every kfunc xdpsim knows, sorted by name, with implementations made for features,
// whether or not its feature is on (see [Features.Enabled] and [Kfunc.Feature]): for listing and
// documentation.
func All(features Features) []*Kfunc {
	var out []*Kfunc
	for _, n := range Names() {
		out = append(out, registry[n].make(features))
	}
	return out
}
