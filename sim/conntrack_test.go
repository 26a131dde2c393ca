package sim_test

import (
	"testing"

	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
	"github.com/xdpsim/xdpsim/sim/corebtf"
)

// The simulator's own BTF lays struct nf_conn out as Linux 6.18 x86_64 does; the offsets are
// those `bpftool btf dump file /sys/kernel/btf/vmlinux` prints (bits_offset / 8) on such a kernel.
func TestConntrackEntriesAreLaidOutAsTheKernelBTFSays(t *testing.T) {
	spec, err := corebtf.Spec()
	if err != nil {
		t.Fatal(err)
	}
	got, err := conntrack.LayoutFromBTF(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := conntrack.Layout{Size: 248, Timeout: 8, Zone: 12, Status: 128, Mark: 168, Tuple: [2]int{32, 88},
		SrcAddr: 0, SrcPort: 16, L3Num: 18, DstAddr: 20, DstPort: 36, Proto: 38, Dir: 39}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
