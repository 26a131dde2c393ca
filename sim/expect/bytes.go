package expect

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// ParseBytes reads bytes written as hex ("0800", "hex:0800", spaces allowed) or as typed numbers
// separated by spaces: u8:N, u16:N, u32:N, u64:N little-endian, be16:N, be32:N network order.
func ParseBytes(s string) ([]byte, error) {
	var out []byte
	for _, item := range strings.Fields(s) {
		typ, num, typed := strings.Cut(item, ":")
		if !typed || typ == "hex" {
			if typ == "hex" {
				item = num
			}
			b, err := hex.DecodeString(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not hex bytes", item)
			}
			out = append(out, b...)
			continue
		}
		var size int
		big := strings.HasPrefix(typ, "be")
		switch strings.TrimPrefix(strings.TrimPrefix(typ, "be"), "u") {
		case "8":
			size = 1
		case "16":
			size = 2
		case "32":
			size = 4
		case "64":
			size = 8
		default:
			return nil, fmt.Errorf("%q: want hex, or u8/u16/u32/u64/be16/be32:NUMBER", item)
		}
		v, err := strconv.ParseUint(num, 0, size*8)
		if err != nil {
			return nil, fmt.Errorf("%q: %d-bit number: %w", item, size*8, err)
		}
		b := make([]byte, 8)
		if big {
			binary.BigEndian.PutUint64(b, v)
			b = b[8-size:]
		} else {
			binary.LittleEndian.PutUint64(b, v)
			b = b[:size]
		}
		out = append(out, b...)
	}
	return out, nil
}
