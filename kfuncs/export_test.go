package kfuncs

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

func TestExportToSkbWritesTheStructAtDataMeta(t *testing.T) {
	// What mlx5 and veth supply for a TCP/IPv4 frame of Microsoft's first RSS vector (hash
	// 0x51ccc178), mlx5 with its 802.1Q tag stripped (see package device).
	const v4hash = 0x51ccc178
	all := HintTimestamp | HintHash | HintVLANTag
	mlx5 := RxHints{Supported: all, Valid: all, Timestamp: 1234, Hash: v4hash, HashType: RSSTypeL4IPv4TCP, VLANProto: 0x8100, VLANTCI: 0x6064}
	veth := RxHints{Supported: all, Valid: HintTimestamp | HintHash, Hash: v4hash, HashType: RSSTypeL4Any}
	// The expected bytes, field by field as include/xdp_skb_metadata.h lays them out.
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	cases := []struct {
		name    string
		hints   *RxHints
		metalen int // metadata the program wrote before
		want    []byte
	}{
		{"mlx5's three hints are all valid", &mlx5, 0, cat(le32(0x424b5358), le32(0), le64(1234),
			le32(v4hash), le32(0x19), []byte{0x81, 0x00}, []byte{0x64, 0x60}, le32(7))},
		{"veth's timestamp is valid and 0, its VLAN tag is not valid", &veth, 0, cat(le32(0x424b5358), le32(0), le64(0),
			le32(v4hash), le32(0x8), []byte{0, 0}, []byte{0, 0}, le32(3))},
		{"a device without metadata ops exports nothing valid", nil, 0, cat(le32(0x424b5358), le32(0), le64(0),
			le32(0), le32(0), []byte{0, 0}, []byte{0, 0}, le32(0))},
		{"the struct goes in front of the program's own metadata", &mlx5, 8, cat(le32(0x424b5358), le32(0), le64(1234),
			le32(v4hash), le32(0x19), []byte{0x81, 0x00}, []byte{0x64, 0x60}, le32(7))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFrame(t, c.metalen, c.hints)
			for i := range c.metalen {
				f.buf[f.meta+i] = 0xcc
			}
			tm := newTestMachine(f)
			r, err := tm.call(t, "bpf_xdp_metadata_export_to_skb", false)
			if r != 0 || err != nil {
				t.Fatalf("returned %d, %v", r, err)
			}
			if f.data-f.meta != c.metalen+32 {
				t.Fatalf("metadata is %d bytes, want %d", f.data-f.meta, c.metalen+32)
			}
			if got := f.buf[f.meta : f.meta+32]; string(got) != string(c.want) {
				t.Errorf("struct\n% x\nwant\n% x", got, c.want)
			}
			for i := f.meta + 32; i < f.data; i++ {
				if f.buf[i] != 0xcc {
					t.Fatalf("the program's metadata changed at %d", i)
				}
			}
		})
	}
}

func TestExportToSkbFailsAsTheFrameSays(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *testFrame)
		want  int64
	}{
		{"a frame without metadata support gives EOPNOTSUPP", func(f *testFrame) { f.metaOK = false }, -95},
		{"a second export gives EEXIST", func(f *testFrame) { f.exported = true }, -17},
		{"no room above the xdp_frame gives ENOSPC", func(f *testFrame) { f.data, f.meta = 60, 60 }, -28},
		// With 300 bytes before data, data_meta stays clear of the xdp_frame: only the length limits.
		{"metadata beyond 252 bytes gives ENOSPC", func(f *testFrame) { f.data, f.meta = 300, 300-224 }, -28},
		{"metadata of exactly 252 bytes fits", func(f *testFrame) { f.data, f.meta = 300, 300-220 }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFrame(t, 0, nil)
			c.setup(f)
			meta := f.meta
			tm := newTestMachine(f)
			r, err := tm.call(t, "bpf_xdp_metadata_export_to_skb", false)
			if err != nil || r != c.want {
				t.Fatalf("returned %d, %v; want %d", r, err, c.want)
			}
			if c.want != 0 && f.meta != meta {
				t.Error("a failed export moved data_meta")
			}
		})
	}
}

func TestParseSkbMetadataGivesTheSkbFields(t *testing.T) {
	enc := func(s SkbMetadata, extra int) []byte {
		b := make([]byte, 32+extra)
		s.Encode(b)
		return b
	}
	cases := []struct {
		name string
		meta []byte
		ok   bool
		want SkbFields
		json string
	}{
		{"every valid field reaches the skb",
			enc(SkbMetadata{Magic: SkbMetadataMagic, RxTimestamp: 99, RxHash: 0x51ccc178, RxHashType: 0x19, VLANProto: 0x8100, VLANTCI: 0x6064, Flags: 7}, 0),
			true, SkbFields{Set: allHints, HwTstamp: 99, Hash: 0x51ccc178, HashType: PktHashL4, VLANProto: 0x8100, VLANTCI: 0x6064},
			`{"hwtstamp":99,"hash":1372373368,"hash_type":"L4","vlan_proto":"0x8100","vlan_tci":24676,"meta_len":0}`},
		{"an L3 hash type gives an L3 skb hash",
			enc(SkbMetadata{Magic: SkbMetadataMagic, RxHash: 5, RxHashType: RSSTypeL3IPv6Ex, Flags: SkbMetaHash}, 0),
			true, SkbFields{Set: HintHash, Hash: 5, HashType: PktHashL3}, `{"hash":5,"hash_type":"L3","meta_len":0}`},
		{"a hash of type NONE is kept with an undefined type",
			enc(SkbMetadata{Magic: SkbMetadataMagic, RxHash: 5, Flags: SkbMetaHash}, 0),
			true, SkbFields{Set: HintHash, Hash: 5, HashType: PktHashNone}, `{"hash":5,"hash_type":"NONE","meta_len":0}`},
		{"a zero timestamp leaves the skb's alone, as in the RFC",
			enc(SkbMetadata{Magic: SkbMetadataMagic, Flags: SkbMetaTimestamp}, 0),
			true, SkbFields{}, `{"meta_len":0}`},
		{"fields without their flag are ignored",
			enc(SkbMetadata{Magic: SkbMetadataMagic, RxTimestamp: 1, RxHash: 2, VLANTCI: 3}, 8),
			true, SkbFields{MetaLen: 8}, `{"meta_len":8}`},
		{"metadata without the magic is not the struct",
			enc(SkbMetadata{Magic: 0x424b5359, Flags: 7}, 0), false, SkbFields{}, ""},
		{"metadata shorter than the struct is not the struct",
			enc(SkbMetadata{Magic: SkbMetadataMagic}, 0)[:28], false, SkbFields{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ParseSkbMetadata(c.meta)
			if ok != c.ok || got != c.want {
				t.Fatalf("got %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
			if !ok {
				return
			}
			j, err := json.Marshal(got)
			if err != nil || string(j) != c.json {
				t.Errorf("JSON %s (%v), want %s", j, err, c.json)
			}
		})
	}
	t.Run("the export and the parse agree", func(t *testing.T) {
		// ice's hints for a UDP/IPv6 frame of Microsoft's first IPv6 vector (hash 0x40207d3d).
		const v6hash = 0x40207d3d
		h := RxHints{Supported: HintTimestamp | HintHash | HintVLANTag, Valid: HintTimestamp | HintHash, Timestamp: 42, Hash: v6hash, HashType: RSSTypeL4IPv6UDP}
		f := newTestFrame(t, 4, &h)
		if r, _ := newTestMachine(f).call(t, "bpf_xdp_metadata_export_to_skb", false); r != 0 {
			t.Fatalf("export returned %d", r)
		}
		got, ok := ParseSkbMetadata(f.buf[f.meta:f.data])
		want := SkbFields{Set: HintTimestamp | HintHash, HwTstamp: 42, Hash: v6hash, HashType: PktHashL4, MetaLen: 4}
		if !ok || got != want {
			t.Errorf("got %+v, %v; want %+v", got, ok, want)
		}
	})
}
