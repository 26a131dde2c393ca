package kfuncs

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// The XFRM state kfuncs of net/xfrm/xfrm_state_bpf.c (Linux 6.18): an XDP program looks up an
// IPsec security association by mark, destination, SPI, protocol and family. The simulated host
// has no security associations, so every well-formed lookup answers NULL with opts->error
// -ENOENT; the checks before the lookup are the kernel's.

// struct bpf_xfrm_state_opts: error (s32, out), netns_id (s32), mark, daddr (16), spi, proto,
// family.
const (
	xfrmOptsSize  = 36 // BPF_XFRM_STATE_OPTS_SZ
	xfrmOptsNetns = 4
)

func init() {
	register(Kfunc{
		Name:  "bpf_xdp_get_xfrm_state",
		Proto: "struct xfrm_state *bpf_xdp_get_xfrm_state(struct xdp_md *ctx, struct bpf_xfrm_state_opts *opts, u32 opts__sz)",
		Doc:   "looks up an IPsec SA and takes a reference to it; the simulated host has none: NULL with opts->error -ENOENT (or -EINVAL, -ENONET for bad options)",
		Args: []Arg{{Name: "ctx", Type: "struct xdp_md *", Kind: ArgCtx},
			{Name: "opts", Type: "struct bpf_xfrm_state_opts *", Kind: ArgMem, Write: true},
			{Name: "opts__sz", Type: "u32", Kind: ArgMemSize}},
		Flags: KFAcquire | KFRetNull, Types: []ebpf.ProgramType{ebpf.XDP}, Ret: RetBTFPtr, RetType: "struct xfrm_state",
	}, func(Features) vm.Helper { return getXfrmState })
	register(Kfunc{
		Name:  "bpf_xdp_xfrm_state_release",
		Proto: "void bpf_xdp_xfrm_state_release(struct xfrm_state *x)",
		Doc:   "releases a reference bpf_xdp_get_xfrm_state took (which the simulated host never hands out)",
		Args:  []Arg{{Name: "x", Type: "struct xfrm_state *", Kind: ArgBTFPtr, Struct: "struct xfrm_state"}},
		Flags: KFRelease, Types: []ebpf.ProgramType{ebpf.XDP},
	}, func(Features) vm.Helper { return xfrmStateRelease })
}

func getXfrmState(m *vm.Machine, _, opts, size, _, _ uint64) (uint64, error) {
	n := uint32(size)
	if opts == 0 || n < 4 {
		return 0, nil
	}
	b, err := m.Bytes(opts, int(n), true)
	if err != nil {
		return 0, err
	}
	fail := func(e errno.Errno) (uint64, error) {
		le.PutUint32(b, uint32(-int32(e)))
		return 0, nil
	}
	if n != xfrmOptsSize {
		return fail(errno.EINVAL)
	}
	switch netns := int32(le.Uint32(b[xfrmOptsNetns:])); {
	case netns < currentNetns:
		return fail(errno.EINVAL)
	case netns >= 0:
		return fail(errno.ENONET) // the simulated host has no other namespace
	}
	return fail(errno.ENOENT)
}

func xfrmStateRelease(m *vm.Machine, x, _, _, _, _ uint64) (uint64, error) {
	if x == 0 {
		return 0, nil
	}
	return 0, fmt.Errorf("%#x is not a struct xfrm_state the program holds (the simulated host hands out none; the kernel's verifier rejects such a call)", x)
}
