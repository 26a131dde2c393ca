package verifier

import (
	"fmt"
	"math/bits"
)

// tnum is a "tristate number", the kernel verifier's bit-level knowledge of a 64-bit value: every
// bit set in mask is unknown; the others are known and equal to the bit of value (value&mask is
// always 0). The operations follow the semantics of kernel/bpf/tnum.c.
type tnum struct {
	value, mask uint64
}

var tnumUnknown = tnum{0, ^uint64(0)}

func tnumConst(v uint64) tnum { return tnum{v, 0} }

// tnumRange is the smallest tnum that holds every value from min to max (unsigned).
func tnumRange(min, max uint64) tnum {
	chi := min ^ max
	b := bits.Len64(chi)
	if b > 63 {
		return tnumUnknown
	}
	delta := uint64(1)<<b - 1
	return tnum{min &^ delta, delta}
}

func (a tnum) isConst() bool   { return a.mask == 0 }
func (a tnum) isUnknown() bool { return a.mask == ^uint64(0) }
func (a tnum) equalsConst(v uint64) bool {
	return a.mask == 0 && a.value == v
}

func (a tnum) lsh(shift uint8) tnum { return tnum{a.value << shift, a.mask << shift} }
func (a tnum) rsh(shift uint8) tnum { return tnum{a.value >> shift, a.mask >> shift} }

// arsh shifts right arithmetically as a value of insnBitness bits (32 or 64).
func (a tnum) arsh(shift uint8, insnBitness uint8) tnum {
	if insnBitness == 32 {
		return tnum{uint64(uint32(int32(uint32(a.value)) >> shift)), uint64(uint32(int32(uint32(a.mask)) >> shift))}
	}
	return tnum{uint64(int64(a.value) >> shift), uint64(int64(a.mask) >> shift)}
}

func (a tnum) add(b tnum) tnum {
	sm := a.mask + b.mask
	sv := a.value + b.value
	sigma := sm + sv
	chi := sigma ^ sv
	mu := chi | a.mask | b.mask
	return tnum{sv &^ mu, mu}
}

func (a tnum) sub(b tnum) tnum {
	dv := a.value - b.value
	alpha := dv + a.mask
	beta := dv - b.mask
	chi := alpha ^ beta
	mu := chi | a.mask | b.mask
	return tnum{dv &^ mu, mu}
}

func (a tnum) neg() tnum { return tnumConst(0).sub(a) }

func (a tnum) and(b tnum) tnum {
	alpha := a.value | a.mask
	beta := b.value | b.mask
	v := a.value & b.value
	return tnum{v, alpha & beta &^ v}
}

func (a tnum) or(b tnum) tnum {
	v := a.value | b.value
	mu := a.mask | b.mask
	return tnum{v, mu &^ v}
}

func (a tnum) xor(b tnum) tnum {
	v := a.value ^ b.value
	mu := a.mask | b.mask
	return tnum{v &^ mu, mu}
}

// mul multiplies as the kernel's tnum_mul does (shift-and-add over the bits of a).
func (a tnum) mul(b tnum) tnum {
	accV := a.value * b.value
	accM := tnumConst(0)
	for a.value != 0 || a.mask != 0 {
		if a.value&1 != 0 {
			accM = accM.add(tnum{0, b.mask})
		} else if a.mask&1 != 0 {
			accM = accM.add(tnum{0, b.value | b.mask})
		}
		a = a.rsh(1)
		b = b.lsh(1)
	}
	return tnum{accV, 0}.add(accM)
}

// intersect combines two pieces of knowledge of the same value.
func (a tnum) intersect(b tnum) tnum {
	v := a.value | b.value
	mu := a.mask & b.mask
	return tnum{v &^ mu, mu}
}

// cast truncates to size bytes.
func (a tnum) cast(size uint8) tnum {
	if size >= 8 {
		return a
	}
	m := uint64(1)<<(size*8) - 1
	return tnum{a.value & m, a.mask & m}
}

func (a tnum) isAligned(size uint64) bool {
	if size == 0 {
		return true
	}
	return (a.value|a.mask)&(size-1) == 0
}

// in reports whether every value b may hold, a may hold too.
func (a tnum) in(b tnum) bool {
	if b.mask&^a.mask != 0 {
		return false
	}
	b.value &^= a.mask
	return a.value == b.value
}

func (a tnum) subreg() tnum      { return a.cast(4) }
func (a tnum) clearSubreg() tnum { return a.rsh(32).lsh(32) }
func (a tnum) withSubreg(sub tnum) tnum {
	return a.clearSubreg().or(sub.subreg())
}
func (a tnum) String() string { return fmt.Sprintf("(%#x; %#x)", a.value, a.mask) }
