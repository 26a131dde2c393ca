package traits

import "strconv"

// Layout says what the size codes of the header mean: which RFC version the
// store follows. The zero value is V1.
type Layout int

const (
	// V1 is the layout of the first RFC (March 2025): codes 01, 10 and 11
	// stand for values of 2, 4 and 8 bytes.
	V1 Layout = iota
	// V2 is the layout of the second RFC (April 2025): code 01 stands for a
	// value of 0 bytes, a key that is present but carries nothing (a flag);
	// 10 and 11 stand for 4 and 8 bytes.
	V2
)

// String gives "v1" or "v2", as the RFC versions are named.
func (l Layout) String() string {
	switch l {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return "Layout(" + strconv.Itoa(int(l)) + ")"
}

// ValidLen reports whether the layout can store a value of n bytes:
// 2, 4 or 8 for V1; 0, 4 or 8 for V2.
func (l Layout) ValidLen(n int) bool {
	_, ok := l.code(n)
	return ok && l.known()
}

// known reports whether l is one of the defined layouts.
func (l Layout) known() bool {
	return uint(l) <= uint(V2)
}

// code gives the 2-bit size code for a value of n bytes.
func (l Layout) code(n int) (uint64, bool) {
	switch n {
	case 4:
		return 0b10, true
	case 8:
		return 0b11, true
	case 2:
		return 0b01, l == V1
	case 0:
		return 0b01, l == V2
	}
	return 0, false
}

// sizes gives the value length of each size code, per layout; -1 for the
// code of an unset key. Index it with a known layout.
var sizes = [2][4]int8{
	V1: {-1, 2, 4, 8},
	V2: {-1, 0, 4, 8},
}

// size gives the length of the value of a set key from its code.
func (l Layout) size(code uint64) int {
	return int(sizes[uint(l)&1][code&3])
}
