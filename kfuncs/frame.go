package kfuncs

import (
	"errors"
	"fmt"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// Frame is what the kfuncs need of the simulated xdp_buff. Package sim implements it with its XDP
// state and hands it to the machine as vm.Machine.Host; each kfunc finds it there, and fails the run
// with an error wrapping [ErrNoFrame] when the host is not a Frame.
//
// Methods that can fail the way the kernel fails report an [errno.Errno], which the kfunc hands to the
// program negated; any other error ends the run.
type Frame interface {
	// Hints is what the device supplied for this frame: the values the driver's xdp_metadata_ops
	// would read from the RX descriptor (package sim/device computes them). nil means the device implements no
	// metadata op, so every hint kfunc returns -EOPNOTSUPP, as on a device without metadata ops
	// (tap, or the "none" profile). The kfuncs only read *RxHints; the frame keeps it.
	Hints() *RxHints

	// UseTraits gives the packet-traits store of the frame to a trait kfunc that is about to act
	// on it: the bytes from the end of the 40-byte struct xdp_frame at data_hard_start up to
	// data_meta, whose length is the store's hard end. The store must have been initialised
	// (traits.Init) when the frame was prepared, as xdp_prepare_buff does in the RFC.
	//
	// It returns nil when the frame does not support traits: in the v2 RFC (April 2025), when
	// XDP_FLAGS_TRAITS_SUPPORTED is clear, because the driver does not support metadata or
	// because bpf_xdp_adjust_meta (or bpf_xdp_metadata_export_to_skb) ran; in the v1 RFC (March
	// 2025), when the frame does not support metadata. The kfunc then returns -EOPNOTSUPP.
	//
	// A non-nil answer tells the frame that a trait kfunc ran (whether or not its operation then
	// succeeds). In the v2 RFC traits and metadata are mutually exclusive: the frame must then stop
	// supporting metadata (clear XDP_FLAGS_META_SUPPORTED), so that bpf_xdp_adjust_meta fails and
	// the skb hand-off carries no metadata. In the v1 RFC they coexist and nothing changes.
	UseTraits() []byte

	// GrowMeta moves data_meta n bytes down, as bpf_xdp_adjust_meta(ctx, -n) does (the packet
	// region's accessible window with it: the kfunc is marked ChangesPacketData), and returns
	// the n bytes now at the front of the metadata, for bpf_xdp_metadata_export_to_skb to fill
	// with a struct xdp_skb_metadata ([SkbMetadataSize] bytes). It fails, changing nothing, and
	// checking in this order: with EOPNOTSUPP when the frame does not support metadata (including,
	// in the v2 traits RFC, after a trait kfunc ran); with EEXIST when it already grew the
	// metadata for the export in this run (the RFC's inlined code returned -1 then); with ENOSPC
	// when data_meta would pass the end of the xdp_frame (data_hard_start + 40) or the metadata
	// would exceed 252 bytes, the kernel's limit since 6.8. After it succeeds, the frame must:
	//   - refuse to move data_meta again: bpf_xdp_adjust_meta returns -EACCES, as in the RFC
	//     (the struct must stay at data_meta for the skb hand-off to find it; bpf_xdp_adjust_head
	//     moves the metadata along with the data, which keeps it there);
	//   - stop supporting traits in the v2 traits RFC, as any growth of the metadata does;
	//   - at XDP_PASS (and on the skb built for a redirected frame) hand the metadata to
	//     [ParseSkbMetadata] to populate the skb's fields.
	GrowMeta(n int) ([]byte, error)
}

// ErrNoFrame is matched by errors.Is when a kfunc runs on a machine whose Host is not a [Frame].
var ErrNoFrame = errors.New("the machine's host is not an XDP frame")

// frameOf finds the frame of the run. It is small enough to be inlined into every kfunc.
func frameOf(m *vm.Machine) (Frame, error) {
	if f, ok := m.Host.(Frame); ok {
		return f, nil
	}
	return nil, noFrame(m)
}

func noFrame(m *vm.Machine) error {
	return fmt.Errorf("%w (host is %T)", ErrNoFrame, m.Host)
}

// ret turns a frame's error into r0, or into the error that ends the run when it is not an Errno.
func ret(err error) (uint64, error) {
	if err == nil {
		return 0, nil
	}
	if e, ok := err.(errno.Errno); ok {
		return e.Return(), nil
	}
	var e errno.Errno
	if errors.As(err, &e) {
		return e.Return(), nil
	}
	return 0, err
}
