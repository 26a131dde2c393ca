package kernel_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/result"
)

// iterPullSides runs one program of testdata/xdp_iter_pull.o on each side and gives back, per
// side, the outcome and the results[] it recorded.
type iterPullRun func(pkt, meta []byte) (result.Packet, [56]int64)

func iterPullSides(t *testing.T, prog string) (simRun, kernRun iterPullRun) {
	withResults := func(run probeRun) iterPullRun {
		if run == nil {
			return nil
		}
		return func(pkt, meta []byte) (result.Packet, [56]int64) {
			out, m := run(pkt, meta)
			return out, resultsOf(t, m)
		}
	}
	s, k := probeSides(t, filepath.Join("testdata", "xdp_iter_pull.o"), prog, kernel.Options{})
	return withResults(s), withResults(k)
}

// Open-coded iterators answer as kernel/bpf/bpf_iter.c says, on both sides; the critical-section
// kfuncs run (their pairing is the verifier's business).
func TestNumericIteratorsAgreeWithTheKernel(t *testing.T) {
	const einval, e2big = -22, -7
	want := map[int]int64{
		0: 0, 1: 3, 2: 3, 3: 0, 4: 2, 5: 0, // [0, 3)
		6: einval, 7: 0, 8: 0, 9: 0, 10: 0, 11: 0, // [5, 2)
		12: 0, 13: 3, 14: -6, 15: -3, 16: -1, 17: 0, // [-3, 0)
		18: 0, 19: 2, 20: 2*math.MaxInt32 - 3, 21: math.MaxInt32 - 2, 22: math.MaxInt32 - 1, 23: 0, // up to INT_MAX
		24: 0, 25: 0, 26: 0, 27: 0, 28: 0, 29: 0, // [INT_MIN, INT_MIN); 29: exactly BPF_MAX_LOOPS values
		30: e2big, 31: e2big, // [INT_MIN, INT_MAX), one value more than BPF_MAX_LOOPS
	}
	simRun, kernRun := iterPullSides(t, "iter_probe")
	pkt := make([]byte, 64)
	s, sr := simRun(pkt, nil)
	if s.Err != "" || s.Ret != 2 {
		t.Fatalf("simulator: %d %s", s.Ret, s.Err)
	}
	for i, w := range want {
		if sr[i] != w {
			t.Errorf("simulator: results[%d] = %d, the kernel's code says %d", i, sr[i], w)
		}
	}
	if kernRun == nil {
		return
	}
	k, kr := kernRun(pkt, nil)
	if k.Err != "" || k.Ret != 2 {
		t.Fatalf("kernel: %d %s", k.Ret, k.Err)
	}
	if kr != sr {
		t.Errorf("results differ:\nsimulator %v\nkernel    %v", sr, kr)
	}
}

// The kernel's verifier does not let a program read the interrupt flags bpf_local_irq_save
// saved, so the value the simulator stores there (x86's, interrupts on) is never seen.
func TestSavedInterruptFlagsCannotBeRead(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	_, err := kernel.Load(filepath.Join("testdata", "xdp_iter_pull.o"), kernel.Options{Program: "irq_flags_read"})
	if err == nil || !strings.Contains(err.Error(), "invalid read from stack") {
		t.Fatalf("the kernel let a program read the saved interrupt flags, or refused it for another reason: %v", err)
	}
}

// bpf_xdp_pull_data, as net/core/filter.c of Linux 6.18 does it: what it moves, what it refuses,
// and what it leaves to the helpers after it (the fragments' tailroom, the headroom).
func TestPullDataAgreesWithTheKernel(t *testing.T) {
	const einval = -22
	cases := []struct {
		name              string
		n, meta           int
		pull, grow, again int32
		want              map[int]int64
	}{
		{"a pull within the linear part does nothing", 64, 0, 32, 0, 64,
			map[int]int64{0: 64, 1: 64, 2: 0, 3: 0, 4: 64, 5: 64, 6: 0, 7: 0, 8: 64, 9: 0, 10: 64, 11: 64, 12: 0, 13: 0}},
		{"a pull past the packet's end is refused", 64, 0, 65, 0, 0,
			map[int]int64{3: einval, 4: 64, 5: 64, 9: 0, 12: 0, 13: 0}},
		{"a pull moves the data down and the fragment's start up, whose tailroom shrinks by it", 3700, 0, 3600, 3916, 3700,
			map[int]int64{0: 3520, 1: 3700, 2: 0, 3: 0, 4: 3600, 5: 3700, 6: 0, 7: 0, 8: 7616, 9: 0, 10: 3700, 11: 7616, 12: 0, 13: 0}},
		{"the tail cannot grow past the pulled fragment's page", 3700, 0, 3600, 3917, 0,
			map[int]int64{3: 0, 4: 3600, 7: einval, 8: 3700, 9: 0, 10: 3600, 11: 3700}},
		{"a fragment pulled whole is freed and the packet is linear again", 3700, 32, 3700, 1, 3700,
			map[int]int64{0: 3520, 1: 3700, 2: 32, 3: 0, 4: 3700, 5: 3700, 6: 32, 7: einval, 8: 3700, 9: 0, 10: 3700, 11: 3700, 12: einval, 13: 0}},
		{"metadata takes headroom a pull would need", 3700, 40, 3700, 0, 0,
			map[int]int64{3: einval, 4: 3520, 5: 3700, 6: 40, 7: 0, 8: 3700, 9: 0, 10: 3520, 11: 3700, 12: 0, 13: 0}},
		{"a pull may use the whole headroom and no more", 9000, 0, 3736, -1400, 3737,
			map[int]int64{0: 3520, 1: 9000, 2: 0, 3: 0, 4: 3736, 5: 9000, 6: 0, 7: 0, 8: 7600, 9: einval, 10: 3736, 11: 7600, 12: einval, 13: 0}},
	}
	simRun, kernRun := iterPullSides(t, "pull_probe")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkt := make([]byte, c.n)
			for i := range pkt {
				pkt[i] = byte(i*7 + i>>8)
			}
			binary.LittleEndian.PutUint32(pkt[0:], uint32(c.pull))
			binary.LittleEndian.PutUint32(pkt[4:], uint32(c.grow))
			binary.LittleEndian.PutUint32(pkt[8:], uint32(c.again))
			meta := bytes.Repeat([]byte{0xa5}, c.meta)
			s, sr := simRun(pkt, meta)
			if s.Err != "" || s.Ret != 2 {
				t.Fatalf("simulator: %d %s", s.Ret, s.Err)
			}
			for i, w := range c.want {
				if sr[i] != w {
					t.Errorf("simulator: results[%d] = %d, the kernel's code says %d", i, sr[i], w)
				}
			}
			if kernRun == nil {
				return
			}
			k, kr := kernRun(pkt, meta)
			if k.Err != "" || k.Ret != 2 {
				t.Fatalf("kernel: %d %s", k.Ret, k.Err)
			}
			if kr != sr {
				t.Errorf("results differ:\nsimulator %v\nkernel    %v", sr[:14], kr[:14])
			}
			if d := result.ComparePackets(1, s, k); len(d) > 0 {
				t.Errorf("the packets differ: %s", fmt.Sprint(d))
			}
		})
	}
}
