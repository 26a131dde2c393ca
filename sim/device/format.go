package device

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/kfuncs"
)

// The text form of member values, as `xdpsim dev get` prints them and `dev set` and state files
// take them. Numbers are decimal (set takes 0x hex too); byte arrays are hex, without the zero
// bytes that end them (set pads with zeros); other arrays are comma lists, where VALUE*COUNT stands
// for a run of equal entries. A few members read
// better with names: the feature and offload bits get their netlink and ethtool names after the
// number, and the indirection table says "equal N" when it spreads over N queues round robin.

// Format gives member f of value as text.
func (c *Client) Format(value []byte, f Field) string {
	b := value[f.Offset : f.Offset+f.Size]
	if f.Count == 0 {
		v := readUint(b, f.Elem)
		var names []string
		switch f.Name {
		case "xdp_features":
			names = XDPAct(v).Names()
		case "xdp_rx_metadata_features":
			names = hintNames(kfuncs.Hint(v))
		case "xsk_features":
			names = XSKFlags(v).Names()
		case "offloads":
			names = flagNames(v, offloadNames[:])
		case "rss_hash_fields":
			names = RSSFields(v).Names()
		default:
			if e, ok := enumNames[f.Name]; ok && c.isNetkit(value) {
				if n, ok := e[v]; ok {
					return fmt.Sprintf("%d (%s)", v, n)
				}
			}
			return strconv.FormatUint(v, 10)
		}
		if len(names) == 0 {
			return fmt.Sprintf("%#x", v)
		}
		return fmt.Sprintf("%#x (%s)", v, strings.Join(names, ","))
	}
	if f.Elem == 1 {
		end := len(b)
		for end > 0 && b[end-1] == 0 {
			end--
		}
		if end == 0 {
			return "0"
		}
		return hex.EncodeToString(b[:end])
	}
	n := f.Count
	if f.Name == "rss_indir" {
		if sz, err := c.Field("rss_indir_size"); err == nil {
			n = min(int(readUint(value[sz.Offset:sz.Offset+sz.Size], sz.Elem)), f.Count)
		}
		if n == 0 {
			return "none"
		}
		if q := roundRobin(b, f.Elem, n); q > 0 {
			return fmt.Sprintf("equal %d (%d entries)", q, n)
		}
	}
	// Runs of four or more equal entries read as VALUE*COUNT.
	var parts []string
	for i := 0; i < n; {
		v := readUint(b[i*f.Elem:], f.Elem)
		j := i + 1
		for j < n && readUint(b[j*f.Elem:], f.Elem) == v {
			j++
		}
		if j-i >= 4 {
			parts = append(parts, fmt.Sprintf("%d*%d", v, j-i))
		} else {
			for range j - i {
				parts = append(parts, strconv.FormatUint(v, 10))
			}
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// enumNames name the values of the netkit members, as topology files and `ip link` name them.
var enumNames = map[string]map[uint64]string{
	"netkit":             {1: "primary", 2: "peer"},
	"netkit_mode":        {uint64(NetkitL2): "l2", uint64(NetkitL3): "l3"},
	"netkit_policy":      {uint64(NetkitPass): "pass", uint64(NetkitDrop): "drop"},
	"netkit_peer_policy": {uint64(NetkitPass): "pass", uint64(NetkitDrop): "drop"},
	"netkit_scrub":       {uint64(NetkitScrubNone): "none", uint64(NetkitScrubDefault): "default"},
	"netkit_peer_scrub":  {uint64(NetkitScrubNone): "none", uint64(NetkitScrubDefault): "default"},
}

// enumByName parses a value name of a netkit member ("drop").
func enumByName(member, text string) (uint64, bool) {
	for v, n := range enumNames[member] {
		if n == text {
			return v, true
		}
	}
	return 0, false
}

// isNetkit reads the netkit member of a value: its netkit members mean something only then.
func (c *Client) isNetkit(value []byte) bool {
	f, err := c.Field("netkit")
	return err == nil && readUint(value[f.Offset:f.Offset+f.Size], f.Elem) != 0
}

// flagsByName parses a list of bit names ("rx-vlan,gro") for the members Format names bits of.
func flagsByName(member, text string) (uint64, bool) {
	var names []string
	switch member {
	case "offloads":
		names = offloadNames[:]
	case "xdp_features":
		names = xdpActNames[:]
	case "xdp_rx_metadata_features":
		names = rxMetadataNames[:]
	case "xsk_features":
		names = xskFlagNames[:]
	case "rss_hash_fields":
		names = rssFieldNames[:]
	default:
		return 0, false
	}
	var v uint64
	for _, n := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '|' || r == ' ' }) {
		i := slices.Index(names, n)
		if i < 0 {
			return 0, false
		}
		v |= 1 << i
	}
	return v, true
}

// offloadNames are the ethtool names of the offload bits.
var offloadNames = [...]string{"rx-vlan", "rx-vlan-stag", "gro"}

// roundRobin gives q when the first n entries are 0, 1, ..., q-1 over and over (0: they are not).
func roundRobin(b []byte, elem, n int) int {
	q := 0
	for i := range n {
		if v := int(readUint(b[i*elem:], elem)); v+1 > q {
			q = v + 1
		}
	}
	for i := range n {
		if int(readUint(b[i*elem:], elem)) != i%q {
			return 0
		}
	}
	return q
}

// Parse writes text as member f into value.
func (c *Client) Parse(value []byte, f Field, text string) error {
	b := value[f.Offset : f.Offset+f.Size]
	text = strings.TrimSpace(text)
	if f.Count == 0 {
		num, _, _ := strings.Cut(text, " (") // what Format adds: "0x1 (rx-vlan)"
		v, err := strconv.ParseUint(num, 0, f.Elem*8)
		if err != nil {
			var ok bool
			if v, ok = enumByName(f.Name, text); ok {
				writeUint(b, f.Elem, v)
				return nil
			}
			if v, ok = flagsByName(f.Name, text); !ok {
				return fmt.Errorf("%s: %q is not a %d-bit number", f.Name, text, f.Elem*8)
			}
		}
		writeUint(b, f.Elem, v)
		return nil
	}
	if text == "0" || text == "none" { // what Format gives for an empty array
		clear(b)
		return nil
	}
	if f.Elem == 1 {
		raw, err := hex.DecodeString(strings.TrimPrefix(text, "0x"))
		if err != nil {
			return fmt.Errorf("%s: %q is not hex: %w", f.Name, text, err)
		}
		if len(raw) > len(b) {
			return fmt.Errorf("%s: %d bytes given, it holds %d", f.Name, len(raw), len(b))
		}
		clear(b)
		copy(b, raw)
		return nil
	}
	var entries []uint64
	if rest, ok := strings.CutPrefix(text, "equal "); ok {
		rest, _, _ = strings.Cut(rest, " (") // what Format adds: "equal 4 (256 entries)"
		q, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil || q < 1 {
			return fmt.Errorf("%s: %q: equal takes a queue count", f.Name, text)
		}
		n := f.Count
		if sz, err := c.Field("rss_indir_size"); err == nil && f.Name == "rss_indir" {
			n = int(readUint(value[sz.Offset:sz.Offset+sz.Size], sz.Elem))
		}
		for i := range n {
			entries = append(entries, uint64(i%q))
		}
	} else {
		for i, s := range strings.Split(text, ",") {
			s, count := strings.TrimSpace(s), 1
			if v, c, ok := strings.Cut(s, "*"); ok {
				n, err := strconv.Atoi(c)
				if err != nil || n < 1 {
					return fmt.Errorf("%s: entry %d, %q: the count after * is not a positive number", f.Name, i, s)
				}
				s, count = v, n
			}
			v, err := strconv.ParseUint(s, 0, f.Elem*8)
			if err != nil {
				return fmt.Errorf("%s: entry %d, %q, is not a %d-bit number", f.Name, i, s, f.Elem*8)
			}
			if len(entries)+count > f.Count {
				return fmt.Errorf("%s: more than the %d entries it holds", f.Name, f.Count)
			}
			for range count {
				entries = append(entries, v)
			}
		}
	}
	if len(entries) > f.Count {
		return fmt.Errorf("%s: %d entries given, it holds %d", f.Name, len(entries), f.Count)
	}
	clear(b)
	for i, v := range entries {
		writeUint(b[i*f.Elem:], f.Elem, v)
	}
	return nil
}

func readUint(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(le.Uint16(b))
	case 4:
		return uint64(le.Uint32(b))
	}
	return le.Uint64(b)
}

func writeUint(b []byte, size int, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		le.PutUint16(b, uint16(v))
	case 4:
		le.PutUint32(b, uint32(v))
	default:
		le.PutUint64(b, v)
	}
}
