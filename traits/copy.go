package traits

// copyValue copies a value of n bytes, 0, 2, 4 or 8, from the start of src
// to the start of dst, both at least n bytes long. A value is small and of a
// fixed size, so it moves as one load and one store instead of a call to
// memmove, which would cost more than the rest of an operation.
func copyValue(dst, src []byte, n int) {
	switch n {
	case 8:
		*(*[8]byte)(dst) = *(*[8]byte)(src)
	case 4:
		*(*[4]byte)(dst) = *(*[4]byte)(src)
	case 2:
		*(*[2]byte)(dst) = *(*[2]byte)(src)
	}
}
