package verifier

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

// skbKernelAnswers reads what Linux 6.18 answered for every access to __sk_buff a tc program can
// make (testdata/skb_tc_ctx.txt, recorded by the kernel package's TestSkbContextRulesMatchTheKernel):
// for each access it accepts, the instructions its verifier rewrote it into.
func skbKernelAnswers(t *testing.T) map[string][]vm.Instruction {
	t.Helper()
	f, err := os.Open("testdata/skb_tc_ctx.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]vm.Instruction{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, code, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(code, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		insns, err := vm.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = insns
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// skbAccessInsn is the access the kernel was offered: through r1, loading into r0, storing r2 or
// the immediate 7.
func skbAccessInsn(kind string, off, size int) vm.Instruction {
	sz := map[int]uint8{1: vm.SizeB, 2: vm.SizeH, 4: vm.SizeW, 8: vm.SizeDW}[size]
	switch kind {
	case "load":
		return vm.Make(vm.ClassLDX|vm.ModeMEM|sz, 0, 1, int16(off), 0)
	case "ldsx":
		return vm.Make(vm.ClassLDX|vm.ModeMEMSX|sz, 0, 1, int16(off), 0)
	case "store":
		return vm.Make(vm.ClassSTX|vm.ModeMEM|sz, 1, 2, int16(off), 0)
	}
	return vm.Make(vm.ClassST|vm.ModeMEM|sz, 1, 0, int16(off), 7)
}

func TestSkbTCAccessAgreesWithTheKernel(t *testing.T) {
	answers := skbKernelAnswers(t)
	if len(answers) < 400 {
		t.Fatalf("only %d accesses recorded", len(answers))
	}
	for off := 0; off < SkbSize+8; off++ {
		for _, size := range []int{1, 2, 4, 8} {
			if off%size != 0 {
				continue
			}
			for _, kind := range []string{"load", "ldsx", "store", "stimm"} {
				if kind == "ldsx" && size == 8 {
					continue
				}
				name := fmt.Sprintf("%s off=%d size=%d", kind, off, size)
				want, accepted := answers[name]
				_, ok := SkbTCAccess(off, size, kind == "store" || kind == "stimm", kind == "ldsx")
				if ok != accepted {
					t.Errorf("%s: the kernel accepts it: %v; SkbTCAccess: %v", name, accepted, ok)
					continue
				}
				if !ok {
					continue
				}
				got := SkbTCConvert(skbAccessInsn(kind, off, size), false)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: the kernel rewrites it as %v, SkbTCConvert as %v", name, want, got)
				}
			}
		}
	}
}

func TestSkbTCAccessGivesTheKernelsRegisterTypes(t *testing.T) {
	tests := []struct {
		name string
		off  int
		want SkbRegType
	}{
		{"data is a packet pointer", SkbData, SkbPacket},
		{"data_meta is a pointer to the packet's metadata", SkbDataMeta, SkbPacketMeta},
		{"data_end is the packet's end", SkbDataEnd, SkbPacketEnd},
		{"sk is a socket or NULL", SkbSk, SkbSockCommonOrNull},
		{"len is a number", SkbLen, SkbScalar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := 4
			if tt.off == SkbSk {
				size = 8
			}
			got, ok := SkbTCAccess(tt.off, size, false, false)
			if !ok || got != tt.want {
				t.Errorf("SkbTCAccess(%d) = %v, %v; want %v, true", tt.off, got, ok, tt.want)
			}
		})
	}
}

func TestSkbNarrowLoadsFollowTheKernelField(t *testing.T) {
	tests := []struct {
		name      string
		off, size int
		base      int
		shift     uint
		mask      uint64
	}{
		{"a whole field is itself", SkbMark, 4, SkbMark, 0, ^uint64(0)},
		{"the second byte of mark is shifted out", SkbMark + 1, 1, SkbMark, 8, 0xff},
		{"the upper half of queue_mapping, a 16-bit field, is queue_mapping", SkbQueueMapping + 2, 2, SkbQueueMapping, 0, ^uint64(0)},
		{"the third byte of queue_mapping is shifted by 16", SkbQueueMapping + 2, 1, SkbQueueMapping, 16, 0xff},
		{"any byte of pkt_type, a 3-bit field, is pkt_type", SkbPktType + 3, 1, SkbPktType, 0, ^uint64(0)},
		{"cb bytes are plain memory", SkbCB + 5, 1, SkbCB + 5, 0, ^uint64(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, shift, mask := SkbNarrow(tt.off, tt.size)
			if base != tt.base || shift != tt.shift || mask != tt.mask {
				t.Errorf("SkbNarrow(%d, %d) = %d, %d, %#x; want %d, %d, %#x", tt.off, tt.size, base, shift, mask, tt.base, tt.shift, tt.mask)
			}
		})
	}
}

func TestSkbTCConvertKeepsTstampPlainWhenTheProgramReadsItsType(t *testing.T) {
	load := vm.Make(vm.ClassLDX|vm.ModeMEM|vm.SizeDW, 3, 1, SkbTstamp, 0)
	got := SkbTCConvert(load, true)
	want := []vm.Instruction{vm.Make(vm.ClassLDX|vm.ModeMEM|vm.SizeDW, 3, 1, skbKTstamp, 0)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if n := len(SkbTCConvert(load, false)); n != 8 {
		t.Errorf("without a tstamp_type access the load becomes %d instructions, want 8", n)
	}
}

func ExampleSkbTCAccess() {
	_, ok := SkbTCAccess(SkbMark, 4, true, false)
	fmt.Println("write mark:", ok)
	_, ok = SkbTCAccess(SkbLen, 4, true, false)
	fmt.Println("write len:", ok)
	reg, ok := SkbTCAccess(SkbData, 4, false, false)
	fmt.Println("read data:", reg, ok)
	// Output:
	// write mark: true
	// write len: false
	// read data: pkt true
}
