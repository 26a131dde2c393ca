// Package verifier checks eBPF programs as the Linux kernel's verifier does, and rejects what
// Linux rejects with the kernel's words.
//
// It is an abstract interpreter over the program's instructions that follows every path as the
// kernel's does: per register and stack slot it tracks the kernel's value model (a tnum and
// signed/unsigned 64- and 32-bit bounds for scalars; typed pointers to the context, the packet,
// map values, the stack, memory and kernel objects, with ids, ranges and references), refines
// both sides of every branch, checks every memory access, every helper and kfunc call against
// its prototype, and every rule of the program's type. States already shown safe prune the
// search; the kernel's limits (1,000,000 processed instructions, 512 bytes of stack per frame,
// 8 frames) hold.
//
// The input is a [Program]: the instructions after loading (maps resolved to indexes into
// [Program.Maps], kfunc calls to [Program.Kfuncs]), the program and attach types, BTF function
// and line information. [Verify] returns the [Result] (the log, the statistics and the program
// after the context rewriting the kernel applies: the "xlated" program) or a *[Error] naming the
// instruction, its source line and the kernel's message.
//
// Instruction indexes are the kernel's everywhere: a 64-bit immediate load (lddw) takes two.
//
// The rules and wordings come from Linux 6.18 (kernel/bpf/verifier.c, kernel/bpf/tnum.c,
// net/core/filter.c) and were checked against that kernel's verifier; the code is our own.
// The policy is the privileged one: a loader with CAP_BPF and CAP_PERFMON (root).
package verifier
