package result

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestVerdictNames(t *testing.T) {
	for ret, want := range map[uint32]string{0: "XDP_ABORTED", 1: "XDP_DROP", 2: "XDP_PASS", 3: "XDP_TX", 4: "XDP_REDIRECT", 5: "XDP_ABORTED", 1 << 31: "XDP_ABORTED"} {
		if got := VerdictName(ret); got != want {
			t.Errorf("VerdictName(%d) = %s, want %s", ret, got, want)
		}
	}
}

func TestPacketJSONStartsWithTheFixedKeys(t *testing.T) {
	b, err := Packet{Index: 3, Ret: 2, Data: []byte{0xab}, Meta: nil}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"packet":3,"ret":2,"verdict":"XDP_PASS","data":"ab","meta":""}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	b, _ = Packet{Index: 4, Err: "too short"}.MarshalJSON()
	if got, want := string(b), `{"packet":4,"error":"too short"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// frame is an Ethernet/IPv4/UDP frame: 14 + 20 + 8 header bytes and 4 of payload.
func frame(t *testing.T) []byte {
	b, err := hex.DecodeString("020000000001020000000002" + "0800" +
		"4500002000000000401100000a0000010a000002" + "04d2162e000c0000" + "deadbeef")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestComparePacketsNamesFieldAndLayer(t *testing.T) {
	k := Packet{Ret: 2, Data: frame(t)}
	tests := []struct {
		name string
		s    Packet
		want []string
	}{
		{"identical results give no divergence", Packet{Ret: 2, Data: frame(t)}, nil},
		{"a different return value is named with both verdicts", Packet{Ret: 1, Data: frame(t)}, []string{"return value: simulator 1 (XDP_DROP), kernel 2 (XDP_PASS)"}},
		{"a byte of the IPv4 header names that layer", func() Packet { p := Packet{Ret: 2, Data: frame(t)}; p.Data[22] = 63; return p }(), []string{"first difference at byte 22 (IPv4 header, byte 8)"}},
		{"a byte of the UDP header names that layer", func() Packet { p := Packet{Ret: 2, Data: frame(t)}; p.Data[40] = 1; return p }(), []string{"(UDP header, byte 6)"}},
		{"a byte of the payload says so", func() Packet { p := Packet{Ret: 2, Data: frame(t)}; p.Data[43] = 0; return p }(), []string{"(Payload header, byte 1)"}},
		{"metadata differences are reported apart", Packet{Ret: 2, Data: frame(t), Meta: []byte{1, 2, 3, 4}}, []string{"metadata: first difference at byte 0"}},
		{"a run only one side refused says which", Packet{Err: "refused"}, []string{"run: simulator refused; kernel ran it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ComparePackets(9, tt.s, k)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d divergences like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], "packet 9: ") || !strings.Contains(got[i], w) {
					t.Errorf("got %q, want it to say %q", got[i], w)
				}
			}
		})
	}
}

func TestCompareMaps(t *testing.T) {
	s := Maps{"a": {{Key: "00", Value: "01"}, {Key: "01", Value: "02"}}, "pc": {{Key: "00", Values: []string{"01", "00"}}}}
	k := Maps{"a": {{Key: "00", Value: "01"}, {Key: "02", Value: "03"}}, "pc": {{Key: "00", Values: []string{"00", "01"}}}, "b": nil}
	got := strings.Join(CompareMaps(s, k), "\n")
	for _, want := range []string{
		"map a key 01: only the simulator has it (02)",
		"map a key 02: only the kernel has it (03)",
		"map b: dumped by the kernel only",
		"map pc key 00: simulator [01 00], kernel [00 01]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("comparison lacks %q:\n%s", want, got)
		}
	}
	if d := CompareMaps(s, s); len(d) != 0 {
		t.Errorf("a dump differs from itself: %q", d)
	}
}

func TestGoldenLine(t *testing.T) {
	// SHA-256 of the empty string starts e3b0c44298fc1c14.
	if got, want := GoldenLine(Packet{Index: 1, Ret: 2}), "1 ret=2 data=0:e3b0c44298fc1c14 meta=0:e3b0c44298fc1c14"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := GoldenLine(Packet{Index: 2, Err: "whatever the wording"}); got != "2 refused" {
		t.Errorf("got %q", got)
	}
}
