package kfuncs

import (
	"fmt"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// PacketPuller is what bpf_xdp_pull_data needs of an XDP program's frame. Package sim implements
// it with its run state.
type PacketPuller interface {
	// PullData makes the first n bytes of the packet linear, as bpf_xdp_pull_data does
	// (net/core/filter.c, Linux 6.18): nothing when they already are; -EINVAL when the packet is
	// shorter than n or the head- and tailroom cannot hold what must move; else the metadata and
	// data move down into the headroom as far as the tailroom falls short, and the bytes move out
	// of the fragments' heads, fragments left empty being freed.
	PullData(n uint32) errno.Errno
}

func init() {
	register(Kfunc{
		Name:  "bpf_xdp_pull_data",
		Proto: "int bpf_xdp_pull_data(struct xdp_md *x, u32 len)",
		Doc:   "makes the packet's first len bytes linear, moving them out of the fragments (and the data down into the headroom when the tailroom is short): 0, or -EINVAL",
		Args:  []Arg{{Name: "x", Type: "struct xdp_md *", Kind: ArgCtx}, {Name: "len", Type: "u32", Kind: ArgScalar}},
		Types: xdpOnly, ChangesPacketData: true,
	}, func(Features) vm.Helper { return xdpPullData })
}

func xdpPullData(m *vm.Machine, _, n, _, _, _ uint64) (uint64, error) {
	p, ok := m.Host.(PacketPuller)
	if !ok {
		return 0, fmt.Errorf("%w (host is %T)", ErrNoPacket, m.Host)
	}
	return p.PullData(uint32(n)).Return(), nil
}
