// Package device models the simulated network devices and what sits on their hooks, apart from
// running programs: the NIC model, the devices' attributes as the BPF control map proposal exposes
// them, libxdp's multi-program dispatcher as libxdp 1.3.1 (Debian's xdp-tools) builds it, and
// bpf_mprog's (tcx, netkit) and netkit's attach rules ([Registry]).
// Package sim runs programs on what this package describes and plans; this package knows nothing
// of running programs.
//
// # The NIC model
//
// A [Profile] is a driver: which RX-metadata hints its xdp_metadata_ops give ([ComputeHints]:
// timestamp, the [Toeplitz] RSS hash and type, the VLAN tag it strips), and its [DriverFacts]:
// the xdp-features, xsk-features and zero-copy segments it declares, its MTU limits and the one XDP
// puts on programs without frags support, its queues, rings and RSS sizes (veth, mlx5, ice, igc,
// virtio_net, none; veth and lo measured on Linux 6.18 by package kernel's tests). A [Netdev] is
// one device of a profile with its configuration; [Netdev.Receive] gives what it makes of a frame
// (hints, the frame as XDP sees it, the RX queue its indirection table picks, [Queue]). Package
// kfuncs defines the hint values ([kfuncs.RxHints]) the way the kernel's core defines
// xdp_metadata_ops; this package fills them, as drivers do.
//
// # Attributes and the control interface
//
// Every device exposes its attributes as one value, struct if_xdp_attributes ([Layout]): a layout
// described once (the members table), from which come the C header (include/xdpsim_control.h), the
// BTF ([Layout.BTF]), the encoding ([Netdev.Lookup]) and the decoding ([Netdev.Update]). It grows
// only at its end (versions 1 and 2); a client of an older layout gets its prefix, and a [Client]
// finds members by name through the BTF. [Set] is a host's devices, kept in state files
// ([LoadState], [Set.WriteState]). docs/control.md lists the rules and every modelling choice.
//
// # The dispatcher
//
// libxdp puts several XDP programs on one interface by loading a dispatcher program with ten stub
// functions (prog0 ... prog9) and replacing the first N of them with the component programs
// (freplace). [Build] computes what libxdp computes before it loads anything: the order of the
// components, the slot each gets, the chain-call bitmap of each slot, whether the dispatcher is
// loaded with frags support, and the configuration it writes into the dispatcher's .rodata
// ([Config], byte for byte). [Dispatcher.Add] and [Dispatcher.Remove] regenerate it as libxdp
// does when programs are added to or removed from an interface that has one.
//
// Modelling choices, each as libxdp 1.3.1's lib/libxdp/libxdp.c and protocol.org (and Linux 6.18)
// have it:
//
//   - Run config: a program's priority and chain-call actions come from the BTF struct
//     "_<function name>" in the DATASEC ".xdp_run_config" ([ParseRunConfig]): a member "priority"
//     and members named after XDP actions, each an array whose element count is the value. An
//     action member with a non-zero value adds the action, a zero value removes it; members apply
//     in order, on top of the defaults (priority 50, XDP_PASS). An unknown member makes the object
//     unloadable (libxdp: "Invalid mname", ENOTSUP); a missing section or struct leaves the defaults.
//   - Overrides ([Override]) replace the priority or the whole action set of one program, as
//     xdp_program__set_run_prio and xdp_program__set_chain_call_enabled do (xdp-loader's --prio
//     and --actions apply one override to every program it loads).
//   - Order: ascending priority; equal priorities by function name (strcmp), then programs
//     already on the interface before new ones, then (two new ones) by size in instructions,
//     then (two loaded ones) by program tag, then by load time ([Compare]). Programs equal in all
//     of these keep the order they were given in (glibc 2.36's qsort is a merge sort, so it is
//     stable; measured with the real libxdp in package kernel's tests).
//   - At most [MaxPrograms] (10) programs: more fail with E2BIG before anything is loaded.
//   - One program replaces the dispatcher's main function itself (the freplace target is
//     "xdp_dispatcher", not "prog0"), so its return value is the verdict as is, with no chain
//     logic. With two or more, slot i's return value r continues the chain when bit r of its
//     chain-call bitmap is set; the bitmap always has bit 31 ([ContinueRetval]), which the stubs
//     return. The dispatcher tests the bit with a 64-bit shift of the zero-extended 32-bit
//     bitmap by the 32-bit return value, which the JIT masks to 6 bits: values 32..63 never
//     continue, and 64 and above wrap around ([Dispatcher.Continues]). When every program
//     continues, the verdict is XDP_PASS.
//   - Frags: the dispatcher is loaded with BPF_F_XDP_HAS_FRAGS only when libxdp takes every
//     component as frags-aware; otherwise none of them gets multi-buffer frames, and a driver
//     refuses the dispatcher where the MTU needs fragments (veth: an MTU above 3506, ERANGE).
//     libxdp 1.3.1 takes a program as frags-aware only when the application says so
//     (xdp_program__set_xdp_frags_support; [Override].Frags): it reads the program's flags
//     before loading it, and libbpf adds BPF_F_XDP_HAS_FRAGS for SEC("xdp.frags") only at load.
//     So a dispatcher that xdp-loader builds never has frags support, even for programs that all
//     are SEC("xdp.frags") (measured with the real libxdp in package kernel's tests).
//   - Components are loaded as extension programs (BPF_PROG_TYPE_EXT). Linux 6.13 and later
//     refuse an extension that changes packet data (bpf_xdp_adjust_head, _meta, _tail, or a tail
//     call) in place of a function that does not, and libxdp 1.3.1's stubs do not: such
//     components cannot be attached ([Options.PacketChangingStubs] models libxdp 1.5.5 and
//     later, whose stubs call bpf_xdp_adjust_tail(ctx, 0) for this reason). Device-bound
//     programs (RX-metadata kfuncs) cannot be extensions either.
//
// The package also computes the alternative the libxdp proposal's review suggested, a dispatcher
// with fixed slots that is never regenerated ([FixedSlots]), so that xdpsim can show a user what
// each model does with the same programs.
package device
