package kfuncs_test

import (
	"errors"
	"fmt"

	"github.com/xdpsim/xdpsim/kfuncs"
)

// The loader resolves a program's kfunc calls by name; proposals that never merged need their
// feature switched on.
func ExampleLookup() {
	k, err := kfuncs.Lookup("bpf_xdp_metadata_rx_hash", kfuncs.Features{})
	fmt.Println(k.Proto, k.DevBound, err)

	_, err = kfuncs.Lookup("bpf_xdp_trait_set", kfuncs.Features{})
	fmt.Println(err, errors.Is(err, kfuncs.ErrFeatureOff))

	var features kfuncs.Features
	_ = features.Enable("traits")
	k, err = kfuncs.Lookup("bpf_xdp_trait_set", features)
	fmt.Println(k.Name, err)
	// Output:
	// int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, u32 *hash, enum xdp_rss_hash_type *rss_type) true <nil>
	// kfunc bpf_xdp_trait_set belongs to a proposal that never merged into Linux; enable it with --feature traits true
	// bpf_xdp_trait_set <nil>
}
