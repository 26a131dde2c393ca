// Package maps implements BPF maps with the Linux kernel's semantics, for the simulator's helpers
// (bpf_map_lookup_elem and friends, called by a program running in the VM) and for the Go API and
// command line (preloading, inspecting and dumping maps).
//
// # Model
//
// A Map is created from a Spec (the attributes of BPF_MAP_CREATE, with cilium/ebpf's map type
// constants) or from a cilium/ebpf MapSpec, for a number of simulated CPUs. New applies the
// kernel's checks, so a spec the kernel refuses fails here with the same errno (see SpecError).
// Supported types: array, percpu_array, hash, percpu_hash, lru_hash, lru_percpu_hash, lpm_trie,
// prog_array, array_of_maps, hash_of_maps, queue, stack, ringbuf, perf_event_array, devmap,
// devmap_hash, cpumap and xskmap.
//
// Operations come in two flavours, as in the kernel:
//
//   - Program side (helpers): Lookup, Update, Delete, Push/Pop/Peek, ForEach, LookupObject, and
//     the RingBuf and PerfEventArray outputs. They take the CPU the program runs on, act on that
//     CPU's value of per-CPU maps, and return a value slice that aliases the map's storage, so
//     that the VM can hand the program a pointer it reads and writes in place. Lookup never
//     allocates. Array values never move; a hash element's value stays where it is until the
//     element is deleted (an update writes it in place).
//   - User side (the bpf syscall): LookupPerCPU and UpdatePerCPU (all CPUs' values at once),
//     NextKey, Iterate, LookupAndDelete, UpdateObject, and Dump / Load for JSON.
//
// Errors are errno.Errno values (ENOENT, EEXIST, E2BIG, EINVAL, ...), the positive kernel errno
// numbers; Errno.Neg gives what a helper returns to the program, and errors.Is matches them
// against syscall.Errno too.
//
// # Kernel behaviour reproduced
//
// Update flags (UpdateAny, UpdateNoExist, UpdateExist, UpdateLock) and their errors per map type;
// array indexes out of range (E2BIG on update, ENOENT on lookup); full hash maps (E2BIG); LRU
// maps evicting with the kernel's bpf_lru_list algorithm (common LRU with per-CPU local lists,
// or per-CPU lists with BPF_F_NO_COMMON_LRU), including that every LRU update takes a free
// element first; hash iteration in bucket order with the kernel's jhash (seed 0, which is the
// kernel's order for BPF_F_ZERO_SEED maps); LPM trie longest-prefix matching, intermediate nodes
// and post-order get_next_key; queue and stack order and BPF_EXIST overwrite; ring buffer record
// headers, 8-byte alignment, positions, wakeups and space accounting; per-CPU values; and the
// redirect maps' own update rules (a devmap ifindex or cpumap qsize of 0 empties the slot).
//
// Not modelled: concurrency (a Map is used by one goroutine at a time), BTF-managed special fields
// other than bpf_spin_lock (timers, kptrs, ...), map-in-map and tail-call program compatibility
// beyond the inner map's attributes, and real devices, sockets and perf events behind the redirect
// and perf maps (their values are stored; the simulator's data path interprets them).
package maps
