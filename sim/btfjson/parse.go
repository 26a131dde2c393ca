package btfjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Parse turns JSON of the shape Format writes into a value of type t. It also takes numbers where
// Format writes enum names or bitfield hex strings, lists of numbers for char arrays, and objects
// that leave members out (they are zero). Errors name the member path ("value.inner.port").
func Parse(t btf.Type, js []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return ParseValue(t, v)
}

// ParseValue is Parse for JSON already decoded with json.Decoder.UseNumber.
func ParseValue(t btf.Type, v any) ([]byte, error) {
	size, err := btf.Sizeof(t)
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", t, err)
	}
	b := make([]byte, size)
	if err := parse(t, v, b, ""); err != nil {
		return nil, err
	}
	return b, nil
}

func at(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func parse(t btf.Type, v any, b []byte, path string) error {
	switch t := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		if t.Encoding == btf.Bool {
			switch v := v.(type) {
			case bool:
				if v {
					b[0] = 1
				}
				return nil
			case json.Number:
				return putInt(b[:t.Size], v.String(), false, path)
			}
			return fmt.Errorf("%swant true or false, got %s", where(path), show(v))
		}
		if t.Size == 16 {
			s, ok := v.(string)
			if !ok {
				if n, isNum := v.(json.Number); isNum {
					s = n.String()
				} else {
					return fmt.Errorf("%swant a 128-bit number as a hex string, got %s", where(path), show(v))
				}
			}
			return put128(b, s, path)
		}
		return putInt(b[:t.Size], numberText(v), t.Encoding == btf.Signed, path)
	case *btf.Enum:
		if s, ok := v.(string); ok && !strings.HasPrefix(s, "0x") {
			for _, e := range t.Values {
				if e.Name == s {
					putUint(b[:t.Size], e.Value)
					return nil
				}
			}
			return fmt.Errorf("%s%q is not a value of enum %s", where(path), s, t.Name)
		}
		_, signed := enumValue(t, 0)
		if n := numberText(v); strings.HasPrefix(n, "-") || !signed {
			return putInt(b[:t.Size], n, signed, path)
		}
		// bpftool prints a 32-bit enum signed; take its unsigned spelling too.
		return putInt(b[:t.Size], numberText(v), false, path)
	case *btf.Pointer:
		return putInt(b[:8], numberText(v), false, path)
	case *btf.Float:
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%swant a number, got %s", where(path), show(v))
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return fmt.Errorf("%s%w", where(path), err)
		}
		if t.Size == 4 {
			le.PutUint32(b, math.Float32bits(float32(f)))
		} else {
			le.PutUint64(b, math.Float64bits(f))
		}
		return nil
	case *btf.Array:
		n := int(t.Nelems)
		if s, ok := v.(string); ok && isChar(t.Type) {
			if len(s) >= n {
				return fmt.Errorf("%sthe string %q does not fit char[%d] with its NUL", where(path), s, n)
			}
			copy(b, s)
			return nil
		}
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%swant a list of %d elements, got %s", where(path), n, show(v))
		}
		if len(list) > n {
			return fmt.Errorf("%s%d elements for an array of %d", where(path), len(list), n)
		}
		if n == 0 {
			return nil
		}
		es := len(b) / n
		for i, e := range list {
			if isChar(t.Type) {
				// Signed chars print as -128..127; take 128..255 too.
				if num, ok := e.(json.Number); ok {
					if x, err := strconv.ParseInt(num.String(), 10, 64); err == nil && x >= -128 && x <= 255 {
						b[i] = byte(x)
						continue
					}
				}
			}
			if err := parse(t.Type, e, b[i*es:(i+1)*es], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case *btf.Struct:
		return parseMembers(t.Members, t.Name, v, b, path)
	case *btf.Union:
		return parseMembers(t.Members, t.Name, v, b, path)
	case *btf.Datasec:
		obj, ok := v.(map[string]any)
		if !ok || len(obj) != 1 {
			return fmt.Errorf("%swant {%q: [{variable: value}, ...]}, got %s", where(path), t.Name, show(v))
		}
		list, ok := obj[t.Name].([]any)
		if !ok {
			return fmt.Errorf("%swant the section %s as a list of variables", where(path), t.Name)
		}
		vars := map[string]btf.VarSecinfo{}
		for _, vs := range t.Vars {
			if vr, ok := vs.Type.(*btf.Var); ok {
				vars[vr.Name] = vs
			}
		}
		for _, item := range list {
			one, ok := item.(map[string]any)
			if !ok {
				return fmt.Errorf("%s%s: want one {variable: value} object per variable, got %s", where(path), t.Name, show(item))
			}
			for name, val := range one {
				vs, ok := vars[name]
				if !ok {
					return fmt.Errorf("%s%s has no variable %s", where(path), t.Name, name)
				}
				if err := parse(vs.Type.(*btf.Var).Type, val, b[vs.Offset:vs.Offset+vs.Size], at(path, name)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("%scannot read a value of type %s", where(path), t)
}

func parseMembers(members []btf.Member, name string, v any, b []byte, path string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%swant an object for %s, got %s", where(path), name, show(v))
	}
	known := map[string]bool{}
	for _, m := range members {
		known[m.Name] = true
		val, ok := obj[m.Name]
		if !ok {
			continue
		}
		p := at(path, m.Name)
		if m.BitfieldSize > 0 {
			x, err := strconv.ParseUint(strings.TrimPrefix(numberText(val), "0x"), base(numberText(val)), 64)
			if err != nil || (m.BitfieldSize < 64 && x >= 1<<m.BitfieldSize) {
				return fmt.Errorf("%s: %s does not fit a %d-bit field", p, show(val), m.BitfieldSize)
			}
			writeBits(b, int(m.Offset), int(m.BitfieldSize), x)
			continue
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		off := int(m.Offset) / 8
		if err := parse(m.Type, val, b[off:off+size], p); err != nil {
			return err
		}
	}
	for k := range obj {
		if !known[k] {
			return fmt.Errorf("%s%s has no member %q", where(path), name, k)
		}
	}
	return nil
}

func base(s string) int {
	if strings.HasPrefix(s, "0x") {
		return 16
	}
	return 10
}

// numberText is a JSON number's text, or a string's (bpftool writes bitfields and 128-bit numbers
// as hex strings).
func numberText(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case string:
		return v
	}
	return ""
}

func putInt(b []byte, s string, signed bool, path string) error {
	bits := len(b) * 8
	if s == "" {
		return fmt.Errorf("%swant a number", where(path))
	}
	if strings.HasPrefix(s, "0x") {
		u, err := strconv.ParseUint(s[2:], 16, bits)
		if err != nil {
			return fmt.Errorf("%s%s does not fit %d bits: %w", where(path), s, bits, ErrRange)
		}
		putUint(b, u)
		return nil
	}
	if signed || strings.HasPrefix(s, "-") {
		x, err := strconv.ParseInt(s, 10, bits)
		if err != nil || (!signed && x < 0) {
			return fmt.Errorf("%s%s does not fit a %d-bit %s: %w", where(path), s, bits, signedness(signed), ErrRange)
		}
		putUint(b, uint64(x))
		return nil
	}
	u, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return fmt.Errorf("%s%s does not fit a %d-bit %s: %w", where(path), s, bits, signedness(signed), ErrRange)
	}
	putUint(b, u)
	return nil
}

func signedness(signed bool) string {
	if signed {
		return "signed integer"
	}
	return "unsigned integer"
}

func put128(b []byte, s, path string) error {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) == 0 || len(h) > 32 {
		return fmt.Errorf("%swant a hex string 0x... of at most 32 digits, got %q", where(path), s)
	}
	h = strings.Repeat("0", 32-len(h)) + h
	hi, err1 := strconv.ParseUint(h[:16], 16, 64)
	lo, err2 := strconv.ParseUint(h[16:], 16, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%s%q is not hex", where(path), s)
	}
	le.PutUint64(b, lo)
	le.PutUint64(b[8:], hi)
	return nil
}

func putUint(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}
