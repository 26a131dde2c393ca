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

// # What is not modelled
//
// These kernel behaviours are left out or approximated; programs that depend on them may get
// another verdict than Linux gives them:
//
//   - Program types other than XDP and tc (BPF_PROG_TYPE_SCHED_CLS), the
//     kfuncs xdpsim does not provide (bpf_cast_to_kern_ctx and the other generic kfuncs), the
//     kfuncs [KfuncChecked] leaves to the simulator unverified (iterators other than the
//     number iterator), BTF-typed pointers
//     beyond their names (PTR_TO_BTF_ID fields, nf_conn's too, are read as unknown numbers,
//     with no bound on the offset, and never written), kptrs to a program's own types (local
//     kptrs), percpu_kptr and uptr fields, bpf_obj_new and the graph types,
//     arenas, exceptions, sleepable programs, freplace and BPF_PROG_TYPE_EXT.
//   - State counts: the checkpoints kept and the instructions processed follow the kernel's
//     heuristics (stack liveness, precision, the jump history limit) but not exactly; on the
//     corpus xdpsim processes a little fewer instructions in total (81,582 against 85,344).
//   - The kernel's speculative-execution checks (a root loader bypasses them), the JIT's
//     limits, helper inlining and dead-code removal in the xlated program, and the fields of
//     struct bpf_map a map pointer may read (any read is accepted).
//   - The range bpf_get_smp_processor_id returns is bounded only when Program.NrCPUs says how
//     many CPUs the machine may have (the kernel's nr_cpu_ids).
//   - Helpers that XDP or tc may call but whose prototypes are not in helpers.go are checked
//     only for initialised arguments; the pointers that per-CPU, task and cgroup storage
//     helpers return are taken as numbers.
//   - The xlated program keeps BPF_LD_[ABS|IND] as they are (the kernel expands them).
//   - The log: level 1 and 2 follow the kernel's format for what they print, but not the
//     precision-backtracking ("mark_precise") and stack-liveness lines of level 2, nor the
//     "verification time" line.
