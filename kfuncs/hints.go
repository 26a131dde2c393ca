package kfuncs

import (
	"encoding/binary"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// The XDP RX metadata kfuncs (net/core/xdp.c, spec/xdp-kernel.md §4). The kernel replaces a call to one
// of them with the bound device's xdp_metadata_ops implementation, or with a stub returning
// -EOPNOTSUPP when the device has none; the simulator reads the frame's [RxHints] instead.

func init() {
	ctx := Arg{Name: "ctx", Type: "const struct xdp_md *", Kind: ArgCtx}
	register(Kfunc{
		Types:    xdpOnly,
		Name:     "bpf_xdp_metadata_rx_timestamp",
		Proto:    "int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, u64 *timestamp)",
		Doc:      "reads the frame's RX timestamp (ns): 0, -ENODATA (none for this frame) or -EOPNOTSUPP (device has none)",
		Args:     []Arg{ctx, {Name: "timestamp", Type: "u64 *", Kind: ArgOut, Size: 8}},
		DevBound: true,
		Flags:    KFTrustedArgs, // Linux 6.18 refuses a NULL pointer to them as to a trusted argument
	}, func(Features) vm.Helper { return rxTimestamp })
	register(Kfunc{
		Types: xdpOnly,
		Name:  "bpf_xdp_metadata_rx_hash",
		Proto: "int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, u32 *hash, enum xdp_rss_hash_type *rss_type)",
		Doc:   "reads the frame's RSS hash and what it covers: 0, -ENODATA or -EOPNOTSUPP",
		Args: []Arg{ctx,
			{Name: "hash", Type: "u32 *", Kind: ArgOut, Size: 4},
			{Name: "rss_type", Type: "enum xdp_rss_hash_type *", Kind: ArgOut, Size: 4}},
		DevBound: true,
		Flags:    KFTrustedArgs, // Linux 6.18 refuses a NULL pointer to them as to a trusted argument
	}, func(Features) vm.Helper { return rxHash })
	register(Kfunc{
		Types: xdpOnly,
		Name:  "bpf_xdp_metadata_rx_vlan_tag",
		Proto: "int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, u16 *vlan_tci)",
		Doc:   "reads the VLAN tag the device stripped (TPID in network order, TCI in host order): 0, -ENODATA or -EOPNOTSUPP",
		Args: []Arg{ctx,
			{Name: "vlan_proto", Type: "__be16 *", Kind: ArgOut, Size: 2},
			{Name: "vlan_tci", Type: "u16 *", Kind: ArgOut, Size: 2}},
		DevBound: true,
		Flags:    KFTrustedArgs, // Linux 6.18 refuses a NULL pointer to them as to a trusted argument
	}, func(Features) vm.Helper { return rxVLANTag })
}

// hintStatus gives what a hint kfunc returns for hint h: 0 (data), ENODATA or EOPNOTSUPP.
func hintStatus(hints *RxHints, h Hint) errno.Errno {
	switch {
	case hints == nil || hints.Supported&h == 0:
		return errno.EOPNOTSUPP
	case hints.Valid&h == 0:
		return errno.ENODATA
	}
	return 0
}

// le is the byte order of the simulated machine (x86_64): host-order values are stored little-endian.
var le = binary.LittleEndian

func rxTimestamp(m *vm.Machine, _, tsp, _, _, _ uint64) (uint64, error) {
	f, err := frameOf(m)
	if err != nil {
		return 0, err
	}
	ts, err := m.Bytes(tsp, 8, true)
	if err != nil {
		return 0, err
	}
	hints := f.Hints()
	st := hintStatus(hints, HintTimestamp)
	if st == 0 || (st == errno.ENODATA && hints.WritesOnNoData&HintTimestamp != 0) {
		le.PutUint64(ts, hints.Timestamp)
	}
	return st.Return(), nil
}

func rxHash(m *vm.Machine, _, hashp, typep, _, _ uint64) (uint64, error) {
	f, err := frameOf(m)
	if err != nil {
		return 0, err
	}
	hash, err := m.Bytes(hashp, 4, true)
	if err != nil {
		return 0, err
	}
	typ, err := m.Bytes(typep, 4, true)
	if err != nil {
		return 0, err
	}
	hints := f.Hints()
	st := hintStatus(hints, HintHash)
	if st == 0 || (st == errno.ENODATA && hints.WritesOnNoData&HintHash != 0) {
		le.PutUint32(hash, hints.Hash)
		le.PutUint32(typ, uint32(hints.HashType))
	}
	return st.Return(), nil
}

func rxVLANTag(m *vm.Machine, _, protop, tcip, _, _ uint64) (uint64, error) {
	f, err := frameOf(m)
	if err != nil {
		return 0, err
	}
	proto, err := m.Bytes(protop, 2, true)
	if err != nil {
		return 0, err
	}
	tci, err := m.Bytes(tcip, 2, true)
	if err != nil {
		return 0, err
	}
	hints := f.Hints()
	st := hintStatus(hints, HintVLANTag)
	if st == 0 || (st == errno.ENODATA && hints.WritesOnNoData&HintVLANTag != 0) {
		binary.BigEndian.PutUint16(proto, hints.VLANProto)
		le.PutUint16(tci, hints.VLANTCI)
	}
	return st.Return(), nil
}
