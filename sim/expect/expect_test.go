package expect

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"hex bytes with spaces", "0800 45", "080045"},
		{"a hex: prefix", "hex:abcd", "abcd"},
		{"u32 is little-endian", "u32:8", "08000000"},
		{"u16 is little-endian", "u16:53", "3500"},
		{"be16 is network order", "be16:53", "0035"},
		{"be32 is network order", "be32:0x0a000001", "0a000001"},
		{"a struct of two u64", "u64:1 u64:98", "01000000000000006200000000000000"},
		{"u8 and hex mix", "u8:255 00", "ff00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBytes(tc.in)
			if err != nil || hex.EncodeToString(got) != tc.want {
				t.Errorf("ParseBytes(%q) = %x, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"u32:4294967296", "u7:1", "xyz", "u16:-1"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			if _, err := ParseBytes(bad); err == nil {
				t.Errorf("ParseBytes(%q) succeeded", bad)
			}
		})
	}
}

func fields(t *testing.T, js string) []byte {
	t.Helper()
	var f Fields
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		t.Fatal(err)
	}
	b, err := f.Frame()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFieldsBuildFrames(t *testing.T) {
	t.Run("an IPv4 UDP frame has the headers the fields say, lengths and checksums right", func(t *testing.T) {
		b := fields(t, `{"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"}, "ipv4": {"src": "10.0.0.2", "dst": "10.0.0.1", "ttl": 9},
			"udp": {"sport": 40000, "dport": 53}, "payload": "text:abcd"}`)
		want := "020000000001" + "020000000002" + "0800" + // Ethernet
			"45000020" + "00000000" + "0911" // IPv4: tot_len 32, TTL 9, UDP
		if !strings.HasPrefix(hex.EncodeToString(b), want) {
			t.Errorf("frame %x does not start %s", b, want)
		}
		if got := hex.EncodeToString(b[34:40]); got != "9c400035000c" {
			t.Errorf("UDP header %s: want ports 40000 > 53 and length 12", got)
		}
		if len(b) != 60 {
			t.Errorf("%d bytes, want 60 (padded to the shortest Ethernet frame)", len(b))
		}
		if bad := badChecksums(b); len(bad) != 0 {
			t.Errorf("checksums: %v", bad)
		}
	})
	t.Run("VLAN tags come between the MACs and the EtherType, outermost first", func(t *testing.T) {
		b := fields(t, `{"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"}, "vlan": [100, 7], "ipv6": {"src": "2001:db8::2", "dst": "2001:db8::1"}}`)
		if got := hex.EncodeToString(b[12:24]); got != "81000064"+"81000007"+"86dd"+"6000" {
			t.Errorf("tags and type %s", got)
		}
	})
	t.Run("a zero UDP checksum is written as zero", func(t *testing.T) {
		b := fields(t, `{"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"}, "ipv6": {"src": "2001:db8::2", "dst": "2001:db8::1"}, "udp": {"sport": 1, "dport": 2, "zero_checksum": true}}`)
		if b[54+6] != 0 || b[54+7] != 0 {
			t.Errorf("UDP checksum %x", b[60:62])
		}
	})
}

func TestBadChecksumsFindsEachWrongChecksum(t *testing.T) {
	good := fields(t, `{"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"}, "ipv4": {"src": "10.0.0.2", "dst": "10.0.0.1"},
		"icmp": {"type": 8, "id": 1, "seq": 2}, "payload": "text:ping"}`)
	if bad := badChecksums(good); bad != nil {
		t.Fatalf("a right frame: %v", bad)
	}
	for _, tc := range []struct {
		name string
		off  int
		want string
	}{
		{"a changed TTL breaks the IPv4 header checksum", 22, "IPv4 header checksum"},
		{"a changed ICMP type breaks the ICMP checksum", 34, "ICMP checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(good)
			b[tc.off]++
			if bad := badChecksums(b); len(bad) != 1 || !strings.Contains(bad[0], tc.want) {
				t.Errorf("%v, want one saying %s", bad, tc.want)
			}
		})
	}
	t.Run("a changed TCP port breaks the TCP checksum over the pseudo header", func(t *testing.T) {
		b := fields(t, `{"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"}, "ipv6": {"src": "2001:db8::2", "dst": "2001:db8::1"}, "tcp": {"sport": 1, "dport": 2, "flags": "S"}}`)
		if bad := badChecksums(b); bad != nil {
			t.Fatalf("a right frame: %v", bad)
		}
		b[55]++
		if bad := badChecksums(b); len(bad) != 1 || !strings.Contains(bad[0], "TCP") {
			t.Errorf("%v", bad)
		}
	})
}

func TestHexDiffShowsTheRowsThatDiffer(t *testing.T) {
	want := bytes.Repeat([]byte{0xaa}, 40)
	got := bytes.Clone(want)
	got[20] = 0xbb
	d := HexDiff(want, got)
	if !strings.Contains(d, "-0010  aa aa aa aa bb") && !strings.Contains(d, "+0010  aa aa aa aa bb") {
		t.Errorf("diff:\n%s", d)
	}
	if strings.Contains(d, "0000") || strings.Contains(d, "0020") {
		t.Errorf("rows that agree are shown:\n%s", d)
	}
}
