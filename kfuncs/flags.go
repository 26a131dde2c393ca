package kfuncs

import (
	"strings"

	"github.com/cilium/ebpf"
)

// Flags are a kfunc's KF_* flags (include/linux/btf.h), as the kernel registers the kfunc with
// BTF_ID_FLAGS: what the verifier checks of its calls and of the references it hands out.
type Flags uint32

// The flags' values are the kernel's.
const (
	// KFAcquire: the kfunc returns a reference the program must release (or hand to a KFRelease
	// kfunc) on every path.
	KFAcquire Flags = 1 << 0
	// KFRelease: the kfunc releases the reference its first pointer argument holds.
	KFRelease Flags = 1 << 1
	// KFRetNull: the returned pointer may be NULL and must be checked before use.
	KFRetNull Flags = 1 << 2
	// KFTrustedArgs: pointer arguments must be trusted (from an acquire kfunc or the context),
	// unmodified.
	KFTrustedArgs Flags = 1 << 4
	// KFSleepable: the kfunc may sleep, so only sleepable programs may call it.
	KFSleepable Flags = 1 << 5
	// KFDestructive: the kfunc does something destructive (needs CAP_SYS_BOOT).
	KFDestructive Flags = 1 << 6
	// KFRCU: the kfunc takes RCU-protected or trusted pointers.
	KFRCU Flags = 1 << 7
	// KFIterNew, KFIterNext and KFIterDestroy: the kfunc is an open-coded iterator's
	// constructor, next method or destructor; its first argument is the iterator on the stack.
	KFIterNew     Flags = 1 << 8
	KFIterNext    Flags = 1 << 9
	KFIterDestroy Flags = 1 << 10
)

var flagNames = []struct {
	f    Flags
	name string
}{{KFAcquire, "KF_ACQUIRE"}, {KFRelease, "KF_RELEASE"}, {KFRetNull, "KF_RET_NULL"},
	{KFTrustedArgs, "KF_TRUSTED_ARGS"}, {KFSleepable, "KF_SLEEPABLE"}, {KFDestructive, "KF_DESTRUCTIVE"}, {KFRCU, "KF_RCU"},
	{KFIterNew, "KF_ITER_NEW"}, {KFIterNext, "KF_ITER_NEXT"}, {KFIterDestroy, "KF_ITER_DESTROY"}}

// String joins the flags' kernel names with " | ", as BTF_ID_FLAGS lists them.
func (f Flags) String() string {
	var names []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, " | ")
}

// xdpOnly is the Types of kfuncs the kernel registers for XDP programs alone.
var xdpOnly = []ebpf.ProgramType{ebpf.XDP}
