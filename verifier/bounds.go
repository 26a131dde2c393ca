package verifier

import "math"

// Bounds of a scalar (or of the variable part of a pointer's offset): the kernel's four ranges
// and its tnum, kept consistent by sync. Every function here mirrors a step of the kernel's
// value tracking (reg_bounds_sync, adjust_scalar_min_max_vals); the code is our own.

func (r *reg) markKnown(v uint64) {
	r.varOff = tnumConst(v)
	r.smin, r.smax = int64(v), int64(v)
	r.umin, r.umax = v, v
	r.s32min, r.s32max = int32(v), int32(v)
	r.u32min, r.u32max = uint32(v), uint32(v)
}

func (r *reg) markUnbounded() {
	r.smin, r.smax = math.MinInt64, math.MaxInt64
	r.umin, r.umax = 0, math.MaxUint64
	r.s32min, r.s32max = math.MinInt32, math.MaxInt32
	r.u32min, r.u32max = 0, math.MaxUint32
}

func (r *reg) mark64Unbounded() {
	r.smin, r.smax = math.MinInt64, math.MaxInt64
	r.umin, r.umax = 0, math.MaxUint64
}

func (r *reg) mark32Unbounded() {
	r.s32min, r.s32max = math.MinInt32, math.MaxInt32
	r.u32min, r.u32max = 0, math.MaxUint32
}

func (r *reg) update32() {
	v := r.varOff.subreg()
	r.s32min = max(r.s32min, int32(uint32(v.value|(v.mask&(1<<31)))))
	r.s32max = min(r.s32max, int32(uint32(v.value|(v.mask&math.MaxInt32))))
	r.u32min = max(r.u32min, uint32(v.value))
	r.u32max = min(r.u32max, uint32(v.value|v.mask))
}

func (r *reg) update64() {
	v := r.varOff
	r.smin = max(r.smin, int64(v.value|(v.mask&(1<<63))))
	r.smax = min(r.smax, int64(v.value|(v.mask&math.MaxInt64)))
	r.umin = max(r.umin, v.value)
	r.umax = min(r.umax, v.value|v.mask)
}

func (r *reg) updateBounds() {
	r.update32()
	r.update64()
}

func (r *reg) deduce32() {
	if r.umin>>32 == r.umax>>32 {
		r.u32min = max(r.u32min, uint32(r.umin))
		r.u32max = min(r.u32max, uint32(r.umax))
		if int32(r.umin) <= int32(r.umax) {
			r.s32min = max(r.s32min, int32(r.umin))
			r.s32max = min(r.s32max, int32(r.umax))
		}
	}
	if r.smin>>32 == r.smax>>32 {
		r.u32min = max(r.u32min, uint32(r.smin))
		r.u32max = min(r.u32max, uint32(r.smax))
		if int32(r.smin) <= int32(r.smax) {
			r.s32min = max(r.s32min, int32(r.smin))
			r.s32max = min(r.s32max, int32(r.smax))
		}
	}
	if uint32(r.umin>>32)+1 == uint32(r.umax>>32) && int32(r.umin) < 0 && int32(r.umax) >= 0 {
		r.s32min = max(r.s32min, int32(r.umin))
		r.s32max = min(r.s32max, int32(r.umax))
	}
	if uint32(r.smin>>32)+1 == uint32(r.smax>>32) && int32(r.smin) < 0 && int32(r.smax) >= 0 {
		r.s32min = max(r.s32min, int32(r.smin))
		r.s32max = min(r.s32max, int32(r.smax))
	}
	if int32(r.u32min) <= int32(r.u32max) {
		r.s32min = max(r.s32min, int32(r.u32min))
		r.s32max = min(r.s32max, int32(r.u32max))
	}
	if uint32(r.s32min) <= uint32(r.s32max) {
		r.u32min = max(uint32(r.s32min), r.u32min)
		r.u32max = min(uint32(r.s32max), r.u32max)
	}
}

func (r *reg) deduce64() {
	if int64(r.umin) <= int64(r.umax) {
		r.smin = max(r.smin, int64(r.umin))
		r.smax = min(r.smax, int64(r.umax))
	}
	if uint64(r.smin) <= uint64(r.smax) {
		r.umin = max(uint64(r.smin), r.umin)
		r.umax = min(uint64(r.smax), r.umax)
	} else {
		if r.umax < uint64(r.smin) {
			r.smin = int64(r.umin)
			r.smax = min(r.smax, int64(r.umax))
		} else if uint64(r.smax) < r.umin {
			r.smax = int64(r.umax)
			r.smin = max(r.smin, int64(r.umin))
		}
	}
}

func (r *reg) deduceMixed() {
	nu := r.umin&^0xffffffff | uint64(r.u32min)
	xu := r.umax&^0xffffffff | uint64(r.u32max)
	r.umin = max(r.umin, nu)
	r.umax = min(r.umax, xu)
	ns := int64(uint64(r.smin)&^0xffffffff | uint64(r.u32min))
	xs := int64(uint64(r.smax)&^0xffffffff | uint64(r.u32max))
	r.smin = max(r.smin, ns)
	r.smax = min(r.smax, xs)
	if r.s32min >= 0 && r.smin >= math.MinInt32 && r.smax <= math.MaxInt32 {
		r.smin, r.smax = int64(r.s32min), int64(r.s32max)
		r.umin, r.umax = uint64(r.s32min), uint64(r.s32max)
		r.varOff = r.varOff.intersect(tnumRange(uint64(r.smin), uint64(r.smax)))
	}
}

func (r *reg) deduce() {
	r.deduce32()
	r.deduce64()
	r.deduceMixed()
}

func (r *reg) boundOffset() {
	v64 := r.varOff.intersect(tnumRange(r.umin, r.umax))
	v32 := v64.subreg().intersect(tnumRange(uint64(r.u32min), uint64(r.u32max)))
	r.varOff = v64.clearSubreg().or(v32)
}

// sync makes the ranges and the tnum agree (reg_bounds_sync).
func (r *reg) sync() {
	r.updateBounds()
	r.deduce()
	r.deduce()
	r.boundOffset()
	r.updateBounds()
}

// boundsSane reports whether the ranges and the tnum describe at least one value; a refinement
// that empties them means the path cannot happen.
func (r *reg) boundsSane() bool {
	if r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max {
		return false
	}
	v := r.varOff
	if v.value > r.umax || v.value|v.mask < r.umin {
		return false
	}
	if uint32(v.value) > r.u32max || uint32(v.value|v.mask) < r.u32min {
		return false
	}
	return true
}

// assign32Into64 takes the 64-bit ranges from the 32-bit ones after a zero extension.
func (r *reg) assign32Into64() {
	r.umin, r.umax = uint64(r.u32min), uint64(r.u32max)
	if r.s32min >= 0 && r.s32max >= 0 {
		r.smax = int64(r.s32max)
	} else {
		r.smax = math.MaxUint32
	}
	if r.s32min >= 0 {
		r.smin = int64(r.s32min)
	} else {
		r.smin = 0
	}
}

func (r *reg) zext32() {
	r.varOff = r.varOff.subreg()
	r.assign32Into64()
}

// coerceToSize truncates to size bytes (zero extending), as a narrow load does.
func (r *reg) coerceToSize(size int) {
	if size >= 8 {
		return
	}
	mask := uint64(1)<<(size*8) - 1
	r.varOff = r.varOff.cast(uint8(size))
	if r.umin&^mask == r.umax&^mask {
		r.umin &= mask
		r.umax &= mask
	} else {
		r.umin, r.umax = 0, mask
	}
	r.smin, r.smax = int64(r.umin), int64(r.umax)
	if size >= 4 {
		// The 32-bit bounds hold when the upper half was already zero.
		if size == 4 {
			r.u32min, r.u32max = uint32(r.umin), uint32(r.umax)
			r.s32min, r.s32max = math.MinInt32, math.MaxInt32
			if int32(r.u32min) <= int32(r.u32max) {
				r.s32min, r.s32max = int32(r.u32min), int32(r.u32max)
			}
		}
	} else {
		r.u32min, r.u32max = uint32(r.umin), uint32(r.umax)
		r.s32min, r.s32max = int32(r.umin), int32(r.umax)
	}
	r.sync()
}

// coerceToSizeSX sign extends from size bytes, as a sign-extending load or movsx does.
func (r *reg) coerceToSizeSX(size int) {
	if size >= 8 {
		return
	}
	bitsN := uint(size * 8)
	lo := int64(-1) << (bitsN - 1)
	hi := int64(1)<<(bitsN-1) - 1
	if r.varOff.isConst() {
		v := int64(r.varOff.value<<(64-bitsN)) >> (64 - bitsN)
		r.markKnown(uint64(v))
		return
	}
	// The truncated value's range is known when the whole range fits within one sign-extended
	// window; otherwise it is any value of the width.
	sminT := int64(uint64(r.smin)<<(64-bitsN)) >> (64 - bitsN)
	smaxT := int64(uint64(r.smax)<<(64-bitsN)) >> (64 - bitsN)
	if r.smin>>(bitsN-1) == r.smax>>(bitsN-1) && sminT <= smaxT {
		lo, hi = sminT, smaxT
	}
	r.varOff = tnumUnknown
	r.markUnbounded()
	r.smin, r.smax = lo, hi
	r.s32min, r.s32max = int32(lo), int32(hi)
	if lo >= 0 {
		r.umin, r.umax = uint64(lo), uint64(hi)
		r.u32min, r.u32max = uint32(lo), uint32(hi)
	}
	r.sync()
}

// coerceSubregToSizeSX sign extends the low size bytes into 32 bits (a 32-bit movsx) and zero
// extends to 64.
func (r *reg) coerceSubregToSizeSX(size int) {
	r.coerceToSizeSX(size)
	r.varOff = r.varOff.subreg()
	lo, hi := r.s32min, r.s32max
	r.markUnbounded()
	r.s32min, r.s32max = lo, hi
	if lo >= 0 {
		r.u32min, r.u32max = uint32(lo), uint32(hi)
	}
	r.assign32Into64()
	r.sync()
}

func addOverflow64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

func subOverflow64(a, b int64) (int64, bool) {
	s := a - b
	return s, (a >= 0) != (b >= 0) && (s >= 0) != (a >= 0)
}

func addOverflow32(a, b int32) (int32, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

func subOverflow32(a, b int32) (int32, bool) {
	s := a - b
	return s, (a >= 0) != (b >= 0) && (s >= 0) != (a >= 0)
}

func (d *reg) add32(s *reg) {
	a, o1 := addOverflow32(d.s32min, s.s32min)
	b, o2 := addOverflow32(d.s32max, s.s32max)
	if o1 || o2 {
		d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	} else {
		d.s32min, d.s32max = a, b
	}
	umin, umax := d.u32min+s.u32min, d.u32max+s.u32max
	minOv := umin < d.u32min
	maxOv := umax < d.u32max
	if !minOv && maxOv {
		d.u32min, d.u32max = 0, math.MaxUint32
	} else {
		d.u32min, d.u32max = umin, umax
	}
}

func (d *reg) add64(s *reg) {
	a, o1 := addOverflow64(d.smin, s.smin)
	b, o2 := addOverflow64(d.smax, s.smax)
	if o1 || o2 {
		d.smin, d.smax = math.MinInt64, math.MaxInt64
	} else {
		d.smin, d.smax = a, b
	}
	umin, umax := d.umin+s.umin, d.umax+s.umax
	minOv := umin < d.umin
	maxOv := umax < d.umax
	if !minOv && maxOv {
		d.umin, d.umax = 0, math.MaxUint64
	} else {
		d.umin, d.umax = umin, umax
	}
}

func (d *reg) sub32(s *reg) {
	a, o1 := subOverflow32(d.s32min, s.s32max)
	b, o2 := subOverflow32(d.s32max, s.s32min)
	if o1 || o2 {
		d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	} else {
		d.s32min, d.s32max = a, b
	}
	minUn := d.u32min < s.u32max
	maxUn := d.u32max < s.u32min
	umin, umax := d.u32min-s.u32max, d.u32max-s.u32min
	if minUn && !maxUn {
		d.u32min, d.u32max = 0, math.MaxUint32
	} else {
		d.u32min, d.u32max = umin, umax
	}
}

func (d *reg) sub64(s *reg) {
	a, o1 := subOverflow64(d.smin, s.smax)
	b, o2 := subOverflow64(d.smax, s.smin)
	if o1 || o2 {
		d.smin, d.smax = math.MinInt64, math.MaxInt64
	} else {
		d.smin, d.smax = a, b
	}
	minUn := d.umin < s.umax
	maxUn := d.umax < s.umin
	umin, umax := d.umin-s.umax, d.umax-s.umin
	if minUn && !maxUn {
		d.umin, d.umax = 0, math.MaxUint64
	} else {
		d.umin, d.umax = umin, umax
	}
}

func mulOverflowU64(a, b uint64) (uint64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	p := a * b
	return p, p/b != a
}

func mulOverflowS64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	p := a * b
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return p, true
	}
	return p, p/b != a
}

func (d *reg) mul64(s *reg) {
	umin, o1 := mulOverflowU64(d.umin, s.umin)
	umax, o2 := mulOverflowU64(d.umax, s.umax)
	if o1 || o2 {
		d.umin, d.umax = 0, math.MaxUint64
	} else {
		d.umin, d.umax = umin, umax
	}
	var p [4]int64
	ov := false
	for i, ab := range [4][2]int64{{d.smin, s.smin}, {d.smin, s.smax}, {d.smax, s.smin}, {d.smax, s.smax}} {
		var o bool
		p[i], o = mulOverflowS64(ab[0], ab[1])
		ov = ov || o
	}
	if ov {
		d.smin, d.smax = math.MinInt64, math.MaxInt64
	} else {
		d.smin, d.smax = min(p[0], p[1], p[2], p[3]), max(p[0], p[1], p[2], p[3])
	}
}

func (d *reg) mul32(s *reg) {
	umin := uint64(d.u32min) * uint64(s.u32min)
	umax := uint64(d.u32max) * uint64(s.u32max)
	if umin > math.MaxUint32 || umax > math.MaxUint32 {
		d.u32min, d.u32max = 0, math.MaxUint32
	} else {
		d.u32min, d.u32max = uint32(umin), uint32(umax)
	}
	var p [4]int64
	ov := false
	for i, ab := range [4][2]int32{{d.s32min, s.s32min}, {d.s32min, s.s32max}, {d.s32max, s.s32min}, {d.s32max, s.s32max}} {
		p[i] = int64(ab[0]) * int64(ab[1])
		if p[i] < math.MinInt32 || p[i] > math.MaxInt32 {
			ov = true
		}
	}
	if ov {
		d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	} else {
		d.s32min, d.s32max = int32(min(p[0], p[1], p[2], p[3])), int32(max(p[0], p[1], p[2], p[3]))
	}
}

func (d *reg) signedFromUnsigned64() {
	if int64(d.umin) <= int64(d.umax) {
		d.smin, d.smax = int64(d.umin), int64(d.umax)
	} else {
		d.smin, d.smax = math.MinInt64, math.MaxInt64
	}
}

func (d *reg) signedFromUnsigned32() {
	if int32(d.u32min) <= int32(d.u32max) {
		d.s32min, d.s32max = int32(d.u32min), int32(d.u32max)
	} else {
		d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	}
}

// and32/and64 and friends expect d.varOff to hold the result's tnum already.
func (d *reg) and32(s *reg, bothConst bool) {
	v := d.varOff.subreg()
	if bothConst {
		d.u32min, d.u32max = uint32(v.value), uint32(v.value)
		d.s32min, d.s32max = int32(v.value), int32(v.value)
		return
	}
	d.u32min = uint32(v.value)
	d.u32max = min(d.u32max, s.u32max)
	d.signedFromUnsigned32()
}

func (d *reg) and64(s *reg, bothConst bool) {
	if bothConst {
		d.markKnown(d.varOff.value)
		return
	}
	d.umin = d.varOff.value
	d.umax = min(d.umax, s.umax)
	d.signedFromUnsigned64()
	d.updateBounds()
}

func (d *reg) or32(s *reg, bothConst bool) {
	v := d.varOff.subreg()
	if bothConst {
		d.u32min, d.u32max = uint32(v.value), uint32(v.value)
		d.s32min, d.s32max = int32(v.value), int32(v.value)
		return
	}
	d.u32min = max(d.u32min, s.u32min)
	d.u32max = uint32(v.value | v.mask)
	d.signedFromUnsigned32()
}

func (d *reg) or64(s *reg, bothConst bool) {
	if bothConst {
		d.markKnown(d.varOff.value)
		return
	}
	d.umin = max(d.umin, s.umin)
	d.umax = d.varOff.value | d.varOff.mask
	d.signedFromUnsigned64()
	d.updateBounds()
}

func (d *reg) xor32(bothConst bool) {
	v := d.varOff.subreg()
	if bothConst {
		d.u32min, d.u32max = uint32(v.value), uint32(v.value)
		d.s32min, d.s32max = int32(v.value), int32(v.value)
		return
	}
	d.u32min = uint32(v.value)
	d.u32max = uint32(v.value | v.mask)
	d.signedFromUnsigned32()
}

func (d *reg) xor64(bothConst bool) {
	if bothConst {
		d.markKnown(d.varOff.value)
		return
	}
	d.umin = d.varOff.value
	d.umax = d.varOff.value | d.varOff.mask
	d.signedFromUnsigned64()
	d.updateBounds()
}

func (d *reg) lsh32(umin, umax uint64) {
	sub := d.varOff.subreg()
	d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	if umax > 31 || uint64(d.u32max) > uint64(1)<<(31-umax) {
		d.u32min, d.u32max = 0, math.MaxUint32
	} else {
		d.u32min <<= umin
		d.u32max <<= umax
	}
	d.varOff = sub.lsh(uint8(umin)).subreg()
	d.mark64Unbounded()
	d.update32()
}

func (d *reg) lsh64(umin, umax uint64) {
	if umin == 32 && umax == 32 && d.s32max >= 0 {
		d.smax = int64(d.s32max) << 32
	} else {
		d.smax = math.MaxInt64
	}
	if umin == 32 && umax == 32 && d.s32min >= 0 {
		d.smin = int64(d.s32min) << 32
	} else {
		d.smin = math.MinInt64
	}
	if d.umax > uint64(1)<<(63-umax) {
		d.umin, d.umax = 0, math.MaxUint64
	} else {
		d.umin <<= umin
		d.umax <<= umax
	}
	// 32-bit part (called after the 64-bit part, which reads the unshifted 32-bit bounds).
	d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	if umax > 31 || uint64(d.u32max) > uint64(1)<<(31-umax) {
		d.u32min, d.u32max = 0, math.MaxUint32
	} else {
		d.u32min <<= umin
		d.u32max <<= umax
	}
	d.varOff = d.varOff.lsh(uint8(umin))
	d.updateBounds()
}

func (d *reg) rsh32(umin, umax uint64) {
	sub := d.varOff.subreg()
	d.s32min, d.s32max = math.MinInt32, math.MaxInt32
	d.varOff = sub.rsh(uint8(umin))
	d.u32min >>= umax
	d.u32max >>= umin
	d.mark64Unbounded()
	d.update32()
}

func (d *reg) rsh64(umin, umax uint64) {
	d.smin, d.smax = math.MinInt64, math.MaxInt64
	d.varOff = d.varOff.rsh(uint8(umin))
	d.umin >>= umax
	d.umax >>= umin
	d.mark32Unbounded()
	d.updateBounds()
}

func (d *reg) arsh32(umin uint64) {
	d.s32min >>= umin
	d.s32max >>= umin
	d.varOff = d.varOff.subreg().arsh(uint8(umin), 32)
	d.u32min, d.u32max = 0, math.MaxUint32
	d.mark64Unbounded()
	d.update32()
}

func (d *reg) arsh64(umin uint64) {
	d.smin >>= umin
	d.smax >>= umin
	d.varOff = d.varOff.arsh(uint8(umin), 64)
	d.umin, d.umax = 0, math.MaxUint64
	d.mark32Unbounded()
	d.updateBounds()
}
