// Package kfuncs is xdpsim's registry of kernel functions (kfuncs) that XDP programs call by name,
// and their implementations:
//
//   - The XDP RX metadata kfuncs of Linux (6.3 and later): bpf_xdp_metadata_rx_timestamp,
//     bpf_xdp_metadata_rx_hash and bpf_xdp_metadata_rx_vlan_tag, with the kernel's return codes
//     (0, -ENODATA when the device has no data for the frame, -EOPNOTSUPP when it implements no
//     such hint). They read what the simulated device supplied for the frame, an [RxHints]: the
//     values a driver's xdp_metadata_ops would read from the RX descriptor. The device model
//     (profiles of veth, mlx5, ice, igc and virtio_net, RSS, queues, VLAN offload) lives in
//     package sim/device, which computes the RxHints; this package defines them, as the kernel's
//     core defines xdp_metadata_ops and the drivers implement them, so kfuncs needs nothing of the
//     device model and the device model depends on kfuncs, not the other way round.
//   - Proposals that never merged, behind feature switches ([Features]), modelled as their patches
//     describe: the packet-traits kfuncs (bpf_xdp_trait_set, _is_set, _get, _del; --feature traits)
//     over package traits, and bpf_xdp_metadata_export_to_skb (--feature export-to-skb), which
//     writes the hints as a struct xdp_skb_metadata ([SkbMetadata]) into the metadata for the skb
//     hand-off to read back with [ParseSkbMetadata].
//
// [Lookup] resolves a kfunc by name for a run's features; its [Kfunc] describes the prototype, the
// arguments (for the verifier and [Kfunc.CheckArgs]), whether the program must be device-bound, and
// carries the implementation, a vm.Helper. A kfunc acts on the frame through the [Frame] interface,
// which the simulator's XDP state implements and puts in vm.Machine.Host: the package knows nothing
// of the simulator beyond it.
//
// C programs declare the kfuncs by including include/xdpsim_kfuncs.h (and the struct of the export
// by include/xdp_skb_metadata.h), both next to this package's sources.
package kfuncs
