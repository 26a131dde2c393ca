package sim

import (
	"bytes"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// The string helpers of bpf_base_func_proto (kernel/bpf/helpers.c): bpf_snprintf, bpf_strncmp,
// bpf_strtol and bpf_strtoul.

func init() {
	registerBase(asm.FnSnprintf, snprintf)
	registerBase(asm.FnStrncmp, strncmp)
	registerBase(asm.FnStrtol, func(s *runState, m *vm.Machine, buf, n, flags, res, _ uint64) (uint64, error) {
		return strtox(m, buf, n, flags, res, true)
	})
	registerBase(asm.FnStrtoul, func(s *runState, m *vm.Machine, buf, n, flags, res, _ uint64) (uint64, error) {
		return strtox(m, buf, n, flags, res, false)
	})
}

// maxSnprintfArgs is MAX_BPRINTF_VARARGS.
const maxSnprintfArgs = 12

// snprintf is bpf_snprintf(str, str_size, fmt, data, data_len): it formats as bpf_trace_printk does
// (the kernel's bpf_bprintf_prepare) into str, cut to str_size with a NUL, and returns the length
// of the whole formatted string plus one; -EINVAL for a bad argument array or format.
func snprintf(s *runState, m *vm.Machine, str, size, fmtp, data, dataLen uint64) (uint64, error) {
	n := uint32(dataLen)
	if n%8 != 0 || n > maxSnprintfArgs*8 || (n != 0 && data == 0) {
		return errno.EINVAL.Return(), nil
	}
	f, err := cString(m, fmtp)
	if err != nil {
		return 0, err
	}
	var args []uint64
	if n > 0 {
		b, err := m.Bytes(data, int(n), false)
		if err != nil {
			return 0, err
		}
		for i := 0; i < len(b); i += 8 {
			args = append(args, le.Uint64(b[i:]))
		}
	}
	out, err := formatPrintk(m, f, args)
	if err != nil {
		return errno.EINVAL.Return(), nil
	}
	if sz := uint32(size); sz > 0 {
		b, err := m.Bytes(str, int(sz), true)
		if err != nil {
			return 0, err
		}
		k := copy(b[:sz-1], out)
		b[k] = 0
	}
	return uint64(len(out) + 1), nil
}

// strncmp is bpf_strncmp(s1, s1_sz, s2): the kernel's strncmp of s1 against the constant string
// s2 over at most s1_sz bytes: -1, 0 or 1.
func strncmp(s *runState, m *vm.Machine, s1, n, s2, _, _ uint64) (uint64, error) {
	a, err := m.Bytes(s1, int(uint32(n)), false)
	if err != nil {
		return 0, err
	}
	b, err := cString(m, s2)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(a); i++ {
		var c2 byte
		if i < len(b) {
			c2 = b[i]
		}
		if a[i] != c2 {
			if a[i] < c2 {
				return uint64(1<<64 - 1), nil
			}
			return 1, nil
		}
		if a[i] == 0 {
			break
		}
	}
	return 0, nil
}

const (
	strtoxBaseMask = 0x1f // BPF_STRTOX_BASE_MASK
	strtoxOverflow = 1 << 31
)

// strtox is bpf_strtol (signed) and bpf_strtoul: it parses an integer from the first n bytes of
// buf (leading spaces, a '-', a 0x or 0 prefix in base 0) into *res and returns the bytes it
// consumed, or -EINVAL (bad base or flags, no digits, a '-' for strtoul) or -ERANGE.
func strtox(m *vm.Machine, buf, n, flags, res uint64, signed bool) (uint64, error) {
	l := int(uint32(n))
	out, err := m.Bytes(res, 8, true)
	if err != nil {
		return 0, err
	}
	if l == 0 {
		return errno.EINVAL.Return(), nil
	}
	b, err := m.Bytes(buf, l, false)
	if err != nil {
		return 0, err
	}
	base := uint(flags & strtoxBaseMask)
	if base != 0 && base != 8 && base != 10 && base != 16 || flags&^strtoxBaseMask != 0 {
		return errno.EINVAL.Return(), nil
	}
	i := 0
	for i < l && isSpace(b[i]) {
		i++
	}
	negative := i < l && b[i] == '-'
	if negative {
		i++
	}
	consumed := i
	if consumed == l {
		return errno.EINVAL.Return(), nil
	}
	// The kernel parses a NUL-terminated copy of at most 63 bytes.
	str := b[i:min(l, i+63)]
	if j := bytes.IndexByte(str, 0); j >= 0 {
		str = str[:j]
	}
	p := 0
	if base == 0 {
		switch {
		case len(str) > 2 && str[0] == '0' && (str[1]|0x20) == 'x' && isHexDigit(str[2]):
			base = 16
		case len(str) > 0 && str[0] == '0':
			base = 8
		default:
			base = 10
		}
	}
	if base == 16 && len(str) > 1 && str[0] == '0' && (str[1]|0x20) == 'x' {
		p = 2
	}
	v, digits, overflow := parseDigits(str[p:], base)
	if overflow {
		return errno.ERANGE.Return(), nil
	}
	if digits == 0 {
		return errno.EINVAL.Return(), nil
	}
	consumed += p + digits
	if signed {
		r := int64(v)
		if negative {
			if -r > 0 {
				return errno.ERANGE.Return(), nil
			}
			r = -r
		} else if r < 0 {
			return errno.ERANGE.Return(), nil
		}
		le.PutUint64(out, uint64(r))
	} else {
		if negative {
			return errno.EINVAL.Return(), nil
		}
		le.PutUint64(out, v)
	}
	return uint64(consumed), nil
}

// parseDigits is the kernel's _parse_integer: the value of the leading digits of s in base, how
// many there were, and whether the value overflowed 64 bits.
func parseDigits(s []byte, base uint) (v uint64, n int, overflow bool) {
	for ; n < len(s); n++ {
		c := s[n]
		var d uint
		switch {
		case c >= '0' && c <= '9':
			d = uint(c - '0')
		case (c|0x20) >= 'a' && (c|0x20) <= 'f':
			d = uint((c|0x20)-'a') + 10
		default:
			return v, n, overflow
		}
		if d >= base {
			return v, n, overflow
		}
		if v > (1<<64-1-uint64(d))/uint64(base) {
			overflow = true
		}
		v = v*uint64(base) + uint64(d)
	}
	return v, n, overflow
}

func isSpace(c byte) bool { return strings.IndexByte(" \t\n\v\f\r", c) >= 0 }

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}
