package kernel_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// dynptrWant is what testdata/xdp_dynptr.c records for a packet of n bytes, as the kernel's code
// says (kernel/bpf/helpers.c, net/core/filter.c): index -> value; indexes left out are compared
// between the two sides only (they hold packet bytes).
func dynptrWant(n int64) map[int]int64 {
	const einval, e2big, erange = -22, -7, -34
	w := map[int]int64{
		0: einval, 1: 1, 2: 0xffffffea, 3: einval, // a NULL dynptr from flags 1
		4: n, 5: 0, 6: 0,
		7: 0, 9: e2big, 10: einval, 11: 0, // reads
		12: 0, 13: einval, 14: e2big, 15: 0, // writes
		16: 1, 21: 0, 23: 0, 24: 0, 25: 0,
		26: 0, 27: einval, 28: erange, 29: 0, 30: 16, 31: 0, 33: e2big, 34: n,
		35: 0, 36: 1, 37: 0, 38: 0, 40: -103, 41: 0, 42: e2big, 43: 0, 44: e2big, 46: einval, 47: 1,
		48: einval, 49: 1, 50: 0, 51: 16, 52: 0, 53: e2big, 54: einval, 55: 1, // ring buffer samples
	}
	if n > 3520 { // fragments: a slice across the linear part's end is a copy, one inside a fragment is direct
		w[18], w[20], w[22], w[45] = 2, 1, 0, 0
	} else { // offsets past a short packet are out of bounds
		w[18], w[20], w[22], w[45] = 0, 0, 0, e2big
	}
	return w
}

func TestDynptrsAgreeWithTheKernel(t *testing.T) {
	for _, n := range []int{64, 9000} {
		t.Run(map[int]string{64: "a 64-byte packet", 9000: "a 9000-byte packet in fragments"}[n], func(t *testing.T) {
			pkt := make([]byte, n)
			for i := range pkt {
				pkt[i] = byte(i*13 + 7)
			}
			dynptrProbe(t, "dynptr_probe", pkt, dynptrWant(int64(n)), 2)
		})
	}
}

// dynptrProbe runs a program of testdata/xdp_dynptr.o over pkt on both sides: it must return ret,
// record what want says (as the kernel's code says) and the same as the kernel in every slot, and
// leave the same packet.
func dynptrProbe(t *testing.T, prog string, pkt []byte, want map[int]int64, ret uint32) {
	simRun, kernRun := probeSides(t, filepath.Join("testdata", "xdp_dynptr.o"), prog, kernel.Options{})
	s, sm := simRun(pkt, nil)
	if s.Err != "" || s.Ret != ret {
		t.Fatalf("simulator: %d %s", s.Ret, s.Err)
	}
	got := resultsOf(t, sm)
	for i, w := range want {
		if got[i] != w {
			t.Errorf("simulator: results[%d] = %d, the kernel's code says %d", i, got[i], w)
		}
	}
	if kernRun == nil {
		return
	}
	k, km := kernRun(pkt, nil)
	if k.Err != "" || k.Ret != ret {
		t.Fatalf("kernel: %d %s", k.Ret, k.Err)
	}
	kgot := resultsOf(t, km)
	for i := range kgot {
		if kgot[i] != got[i] {
			t.Errorf("results[%d]: simulator %d, kernel %d", i, got[i], kgot[i])
		}
	}
	if !bytes.Equal(s.Data, k.Data) {
		t.Errorf("the packets differ after the writes:\nsim    %x\nkernel %x", s.Data, k.Data)
	}
}

func resultsOf(t *testing.T, m result.Maps) [56]int64 {
	var out [56]int64
	for _, e := range m["results"] {
		k, _ := hex.DecodeString(e.Key)
		v, _ := hex.DecodeString(e.Value)
		if len(k) != 4 || len(v) != 8 {
			t.Fatalf("results entry %+v", e)
		}
		out[binary.LittleEndian.Uint32(k)] = int64(binary.LittleEndian.Uint64(v))
	}
	return out
}

// Linux 6.18 refuses bpf_dynptr_slice_rdwr to XDP programs, and so does the simulator.
func TestDynptrSliceRdwrIsRefusedOnBothSides(t *testing.T) {
	obj := filepath.Join("testdata", "xdp_dynptr.o")
	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.FindProgram("slice_rdwr")
	if err == nil || !strings.Contains(err.Error(), "bpf_dynptr_slice_rdwr() is not allowed") {
		t.Errorf("simulator: %v", err)
	}
	if err := kernel.Available(); err != nil {
		t.Skipf("kernel side skipped: %v", err)
	}
	_, err = kernel.Load(obj, kernel.Options{Program: "slice_rdwr"})
	if err == nil || !strings.Contains(err.Error(), "bpf_dynptr_slice_rdwr() is not allowed") {
		t.Errorf("kernel: %v", err)
	}
}

// The tc side: a dynptr over the sk_buff. BPF_PROG_TEST_RUN builds a linear sk_buff, so every
// slice inside the packet points into it.
func TestSkbDynptrsAgreeWithTheKernel(t *testing.T) {
	const einval, e2big, erange = -22, -7, -34
	for _, n := range []int{64, 1500} {
		t.Run(fmt.Sprintf("a %d-byte packet", n), func(t *testing.T) {
			pkt := make([]byte, n)
			for i := range pkt {
				pkt[i] = byte(i*13 + 7)
			}
			copy(pkt[12:], []byte{0x08, 0x00})
			want := map[int]int64{
				0: einval, 1: 1, 2: 0xffffffea, 3: einval,
				4: int64(n), 5: 0, 6: 0,
				7: 0, 9: e2big, 10: einval, 11: einval,
				12: 0, 13: 0, 14: e2big, 15: 0,
				16: 1, 18: 0, 19: 1, // 18: past the end
				26: 0, 27: einval, 28: erange, 29: 0, 30: 16, 31: 0, 33: e2big, 34: int64(n),
				35: 0, 36: 0, 38: 0, 41: 0, 43: 0, 44: e2big,
			}
			dynptrProbe(t, "dynptr_probe_tc", pkt, want, 0)
		})
	}
}
