package kfuncs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/xdpsim/xdpsim/vm"
)

// bpf_xdp_metadata_export_to_skb, behind --feature export-to-skb, after Stanislav Fomichev's 2022 "xdp:
// hints via kfuncs" series (the RFC of October/November 2022 and v1 of 15 November 2022; dropped from
// v2 on, never merged). There the kfunc copied the device's RX metadata into a kernel-defined struct
// in front of the program's own metadata, and the kernel used it to fill the skb's fields when it
// built one from the frame (XDP_PASS, or a frame redirected to another device or a cpumap). The RFC's
// struct carried a magic number and only the RX timestamp; xdpsim's carries every hint the kernel has
// today, with flags saying which are valid, in a fixed layout a program can include:
// include/xdp_skb_metadata.h.
//
// Unlike the RFC, which kept the struct just before data_meta, out of the program's sight, xdpsim
// grows the metadata for it, as bpf_xdp_adjust_meta would: the struct is at data_meta, in front of
// any metadata the program wrote before. As in the RFC, the export runs once per frame and
// bpf_xdp_adjust_meta fails afterwards.

// SkbMetadataSize is the size of struct xdp_skb_metadata.
const SkbMetadataSize = 32

// SkbMetadataMagic starts a struct xdp_skb_metadata: the bytes "XSKB" in memory (the RFC used a random
// odd number chosen at boot, to keep programs from relying on the layout).
const SkbMetadataMagic = 0x424b5358

// The flags of struct xdp_skb_metadata: which fields are valid. They are the [Hint] bits.
const (
	SkbMetaTimestamp = uint32(HintTimestamp) // rx_timestamp is valid
	SkbMetaHash      = uint32(HintHash)      // rx_hash and rx_hash_type are valid
	SkbMetaVLAN      = uint32(HintVLANTag)   // vlan_proto and vlan_tci are valid
)

// SkbMetadata is struct xdp_skb_metadata, the kernel-defined metadata bpf_xdp_metadata_export_to_skb
// writes. In memory (little-endian, like the simulated machine):
//
//	offset size field
//	     0    4 magic          SkbMetadataMagic
//	     4    4 reserved       0
//	     8    8 rx_timestamp   ns, as bpf_xdp_metadata_rx_timestamp gives it
//	    16    4 rx_hash        as bpf_xdp_metadata_rx_hash gives it
//	    20    4 rx_hash_type   enum xdp_rss_hash_type
//	    24    2 vlan_proto     network byte order (__be16), as bpf_xdp_metadata_rx_vlan_tag gives it
//	    26    2 vlan_tci       host byte order
//	    28    4 flags          SkbMeta* bits: which of the fields above are valid
//
// A field whose hint the device did not supply (its kfunc would return an error) is 0 and its flag
// is clear.
type SkbMetadata struct {
	Magic       uint32
	Reserved    uint32
	RxTimestamp uint64
	RxHash      uint32
	RxHashType  RSSType
	VLANProto   uint16 // as a number; stored big-endian
	VLANTCI     uint16
	Flags       uint32
}

// Encode writes the struct to b, which must hold SkbMetadataSize bytes.
func (s *SkbMetadata) Encode(b []byte) {
	_ = b[SkbMetadataSize-1]
	le.PutUint32(b[0:], s.Magic)
	le.PutUint32(b[4:], s.Reserved)
	le.PutUint64(b[8:], s.RxTimestamp)
	le.PutUint32(b[16:], s.RxHash)
	le.PutUint32(b[20:], uint32(s.RxHashType))
	binary.BigEndian.PutUint16(b[24:], s.VLANProto)
	le.PutUint16(b[26:], s.VLANTCI)
	le.PutUint32(b[28:], s.Flags)
}

// DecodeSkbMetadata reads a struct xdp_skb_metadata from the first SkbMetadataSize bytes of b; it
// reports false when b is shorter or does not start with SkbMetadataMagic.
func DecodeSkbMetadata(b []byte) (SkbMetadata, bool) {
	if len(b) < SkbMetadataSize || le.Uint32(b) != SkbMetadataMagic {
		return SkbMetadata{}, false
	}
	return SkbMetadata{
		Magic:       le.Uint32(b[0:]),
		Reserved:    le.Uint32(b[4:]),
		RxTimestamp: le.Uint64(b[8:]),
		RxHash:      le.Uint32(b[16:]),
		RxHashType:  RSSType(le.Uint32(b[20:])),
		VLANProto:   binary.BigEndian.Uint16(b[24:]),
		VLANTCI:     le.Uint16(b[26:]),
		Flags:       le.Uint32(b[28:]),
	}, true
}

// ExportHints fills the struct from a frame's hints: each hint the kfuncs would return with 0
// becomes a valid field.
func ExportHints(h *RxHints) SkbMetadata {
	s := SkbMetadata{Magic: SkbMetadataMagic}
	if hintStatus(h, HintTimestamp) == 0 {
		s.RxTimestamp = h.Timestamp
		s.Flags |= SkbMetaTimestamp
	}
	if hintStatus(h, HintHash) == 0 {
		s.RxHash, s.RxHashType = h.Hash, h.HashType
		s.Flags |= SkbMetaHash
	}
	if hintStatus(h, HintVLANTag) == 0 {
		s.VLANProto, s.VLANTCI = h.VLANProto, h.VLANTCI
		s.Flags |= SkbMetaVLAN
	}
	return s
}

func init() {
	register(Kfunc{
		Types: xdpOnly,
		Name:  "bpf_xdp_metadata_export_to_skb",
		Proto: "int bpf_xdp_metadata_export_to_skb(const struct xdp_md *ctx)",
		Doc: "writes the device's RX hints as a struct xdp_skb_metadata at the front of the metadata, for the skb built " +
			"from the frame: 0, -EOPNOTSUPP (no metadata support), -EEXIST (exported before) or -ENOSPC (no room)",
		Args:              []Arg{{Name: "ctx", Type: "const struct xdp_md *", Kind: ArgCtx}},
		DevBound:          true,
		ChangesPacketData: true,
		Feature:           FeatureExportToSkb,
	}, func(Features) vm.Helper { return exportToSkb })
}

func exportToSkb(m *vm.Machine, _, _, _, _, _ uint64) (uint64, error) {
	f, err := frameOf(m)
	if err != nil {
		return 0, err
	}
	b, err := f.GrowMeta(SkbMetadataSize)
	if err != nil {
		return ret(err)
	}
	if len(b) < SkbMetadataSize {
		return 0, fmt.Errorf("frame grew the metadata by %d bytes, not %d", len(b), SkbMetadataSize)
	}
	s := ExportHints(f.Hints())
	s.Encode(b)
	return 0, nil
}

// PktHashType is the kernel's enum pkt_hash_types: what an skb's hash covers.
type PktHashType uint8

// The pkt_hash_types values.
const (
	PktHashNone PktHashType = iota // PKT_HASH_TYPE_NONE: undefined
	PktHashL2                      // PKT_HASH_TYPE_L2
	PktHashL3                      // PKT_HASH_TYPE_L3
	PktHashL4                      // PKT_HASH_TYPE_L4
)

func (t PktHashType) String() string {
	switch t {
	case PktHashL2:
		return "L2"
	case PktHashL3:
		return "L3"
	case PktHashL4:
		return "L4"
	}
	return "NONE"
}

// SkbFields are the skb fields the kernel fills from a struct xdp_skb_metadata when it builds the skb
// of a frame: what the skb hand-off shows the program populated.
type SkbFields struct {
	// Set says which fields below the metadata populated.
	Set Hint
	// HwTstamp is skb_hwtstamps(skb)->hwtstamp in ns (Set has HintTimestamp only when it is not
	// 0: the RFC left the skb's timestamp alone for a zero timestamp).
	HwTstamp uint64
	// Hash and HashType are what skb_set_hash(skb, hash, type) stores: the hash, and L4 when
	// the RSS type has XDP_RSS_L4, L3 when it has an L3 bit, NONE otherwise (as drivers map
	// their descriptors' hash types).
	Hash     uint32
	HashType PktHashType
	// VLANProto and VLANTCI are the hardware-accelerated tag (__vlan_hwaccel_put_tag).
	VLANProto uint16
	VLANTCI   uint16
	// MetaLen is the length of the metadata the program wrote behind the struct, which the skb
	// keeps as its own metadata (skb_metadata_len, as a TC program sees it): the struct itself is
	// consumed.
	MetaLen int
}

// ParseSkbMetadata reads the skb fields from a frame's metadata area (data_meta to data) when it
// starts with a struct xdp_skb_metadata, as it does after bpf_xdp_metadata_export_to_skb; it reports
// false otherwise. The skb hand-off calls it for frames whose program exported (the frame knows; the
// magic number guards against metadata that merely looks like the struct).
func ParseSkbMetadata(meta []byte) (SkbFields, bool) {
	s, ok := DecodeSkbMetadata(meta)
	if !ok {
		return SkbFields{}, false
	}
	f := SkbFields{MetaLen: len(meta) - SkbMetadataSize}
	if s.Flags&SkbMetaTimestamp != 0 && s.RxTimestamp != 0 {
		f.Set |= HintTimestamp
		f.HwTstamp = s.RxTimestamp
	}
	if s.Flags&SkbMetaHash != 0 {
		f.Set |= HintHash
		f.Hash = s.RxHash
		switch {
		case s.RxHashType&RSSL4 != 0:
			f.HashType = PktHashL4
		case s.RxHashType&(RSSL3IPv4|RSSL3IPv6) != 0:
			f.HashType = PktHashL3
		}
	}
	if s.Flags&SkbMetaVLAN != 0 {
		f.Set |= HintVLANTag
		f.VLANProto, f.VLANTCI = s.VLANProto, s.VLANTCI
	}
	return f, true
}

// MarshalJSON gives only the populated fields, as
// {"hwtstamp":1,"hash":2,"hash_type":"L4","vlan_proto":"0x8100","vlan_tci":100,"meta_len":0}.
func (f SkbFields) MarshalJSON() ([]byte, error) {
	type out struct {
		HwTstamp  *uint64 `json:"hwtstamp,omitempty"`
		Hash      *uint32 `json:"hash,omitempty"`
		HashType  string  `json:"hash_type,omitempty"`
		VLANProto string  `json:"vlan_proto,omitempty"`
		VLANTCI   *uint16 `json:"vlan_tci,omitempty"`
		MetaLen   int     `json:"meta_len"`
	}
	o := out{MetaLen: f.MetaLen}
	if f.Set&HintTimestamp != 0 {
		o.HwTstamp = &f.HwTstamp
	}
	if f.Set&HintHash != 0 {
		o.Hash, o.HashType = &f.Hash, f.HashType.String()
	}
	if f.Set&HintVLANTag != 0 {
		o.VLANProto, o.VLANTCI = fmt.Sprintf("%#04x", f.VLANProto), &f.VLANTCI
	}
	return json.Marshal(o)
}
