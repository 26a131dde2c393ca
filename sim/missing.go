package sim

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim/corebtf"
)

// MissingError is the load error of a program that calls helpers or kfuncs the simulator does not
// provide for its type: it names every one of them at once, each with its helper number and the
// instruction and source line of its first call, so that one load says all that is missing.
// errors.Is matches kfuncs.ErrUnknownKfunc and kfuncs.ErrFeatureOff through it when a kfunc is
// unknown or behind a feature switch that is off.
type MissingError struct {
	// Type is the program's type; Calls are the missing callees in the order of their first call.
	Type  ebpf.ProgramType
	Calls []MissingCall
}

// MissingCall is one helper or kfunc a program calls that the simulator does not provide.
type MissingCall struct {
	// Name is the helper's C name ("bpf_skb_vlan_push"), or the kfunc's.
	Name string
	// Helper is the helper's number, or -1 for a kfunc.
	Helper int32
	// Insn is the raw instruction slot of the first call, Line its source line ("" when unknown).
	Insn int
	Line string
	// Err is, for a kfunc, why it did not resolve (wrapping kfuncs.ErrUnknownKfunc, or a
	// *kfuncs.FeatureError).
	Err error
	// Note says more when there is more to say: the feature switch a kfunc needs, or the program
	// types the kernel offers it to.
	Note string
}

func (c MissingCall) String() string {
	var b strings.Builder
	if c.Helper >= 0 {
		name := c.Name
		if name == "" {
			name = "unknown helper"
		}
		fmt.Fprintf(&b, "%s (#%d)", name, c.Helper)
	} else {
		fmt.Fprintf(&b, "kfunc %s", c.Name)
	}
	fmt.Fprintf(&b, " at instruction %d%s", c.Insn, lineSuffix(c.Line))
	if c.Note != "" {
		b.WriteString(": " + c.Note)
	}
	return b.String()
}

func (e *MissingError) Error() string {
	var helpers, kfns int
	for _, c := range e.Calls {
		if c.Helper >= 0 {
			helpers++
		} else {
			kfns++
		}
	}
	what := "helpers"
	switch {
	case helpers > 0 && kfns > 0:
		what = "helpers and kfuncs"
	case kfns > 1:
		what = "kfuncs"
	case kfns == 1:
		what = "kfunc"
	case helpers == 1:
		what = "helper"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "calls %d %s the simulator does not provide for %s programs (see README, \"Helpers and kfuncs\"):",
		len(e.Calls), what, typeWord(e.Type))
	for _, c := range e.Calls {
		b.WriteString("\n  " + c.String())
	}
	return b.String()
}

// Unwrap gives the kfuncs' lookup errors, so that errors.Is finds kfuncs.ErrUnknownKfunc and
// kfuncs.ErrFeatureOff.
func (e *MissingError) Unwrap() []error {
	var out []error
	for _, c := range e.Calls {
		if c.Err != nil {
			out = append(out, c.Err)
		}
	}
	return out
}

// sortCalls orders missing callees by their first call.
func sortCalls(calls []MissingCall) {
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].Insn < calls[j].Insn })
}

// errKfuncType is the lookup error of a kfunc the kernel does not offer to the program's type.
var errKfuncType = errors.New("not offered to programs of this type")

// errKfuncRefused is the lookup error of a kfunc the kernel has but refuses (kfuncs.Kfunc.Refused).
var errKfuncRefused = errors.New("refused by the kernel")

// kfuncNote is what the load error says about a kfunc that did not resolve.
func kfuncNote(t ebpf.ProgramType, name string, k *kfuncs.Kfunc, err error) string {
	var fe *kfuncs.FeatureError
	if why, ok := kfuncs.NotSimulated()[name]; ok && t == ebpf.XDP && k == nil {
		return "Linux 6.18 offers it to XDP programs, the simulator does not: it " + why
	}
	if k == nil && errors.Is(err, kfuncs.ErrUnknownKfunc) {
		switch {
		case !linuxKfunc(name):
			return "Linux 6.18 has no kfunc of that name"
		case t == ebpf.XDP: // the simulator provides or lists every kfunc Linux offers XDP
			return "a kfunc of Linux 6.18 that it does not offer to XDP programs either"
		}
	}
	switch {
	case errors.As(err, &fe):
		return fe.Error()
	case errors.Is(err, errKfuncRefused) && k != nil:
		return fmt.Sprintf("Linux 6.18 refuses it to %s programs too (%q, measured)", "XDP and tc", k.Refused)
	case errors.Is(err, errKfuncType) && k != nil:
		var types []string
		for _, t := range k.Types {
			types = append(types, typeWord(t))
		}
		return "the kernel offers it to " + strings.Join(types, " and ") + " programs only"
	}
	return ""
}

// notSimulated lists, with the reason, the helpers Linux 6.18 offers XDP programs that the
// simulator does not (measured with BPF_PROG_LOAD on 6.18: kernel/helpers_offered_test.go holds
// the simulator's table to the kernel's). The README lists them too.
var notSimulated = map[asm.BuiltinFunc]string{
	asm.FnPerfEventRead:              "reads a perf event counter: the simulated host has no perf events",
	asm.FnPerfEventReadValue:         "reads a perf event counter: the simulated host has no perf events",
	asm.FnCurrentTaskUnderCgroup:     "needs cgroup arrays and the task's cgroup hierarchy",
	asm.FnGetCurrentAncestorCgroupId: "needs the task's cgroup hierarchy, which result.Task does not describe",
	asm.FnGetNsCurrentPidTgid:        "needs the task's pid namespace, which result.Task does not describe",
	asm.FnSendSignal:                 "signals the current task (a test run's caller): nothing to simulate",
	asm.FnSendSignalThread:           "signals the current thread (a test run's caller): nothing to simulate",
	asm.FnGetTaskStack:               "needs a task's kernel stack",
	asm.FnGetCurrentTaskBtf:          "returns a trusted task_struct the simulator does not lay out",
	asm.FnTaskPtRegs:                 "needs a task's registers",
	asm.FnGetBranchSnapshot:          "needs the CPU's last branch records",
	asm.FnFindVma:                    "needs a task's memory map",
	asm.FnSnprintfBtf:                "needs kernel objects described by BTF",
	asm.FnPerCpuPtr:                  "needs per-CPU kernel symbols (ksyms are not simulated)",
	asm.FnThisCpuPtr:                 "needs per-CPU kernel symbols (ksyms are not simulated)",
	asm.FnTaskStorageGet:             "needs task storage maps",
	asm.FnTaskStorageDelete:          "needs task storage maps",
	asm.FnCgrpStorageGet:             "needs cgroup storage maps",
	asm.FnCgrpStorageDelete:          "needs cgroup storage maps",
	asm.FnKptrXchg:                   "needs kptr fields in map values",
	asm.FnUserRingbufDrain:           "needs user ring buffer maps",
}

// helperNote is what the load error says about a helper the simulator lacks for type t: why, when
// Linux offers it to XDP programs; that Linux does not either, when it does not (the simulator's
// XDP table and notSimulated together are the kernel's offer: kernel/helpers_offered_test.go).
func helperNote(t ebpf.ProgramType, id int32) string {
	if t != ebpf.XDP {
		return ""
	}
	if why, ok := notSimulated[asm.BuiltinFunc(id)]; ok {
		return "Linux 6.18 offers it to XDP programs, the simulator does not: it " + why
	}
	return fmt.Sprintf("Linux 6.18 does not offer it to XDP programs either (the kernel: \"program of this type cannot use helper %s#%d\")", helperName(id), id)
}

// linuxKfunc says whether the simulator's Linux 6.18 BTF (sim/corebtf) has a kfunc of that name: a
// function tagged bpf_kfunc. Only load errors ask, so the BTF is read then.
func linuxKfunc(name string) bool {
	_, ok := linuxKfuncID(name)
	return ok
}

// linuxKfuncID is the BTF id of the kfunc of that name in the simulator's Linux 6.18 BTF.
func linuxKfuncID(name string) (btf.TypeID, bool) {
	spec, err := corebtf.Spec()
	if err != nil {
		return 0, false
	}
	return kfuncID(spec, name)
}

// kfuncBTFID is the BTF id of the kfunc of that name in the kernel BTF the object is loaded
// against.
func (o *Object) kfuncBTFID(name string) (btf.TypeID, bool) {
	spec, err := o.kernelBTF()
	if err != nil {
		return 0, false
	}
	return kfuncID(spec, name)
}

// kfuncID is the id of the function tagged bpf_kfunc of that name in spec.
func kfuncID(spec *btf.Spec, name string) (btf.TypeID, bool) {
	var fn *btf.Func
	if name == "" || spec.TypeByName(name, &fn) != nil || !slices.Contains(fn.Tags, "bpf_kfunc") {
		return 0, false
	}
	id, err := spec.TypeID(fn)
	return id, err == nil
}

// NotSimulated lists the helpers Linux 6.18 offers programs of type t that the simulator lacks,
// each with the reason; nil for a type the simulator does not run.
func NotSimulated(t ebpf.ProgramType) map[int32]string {
	if t != ebpf.XDP {
		return nil
	}
	out := map[int32]string{}
	for f, why := range notSimulated {
		out[helperID(f)] = why
	}
	return out
}

// Helpers lists the helper numbers the simulator provides programs of type t.
func Helpers(t ebpf.ProgramType) []int32 {
	var ids []int32
	for id := range baseHelpers {
		ids = append(ids, id)
	}
	for id := range helperTable(t) {
		if _, dup := baseHelpers[id]; !dup {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
