// Package btfjson converts map keys and values between their bytes and JSON shaped by the C types
// the object's BTF declares, as `bpftool map dump -j` prints them under "formatted": structs and
// unions as objects, arrays as lists, integers as numbers, enums by name when the value is one of
// the enum's, char arrays that hold a printable NUL-terminated string as that string, bitfields as
// hex strings, and global-data sections as lists of one-variable objects. Both the simulator's map
// dumps and the tools that read them back (xdpsim run --maps-in, dump) go through it.
package btfjson

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

var le = binary.LittleEndian

// Format writes b, a value of type t, as JSON the way bpftool prints it with BTF.
func Format(t btf.Type, b []byte) ([]byte, error) {
	size, err := btf.Sizeof(t)
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", t, err)
	}
	if size != len(b) {
		return nil, fmt.Errorf("type %s is %d bytes, the data %d", t, size, len(b))
	}
	var w strings.Builder
	if err := format(&w, t, b); err != nil {
		return nil, err
	}
	return []byte(w.String()), nil
}

func format(w *strings.Builder, t btf.Type, b []byte) error {
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		return formatInt(w, t, b)
	case *btf.Enum:
		v, signed := enumValue(t, readUint(b[:t.Size]))
		for _, e := range t.Values {
			if ev, _ := enumValue(t, e.Value); ev == v {
				writeString(w, e.Name)
				return nil
			}
		}
		if signed {
			w.WriteString(strconv.FormatInt(int64(v), 10))
		} else {
			w.WriteString(strconv.FormatUint(v, 10))
		}
	case *btf.Pointer:
		w.WriteString(strconv.FormatUint(readUint(b[:8]), 10))
	case *btf.Float:
		var f float64
		if t.Size == 4 {
			f = float64(math.Float32frombits(le.Uint32(b)))
		} else {
			f = math.Float64frombits(le.Uint64(b))
		}
		w.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case *btf.Array:
		n := int(t.Nelems)
		if n == 0 {
			w.WriteString("[]")
			return nil
		}
		if isChar(t.Type) {
			if s, ok := cString(b); ok {
				writeString(w, s)
				return nil
			}
		}
		es := len(b) / n
		w.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := format(w, t.Type, b[i*es:(i+1)*es]); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case *btf.Struct:
		return formatMembers(w, t.Members, b)
	case *btf.Union:
		return formatMembers(w, t.Members, b)
	case *btf.Datasec:
		w.WriteString("{")
		writeString(w, t.Name)
		w.WriteString(":[")
		for i, v := range t.Vars {
			vr, ok := v.Type.(*btf.Var)
			if !ok || int(v.Offset+v.Size) > len(b) {
				return fmt.Errorf("section %s: variable %d does not fit", t.Name, i)
			}
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteByte('{')
			writeString(w, vr.Name)
			w.WriteByte(':')
			if err := format(w, vr.Type, b[v.Offset:v.Offset+v.Size]); err != nil {
				return err
			}
			w.WriteByte('}')
		}
		w.WriteString("]}")
	default:
		return fmt.Errorf("cannot print a value of type %s", t)
	}
	return nil
}

// enumValue is how bpftool reads an enum: a 32-bit (or smaller) enum as a signed number whatever
// its BTF says (measured: 0xd1fd3a5c prints as -771933604), a 64-bit one by its signedness.
func enumValue(t *btf.Enum, raw uint64) (v uint64, signed bool) {
	if t.Size < 8 {
		return uint64(signExtend(raw, int(t.Size)*8)), true
	}
	return raw, t.Signed
}

func formatMembers(w *strings.Builder, members []btf.Member, b []byte) error {
	w.WriteByte('{')
	first := true
	for _, m := range members {
		off := int(m.Offset)
		if m.BitfieldSize > 0 {
			v := readBits(b, off, int(m.BitfieldSize))
			comma(w, &first)
			writeString(w, m.Name)
			fmt.Fprintf(w, `:"%#x"`, v)
			continue
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
		if off%8 != 0 || off/8+size > len(b) {
			return fmt.Errorf("member %s at bit %d does not fit", m.Name, off)
		}
		comma(w, &first)
		if m.Name != "" {
			writeString(w, m.Name)
			w.WriteByte(':')
		} else {
			// An anonymous struct or union: bpftool prints its members under an empty name.
			w.WriteString(`"":`)
		}
		if err := format(w, m.Type, b[off/8:off/8+size]); err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
	}
	w.WriteByte('}')
	return nil
}

func comma(w *strings.Builder, first *bool) {
	if !*first {
		w.WriteByte(',')
	}
	*first = false
}

func formatInt(w *strings.Builder, t *btf.Int, b []byte) error {
	switch {
	case t.Encoding == btf.Bool:
		if readUint(b[:t.Size]) != 0 {
			w.WriteString("true")
		} else {
			w.WriteString("false")
		}
	case t.Size == 16:
		lo, hi := le.Uint64(b), le.Uint64(b[8:])
		if hi == 0 {
			fmt.Fprintf(w, `"%#x"`, lo)
		} else {
			fmt.Fprintf(w, `"%#x%016x"`, hi, lo)
		}
	case t.Size > 8:
		return fmt.Errorf("a %d-byte integer", t.Size)
	case t.Encoding == btf.Signed:
		w.WriteString(strconv.FormatInt(signExtend(readUint(b[:t.Size]), int(t.Size)*8), 10))
	default:
		w.WriteString(strconv.FormatUint(readUint(b[:t.Size]), 10))
	}
	return nil
}

// isChar says whether t is C's char: bpftool prints only char arrays (not signed or unsigned
// char ones) as strings.
func isChar(t btf.Type) bool {
	i, ok := btf.UnderlyingType(t).(*btf.Int)
	return ok && i.Size == 1 && i.Name == "char"
}

// cString returns the string a char array holds when it is printable up to a NUL within the array.
func cString(b []byte) (string, bool) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), true
		}
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return "", false
}

// writeString writes a JSON string of printable ASCII as bpftool's JSON writer does.
func writeString(w *strings.Builder, s string) {
	w.WriteByte('"')
	for _, c := range []byte(s) {
		switch c {
		case '"', '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
		default:
			if c < 0x20 {
				fmt.Fprintf(w, `\u%04x`, c)
			} else {
				w.WriteByte(c)
			}
		}
	}
	w.WriteByte('"')
}

func readUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func signExtend(v uint64, bits int) int64 {
	if bits >= 64 {
		return int64(v)
	}
	s := 64 - bits
	return int64(v<<s) >> s
}

// readBits reads n bits from bit off of little-endian data.
func readBits(b []byte, off, n int) uint64 {
	var v uint64
	for i := n - 1; i >= 0; i-- {
		bit := off + i
		v = v<<1 | uint64(b[bit/8]>>(bit%8)&1)
	}
	return v
}

func writeBits(b []byte, off, n int, v uint64) {
	for i := 0; i < n; i++ {
		bit := off + i
		b[bit/8] &^= 1 << (bit % 8)
		b[bit/8] |= byte(v>>i&1) << (bit % 8)
	}
}

// ErrRange is matched by errors.Is for numbers that do not fit their type.
var ErrRange = errors.New("out of range")
