// Package kernel runs a clang-built XDP object in the real Linux kernel, so that xdpsim can prove that
// the simulator and the kernel agree.
//
// [Load] reads the ELF object with cilium/ebpf, sets global variables, sizes maps declared without a
// size, strips map pinning, and loads every program of the object the kernel accepts (so that program
// arrays filled statically in C work for tail calls). [Program.Run] runs one packet through the chosen
// program with a single BPF_PROG_TEST_RUN call and returns a [result.Packet], the type the simulator
// produces too. [Program.DumpMaps], [Program.LoadMaps] and [Program.ResetMaps] read, preload and
// reset the maps.
//
// Device-bound programs, the ones calling the bpf_xdp_metadata_rx_* kfuncs, cannot be test-run by the
// kernel. [RunOnVeth] runs them for real instead: it creates a private network namespace with a veth
// pair, attaches the program in native mode to one end, injects each packet from the other end and
// returns what the program recorded in its maps and the verdict of every packet, read from the veth
// driver's counters and the xdp:xdp_exception tracepoint (an fexit program would be simpler, but
// the 6.18 machines this was built on refuse tracing programs with EPERM, even to root).
//
// [Verify] asks the kernel's verifier about one program of an object: it loads just that program
// (with the object's maps, as root, at log level 1 or 2) and returns a [Verdict]: accepted or not,
// the instruction the log blames ([BlamedInsn]), the error lines ([ErrorMessage]), the final
// "processed N insns ..." figures ([ParseStats]) and the whole log. It labels the verifier corpus
// (corpus/verifier), against which xdpsim's own verifier is held.
//
// Everything here needs Linux, the bpf() system call and CAP_BPF with CAP_NET_ADMIN (or
// CAP_SYS_ADMIN). Where that is missing, every entry point returns an error matching [ErrNoKernel]
// whose message is one line saying why; [Available] checks this cheaply, and tests use it to skip.
//
// Facts measured on Linux 6.18 that this package relies on (each is asserted by a test, with its
// errno):
//
//   - packets shorter than 14 bytes (not counting metadata) are refused with EINVAL;
//   - metadata whose length is not a multiple of 4, or longer than 216 bytes (256 bytes of
//     headroom minus the 40-byte xdp_frame), is refused with EINVAL;
//   - the first 3520 bytes of a packet are linear, whatever the metadata length, and the rest goes
//     to fragments of up to 4096 bytes; with more than 17 fragments (packets over 73152 bytes) the
//     run fails with ENOMEM;
//   - BPF_PROG_TEST_RUN does not look at the frags flag: a program loaded without frags support
//     (SEC("xdp") rather than SEC("xdp.frags")) given a 9000-byte packet runs, sees 3520 linear
//     bytes and a bpf_xdp_get_buff_len of 9000, and the whole packet comes back. Only a driver
//     refuses such a program (veth, with ERANGE, when the MTU needs fragments);
//   - the output starts at data_meta, and the returned context's data field is the metadata length;
//   - an unknown ingress ifindex is refused with ENODEV, a missing rx queue with EINVAL;
//   - a device-bound program cannot be test-run (EINVAL); on veth, for packets sent as socket
//     buffers, the hints are: timestamp 0 with value 0, hash 0 with a real hash (rss_type
//     XDP_RSS_TYPE_L4_ANY for UDP, none for ARP), VLAN tag -ENODATA.
//
// libxdp's dispatcher: [RunLibxdp] runs the real libxdp (Debian's xdp-loader) on a veth and reads
// the configuration it computes for its dispatcher; [LoadDispatcher] builds libxdp's own dispatcher
// program with a configuration and programs in its slots (bpf-to-bpf calls in place of freplace,
// which this kernel refuses), and [RunDispatcherOnVeth] sends real frames through it.
//
// Map dumps are keyed by the names cilium/ebpf gives the maps: the ELF names of BTF maps, and the
// section names ".data", ".bss" (and ".data.<name>" for custom data sections) for global
// variables. See [Program.DumpMaps] for what is left out.
package kernel

//go:generate sh -c "for f in testdata/*.c; do clang-19 -O2 -g -Wall -target bpf -I/usr/include/x86_64-linux-gnu -c $DOLLAR{f} -o $DOLLAR{f%.c}.o || exit 1; done"
