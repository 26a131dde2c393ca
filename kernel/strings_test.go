package kernel_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/result"
)

// stringsPacket carries testdata/xdp_strings.c's inputs: three 16-byte texts for bpf_strtol and
// bpf_strtoul and two bytes for bpf_strncmp.
func stringsPacket(a, b, c, d string) []byte {
	pkt := make([]byte, 14+50+8)
	for i, s := range []string{a, b, c} {
		copy(pkt[14+16*i:14+16*(i+1)], s)
	}
	copy(pkt[14+48:], d)
	return pkt
}

func TestStringHelpersAgreeWithTheKernel(t *testing.T) {
	obj := filepath.Join("testdata", "xdp_strings.o")
	const einval, erange = -22, -34
	for _, tc := range []struct {
		name  string
		pkt   []byte
		want  map[int]int64 // as lib/kstrtox.c and kernel/bpf/helpers.c say
		text0 string        // what bpf_snprintf wrote with the mixed format
	}{
		{"decimal after spaces, hex by prefix, hex by base", stringsPacket("  -12345xyz", "0x1F", "7fff", "xd"),
			map[int]int64{18: 0, 19: 0x0101010100636261, 20: erange, 21: 0x0101010100000000, 22: 4, 23: 0x0101010100636261,
				24: 3, 25: 0x0101010100006261, 26: erange, 27: 0, // probe_read_kernel(_str) of "abc" on the stack, then of address 16 (user space: -ERANGE)
				0: 50, 1: 13, 2: 13, 3: 13, 4: 7, 6: 8, 7: -12345, 8: 4, 9: 31, 10: 4, 11: 0x7fff, 12: einval, 13: einval, 14: einval, 15: 0, 16: -1, 17: -1},
			"-5|4000000000|beef|-1234567890123|abc|Z|192.0.2\x00"}, // 49 bytes cut to 47 and a NUL
		{"sixteen f's overflow a long, a '+' is no digit", stringsPacket("+5", "-1", "ffffffffffffffff", "xe"),
			map[int]int64{6: einval, 8: einval, 10: erange, 15: 1}, ""},
		{"octal by a leading 0, spaces alone are no number", stringsPacket("0777", "   ", "DEADbeef", "xc"),
			map[int]int64{6: 4, 7: 511, 8: einval, 10: 8, 11: 0xdeadbeef, 12: 4, 15: -1}, ""},
		{"0x without a digit", stringsPacket("0x", "12345678901234567890", "0x", "x"),
			map[int]int64{6: 1, 7: 0, 8: 16, 9: 1234567890123456, 10: einval, 15: -1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			simRun, kernRun := probeSides(t, obj, "strings_probe", kernel.Options{})
			s, sm := simRun(tc.pkt, nil)
			if s.Err != "" || s.Ret != 2 {
				t.Fatalf("simulator: %d %s", s.Ret, s.Err)
			}
			got := resultsOf(t, sm)
			for i, w := range tc.want {
				if got[i] != w {
					t.Errorf("simulator: results[%d] = %d, want %d", i, got[i], w)
				}
			}
			if tc.text0 != "" {
				if out := outText(sm, 0); out != tc.text0 {
					t.Errorf("simulator: bpf_snprintf wrote %q, want %q", out, tc.text0)
				}
				if out := outText(sm, 1); out != "pkt -5 \x00" {
					t.Errorf("simulator: bpf_snprintf into 8 bytes wrote %q, want the first 7 and a NUL", out)
				}
			}
			if kernRun == nil {
				return
			}
			k, km := kernRun(tc.pkt, nil)
			if k.Err != "" || k.Ret != 2 {
				t.Fatalf("kernel: %d %s", k.Ret, k.Err)
			}
			if kgot := resultsOf(t, km); kgot != got {
				t.Errorf("results differ:\nsimulator %v\nkernel    %v", got, kgot)
			}
			for i := 0; i < 3; i++ {
				if a, b := outText(sm, i), outText(km, i); a != b {
					t.Errorf("out[%d]: simulator %q, kernel %q", i, a, b)
				}
			}
		})
	}
}

// outText is out[i] of the dump, up to and including its first NUL.
func outText(m result.Maps, i int) string {
	for _, e := range m["out"] {
		if e.Key == hex.EncodeToString(binary.LittleEndian.AppendUint32(nil, uint32(i))) {
			b, _ := hex.DecodeString(e.Value)
			if j := bytes.IndexByte(b, 0); j >= 0 {
				b = b[:j+1]
			}
			return string(b)
		}
	}
	return ""
}
