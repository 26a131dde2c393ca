package btfjson_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/result"
)

func typesSpec(t testing.TB) *ebpf.CollectionSpec {
	spec, err := ebpf.LoadCollectionSpec("testdata/types.o")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// The values below were printed by bpftool v7 (Linux 6.18) for the same bytes in a kernel map:
// they are measured facts, kept here so machines without a kernel check them too.
func TestFormatPrintsWhatBpftoolPrinted(t *testing.T) {
	spec := typesSpec(t)
	tests := []struct {
		name, mapName, hexValue, want string
	}{
		{"a 32-bit enum outside its values prints signed", "colours", "5c3afdd1", `-771933604`},
		{"an enum value prints by name", "colours", "07000000", `"BLUE"`},
		{"a struct of small integers prints as an object in member order", "per_cpu", "000102ff", `{"port":256,"proto":2,"delta":-1}`},
		{"a .data section prints as a list of one-variable objects", ".data", "4142434445464748494a4b4c4d4e4f50",
			`{".data":[{"counter":5208208757389214273},{"greeting":[73,74,75,76,77,78,79,80]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.hexValue)
			got, err := btfjson.Format(spec.Maps[tt.mapName].Value, b)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseTakesWhatUsersWrite(t *testing.T) {
	spec := typesSpec(t)
	value := spec.Maps["typed"].Value
	tests := []struct {
		name, js string
		check    func([]byte) error
		wantErr  string
	}{
		{"members left out are zero", `{"packets": 3}`, func(b []byte) error {
			if b[0] != 3 || strings.Trim(string(b[1:]), "\x00") != "" {
				return fmt.Errorf("bytes %x", b)
			}
			return nil
		}, ""},
		{"a char array takes a string and pads it with NULs", `{"name": "eth0"}`, func(b []byte) error {
			if string(b[13:18]) != "eth0\x00" {
				return fmt.Errorf("name bytes %q", b[13:25])
			}
			return nil
		}, ""},
		{"an enum takes its name or its number", `{"colour": "BLUE", "wide": "HUGE"}`, func(b []byte) error {
			if b[32] != 7 || b[40+4] != 1 {
				return fmt.Errorf("colour %d, wide %x", b[32], b[40:48])
			}
			return nil
		}, ""},
		{"a bitfield takes a hex string or a number", `{"flags": "0x5", "level": 31}`, func(b []byte) error {
			if b[64] != 5|31<<3 {
				return fmt.Errorf("bitfield byte %#x", b[64])
			}
			return nil
		}, ""},
		{"an unknown member is named", `{"pakets": 1}`, nil, `value has no member "pakets"`},
		{"a number too big for its member names the member", `{"inner": {"proto": 256}}`, nil, "inner.proto: 256 does not fit a 8-bit unsigned integer"},
		{"a string too long for its array says so", `{"name": "a name far too long"}`, nil, "does not fit char[12] with its NUL"},
		{"an enum name that is not the enum's is refused", `{"colour": "PURPLE"}`, nil, `"PURPLE" is not a value of enum colour`},
		{"a bitfield value wider than the field is refused", `{"flags": 8}`, nil, "does not fit a 3-bit field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := btfjson.Parse(value, []byte(tt.js))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.check(b); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := btfjson.Parse(value, []byte(`{"inner": {"port": 70000}}`)); !errors.Is(err, btfjson.ErrRange) {
		t.Errorf("an out-of-range number gives %v, not ErrRange", err)
	}
}

func TestMapsRoundTrip(t *testing.T) {
	spec := typesSpec(t)
	types := func(name string) btfjson.MapType {
		ms := spec.Maps[name]
		return btfjson.MapType{Key: ms.Key, Value: ms.Value, KeySize: int(ms.KeySize)}
	}
	dump := result.Maps{
		"colours": {{Key: "00000000", Value: "01000000"}, {Key: "01000000", Value: "63000000"}},
		"per_cpu": {{Key: "00000000", Values: []string{"01000200", "0300ff04"}}},
		".bss":    {{Key: "00000000", Value: "0500000001000600000000000100000000000000"[:2*int(spec.Maps[".bss"].ValueSize)]}},
	}
	js, err := btfjson.FormatMaps(dump, types)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"value": "GREEN"`, `"value": 99`, `"cpu": 1`, `"delta": 4`, `".bss": [`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("the dump lacks %s:\n%s", want, js)
		}
	}
	if strings.Contains(string(js), `".bss": [
    {
      "key"`) {
		t.Errorf("a global-data map's void key is printed:\n%s", js)
	}
	back, err := btfjson.ParseMaps(js, types)
	if err != nil {
		t.Fatal(err)
	}
	for name, entries := range dump {
		if got, want := fmt.Sprint(back[name]), fmt.Sprint(entries); got != want {
			t.Errorf("map %s read back as %s, want %s", name, got, want)
		}
	}
	t.Run("a map without BTF keeps hex strings", func(t *testing.T) {
		none := func(string) btfjson.MapType { return btfjson.MapType{KeySize: 4} }
		js, err := btfjson.FormatMaps(result.Maps{"m": {{Key: "01000000", Value: "ff"}}}, none)
		if err != nil || !strings.Contains(string(js), `"value": "ff"`) {
			t.Fatalf("%s %v", js, err)
		}
	})
	t.Run("bpftool's own dump entries are read through their formatted object", func(t *testing.T) {
		in := `{"colours":[{"key":["0x00","0x00","0x00","0x00"],"value":["0x07","0x00","0x00","0x00"],"formatted":{"key":0,"value":"BLUE"}}]}`
		got, err := btfjson.ParseMaps([]byte(in), types)
		if err != nil {
			t.Fatal(err)
		}
		if e := got["colours"]; len(e) != 1 || e[0].Key != "00000000" || e[0].Value != "07000000" {
			t.Errorf("got %+v", e)
		}
	})
}

// Printing a map value as its C type, and reading a hand-written one back.
func ExampleFormat() {
	spec, _ := ebpf.LoadCollectionSpec("testdata/types.o")
	inner := spec.Maps["per_cpu"].Value // struct inner { unsigned short port; unsigned char proto; signed char delta; }
	js, _ := btfjson.Format(inner, []byte{0x35, 0x00, 17, 0xfe})
	fmt.Println(string(js))
	b, _ := btfjson.Parse(inner, []byte(`{"port": 443, "proto": 6}`))
	fmt.Printf("%x\n", b)
	// Output:
	// {"port":53,"proto":17,"delta":-2}
	// bb010600
}
