package verifier

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/vm"
)

// Program is what the verifier checks: a loaded program and what the loader knows about the
// objects it references.
type Program struct {
	// Name of the program, for messages.
	Name string
	// Insns are the instructions as loaded (bpf-to-bpf calls linked, CO-RE applied). A lddw of a
	// map (pseudo sources map_fd and map_idx) has the map's index in Maps as its immediate; one of
	// a map value (map_value, map_idx_value) the index and, in the second word, the offset.
	Insns []vm.Instruction
	// Type and AttachType are the program's BPF_PROG_TYPE and expected attach type.
	Type       ebpf.ProgramType
	AttachType ebpf.AttachType
	// Maps describes the maps the lddw instructions name.
	Maps []Map
	// Kfuncs are the kfuncs that kfunc calls name, by the call's immediate.
	Kfuncs map[int32]*kfuncs.Kfunc
	// Funcs is the BTF function information: one entry per function, the entry point first.
	// Without it every function is a static one.
	Funcs []Func
	// Lines gives the C source line of an instruction ("file.c:12: text"), "" when unknown.
	Lines func(pc int) string
	// DevBound says the program is loaded for one device (BPF_F_XDP_DEV_BOUND_ONLY).
	DevBound bool
	// Frags says the program handles multi-buffer packets (BPF_F_XDP_HAS_FRAGS).
	Frags bool
	// GPL says the program's license is GPL-compatible (needed by some helpers).
	GPL bool
	// WritableBTF lists, for the kernel structs a program reaches through kfunc pointers
	// ("nf_conn", "nf_conn___init"), the one member the kernel lets programs write (its
	// btf_struct_access: nf_conn's mark), as laid out in the kernel BTF the program is relocated
	// against. Other structs, and these without an entry, are read-only.
	WritableBTF map[string]BTFMember
	// KernelBTF gives the kernel BTF the program is relocated against (nil when there is none):
	// loads from a PTR_TO_BTF_ID walk its structs as the kernel's btf_struct_access does. It is
	// called only when such a load is verified.
	KernelBTF func() *btf.Spec
	// NrCPUs is the number of possible CPUs of the machine (the kernel's nr_cpu_ids), which
	// bounds what bpf_get_smp_processor_id returns; 0 leaves it unbounded.
	NrCPUs int
}

// BTFMember is a member of a kernel struct: Owner names the struct in the kernel's messages.
type BTFMember struct {
	Owner     string
	Off, Size int
}

// Map describes a map as the verifier needs it.
type Map struct {
	Name       string
	Type       ebpf.MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// SpinLock is the offset of the struct bpf_spin_lock in the value, -1 without one; Timer
	// likewise for struct bpf_timer.
	SpinLock int
	Timer    int
	// Kptrs are the kernel object pointer fields of the value, in offset order.
	Kptrs []Kptr
	// BTF says the map was created with BTF of its key and value (a BTF-defined map, a global
	// data section); bpf_kptr_xchg takes no value of a map without.
	BTF bool
	// Inner describes the maps a map-in-map holds.
	Inner *Map
	// ReadOnly says the program may not write the values (BPF_F_RDONLY_PROG, a frozen .rodata).
	ReadOnly bool
	// WriteOnly says the program may not read the values (BPF_F_WRONLY_PROG).
	WriteOnly bool
	// Data is the content of a read-only array map's single value (.rodata), so that loads of
	// constants from it are known, as the kernel knows them for frozen maps; nil otherwise.
	Data []byte
	// Control says the map is a BPF_MAP_TYPE_CONTROL map (a proposal that never merged into
	// Linux, behind --feature control-map): only bpf_map_lookup_elem and bpf_map_update_elem
	// may be given it.
	Control bool
}

// Kptr is a kptr field of a map value: a pointer to a kernel object the program may load,
// store (an untrusted one) or exchange with bpf_kptr_xchg (a referenced one).
type Kptr struct {
	// Off is its offset in the value.
	Off int
	// Type names the struct it points to.
	Type string
	// Ref says it holds a reference (__kptr, BTF type tag "kptr"); else it is an untrusted
	// pointer (__kptr_untrusted, type tag "kptr_untrusted").
	Ref bool
}

// FuncArgKind is what a global function's argument is, from its BTF signature.
type FuncArgKind uint8

const (
	// FuncArgScalar is an integer or enum.
	FuncArgScalar FuncArgKind = iota
	// FuncArgCtx is a pointer to the program's context.
	FuncArgCtx
	// FuncArgMem is a pointer to Size bytes of memory (a pointer to a struct or an integer);
	// the callee must check it for NULL unless Nonnull.
	FuncArgMem
	// FuncArgDynptr is a struct bpf_dynptr pointer.
	FuncArgDynptr
	// FuncArgOther is anything else: the kernel refuses such global functions.
	FuncArgOther
)

// FuncArg is one argument of a global function.
type FuncArg struct {
	Name    string
	Kind    FuncArgKind
	Size    uint32
	Nonnull bool
}

// Func is a function of the program, from BTF func info.
type Func struct {
	// Insn is the index of its first instruction.
	Insn int
	Name string
	// Global functions (non-static in C) are verified once, against their signature; static
	// ones are verified at each call as part of the caller.
	Global bool
	Args   []FuncArg
	// RetVoid says the function returns nothing.
	RetVoid bool
}

// Options change how the verifier runs.
type Options struct {
	// LogLevel is the kernel's log_level: 0 only the error, 1 the path to an error and the
	// statistics, 2 every instruction with the registers it touches.
	LogLevel int
	// MaxInsns is the limit of processed instructions; 0 is the kernel's 1,000,000.
	MaxInsns int
}

// Stats are the figures of the kernel's final log line.
type Stats struct {
	Processed        int
	MaxStatesPerInsn int
	TotalStates      int
	PeakStates       int
	MarkRead         int
	// StackDepth is the stack each function uses, in bytes, as "stack depth" prints it.
	StackDepth []int
}
