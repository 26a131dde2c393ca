package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

func init() {
	registerBase(asm.FnTracePrintk, func(s *runState, m *vm.Machine, fmtp, size, a1, a2, a3 uint64) (uint64, error) {
		return s.printk(m, fmtp, size, []uint64{a1, a2, a3})
	})
	registerBase(asm.FnTraceVprintk, func(s *runState, m *vm.Machine, fmtp, size, data, dataLen, _ uint64) (uint64, error) {
		if dataLen%8 != 0 || dataLen > 8*maxPrintkArgs || (data == 0 && dataLen != 0) {
			return errno.EINVAL.Return(), nil
		}
		var args []uint64
		if dataLen > 0 {
			b, err := m.Bytes(data, int(dataLen), false)
			if err != nil {
				return 0, err
			}
			for i := 0; i < len(b); i += 8 {
				args = append(args, le.Uint64(b[i:]))
			}
		}
		return s.printk(m, fmtp, size, args)
	})
}

// maxPrintkArgs is MAX_BPF_FUNC_VARARGS.
const maxPrintkArgs = 12

// printk formats as bpf_trace_printk does and captures the line as the run's output. It returns
// the number of bytes written, or -EINVAL for a format the kernel rejects.
func (s *runState) printk(m *vm.Machine, fmtp, size uint64, args []uint64) (uint64, error) {
	if size == 0 {
		return errno.EINVAL.Return(), nil
	}
	b, err := m.Bytes(fmtp, int(size), false)
	if err != nil {
		return 0, err
	}
	if b[len(b)-1] != 0 {
		return errno.EINVAL.Return(), nil // the format must be NUL-terminated
	}
	f := string(b[:len(b)-1])
	if i := strings.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	line, err := formatPrintk(m, f, args)
	if err != nil {
		return errno.EINVAL.Return(), nil
	}
	s.printed = append(s.printed, strings.TrimSuffix(line, "\n"))
	return uint64(len(line)), nil
}

var errFormat = errors.New("unsupported printk format")

// formatPrintk implements the conversions bpf_bprintf_prepare accepts: %d %i %u %x %X %c %s %%,
// the l and ll modifiers, %p, %px, %pK, %pI4/%pi4, %pI6/%pi6/%pI6c.
func formatPrintk(m *vm.Machine, f string, args []uint64) (string, error) {
	var out strings.Builder
	next := 0
	arg := func() (uint64, error) {
		if next >= len(args) {
			return 0, errFormat
		}
		next++
		return args[next-1], nil
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			out.WriteByte(c)
			continue
		}
		i++
		if i >= len(f) {
			return "", errFormat
		}
		if f[i] == '%' {
			out.WriteByte('%')
			continue
		}
		// flags and width, as vsnprintf takes them
		spec := "%"
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			spec += string(f[i])
			i++
		}
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			spec += string(f[i])
			i++
		}
		if i >= len(f) {
			return "", errFormat
		}
		if f[i] == 'p' {
			v, err := arg()
			if err != nil {
				return "", err
			}
			i++
			switch {
			case strings.HasPrefix(f[i:], "I4"), strings.HasPrefix(f[i:], "i4"):
				b, err := m.Bytes(v, 4, false)
				if err != nil {
					return "", err
				}
				if f[i] == 'i' {
					fmt.Fprintf(&out, "%03d.%03d.%03d.%03d", b[0], b[1], b[2], b[3])
				} else {
					fmt.Fprintf(&out, "%d.%d.%d.%d", b[0], b[1], b[2], b[3])
				}
				i++
			case strings.HasPrefix(f[i:], "I6c"):
				b, err := m.Bytes(v, 16, false)
				if err != nil {
					return "", err
				}
				out.WriteString(netip.AddrFrom16([16]byte(b)).String())
				i += 2
			case strings.HasPrefix(f[i:], "I6"), strings.HasPrefix(f[i:], "i6"):
				b, err := m.Bytes(v, 16, false)
				if err != nil {
					return "", err
				}
				for g := 0; g < 8; g++ {
					if g > 0 && f[i] == 'I' {
						out.WriteByte(':')
					}
					fmt.Fprintf(&out, "%02x%02x", b[2*g], b[2*g+1])
				}
				i++
			case strings.HasPrefix(f[i:], "x"), strings.HasPrefix(f[i:], "K"):
				fmt.Fprintf(&out, "%016x", v)
			default:
				// plain %p: the kernel prints a hashed pointer; the simulator prints the value.
				fmt.Fprintf(&out, "%016x", v)
				i--
			}
			continue
		}
		size := 32
		if f[i] == 'l' {
			size = 64
			i++
			if i < len(f) && f[i] == 'l' {
				i++
			}
		} else if f[i] == 'h' {
			i++
			size = 16
			if i < len(f) && f[i] == 'h' {
				i++
				size = 8
			}
		}
		if i >= len(f) {
			return "", errFormat
		}
		v, err := arg()
		if err != nil {
			return "", err
		}
		switch f[i] {
		case 'd', 'i':
			var n int64
			switch size {
			case 64:
				n = int64(v)
			case 16:
				n = int64(int16(v))
			case 8:
				n = int64(int8(v))
			default:
				n = int64(int32(v))
			}
			fmt.Fprintf(&out, spec+"d", n)
		case 'u', 'x', 'X':
			n := v
			if size < 64 {
				n &= 1<<size - 1
			}
			verb := string(f[i])
			if verb == "u" {
				verb = "d"
			}
			fmt.Fprintf(&out, spec+verb, n)
		case 'c':
			out.WriteByte(byte(v))
		case 's':
			str, err := cString(m, v)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&out, spec+"s", str)
		default:
			return "", fmt.Errorf("%w: %%%c", errFormat, f[i])
		}
	}
	return out.String(), nil
}

// cString reads a NUL-terminated string of at most 1 KiB from program memory.
func cString(m *vm.Machine, addr uint64) (string, error) {
	var b strings.Builder
	for i := uint64(0); i < 1024; i++ {
		c, err := m.Bytes(addr+i, 1, false)
		if err != nil {
			return "(efault)", nil
		}
		if c[0] == 0 {
			break
		}
		b.WriteByte(c[0])
	}
	return b.String(), nil
}
