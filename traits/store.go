package traits

import "github.com/xdpsim/xdpsim/errno"

// The operations below follow one order of checks, that of the RFC with one
// addition: first the arguments (the layout, then the key, then the length),
// then whether buf holds the whole store (EFAULT, the addition), then the
// state of the key.

// Init starts an empty store at buf[0] by zeroing the header. It returns
// ENOMEM if buf is shorter than HeaderLen. The bytes after the header are
// left as they are.
func (l Layout) Init(buf []byte) error {
	if !l.known() {
		return errno.EOPNOTSUPP
	}
	if len(buf) < HeaderLen {
		return errno.ENOMEM
	}
	putHeader(buf, 0, 0)
	return nil
}

// Len gives the number of bytes the store uses: HeaderLen plus the lengths
// of all values, as the header tells them. It gives 0 if buf is too short to
// hold a header or the layout is unknown. Len may exceed len(buf) when the
// header describes more than buf holds.
func (l Layout) Len(buf []byte) int {
	if !l.known() || len(buf) < HeaderLen {
		return 0
	}
	return HeaderLen + l.total(header(buf))
}

// Set stores val under key. If key is not set, the values of all larger keys
// move up by len(val) to make room, and the header records the new length.
// If key is set with the same length, its value is overwritten in place; if
// it is set with another length, Set returns EBUSY and changes nothing.
//
// Set returns EINVAL if key is 64 or more or if the layout cannot encode
// len(val) (see [Layout.ValidLen]), and ENOSPC if key is not set and the
// store would grow past len(buf). flags is ignored, as in the RFC, where it
// "should be 0". val must not overlap buf.
func (l Layout) Set(buf []byte, key uint64, val []byte, flags uint64) error {
	if !l.known() {
		return errno.EOPNOTSUPP
	}
	code, ok := l.code(len(val))
	if key >= NumKeys || !ok {
		return errno.EINVAL
	}
	if len(buf) < HeaderLen {
		return errno.EFAULT
	}
	high, low := header(buf)
	bit := uint64(1) << key
	off := HeaderLen + l.total(high&(bit-1), low&(bit-1))
	n := len(val)
	if (high|low)&bit != 0 {
		if !l.fits(high, low, len(buf)) {
			return errno.EFAULT
		}
		if l.size(codeOf(high, low, key)) != n {
			return errno.EBUSY
		}
		copyValue(buf[off:], val, n)
		return nil
	}
	end := HeaderLen + l.total(high, low)
	if end > len(buf) {
		return errno.EFAULT
	}
	if n > len(buf)-end {
		return errno.ENOSPC
	}
	if n > 0 {
		copy(buf[off+n:end+n], buf[off:end])
		copyValue(buf[off:], val, n)
	}
	putHeader(buf, high|(code>>1)<<key, low|(code&1)<<key)
	return nil
}

// IsSet reports whether key is set. It returns EINVAL if key is 64 or more.
func (l Layout) IsSet(buf []byte, key uint64) (bool, error) {
	if !l.known() {
		return false, errno.EOPNOTSUPP
	}
	if key >= NumKeys {
		return false, errno.EINVAL
	}
	if len(buf) < HeaderLen {
		return false, errno.EFAULT
	}
	high, low := header(buf)
	if !l.fits(high, low, len(buf)) {
		return false, errno.EFAULT
	}
	return (high|low)>>key&1 != 0, nil
}

// Get copies the value of key to the start of out and returns its length,
// which is 0 for a V2 flag. It returns EINVAL if key is 64 or more, ENOENT
// if key is not set, and ENOSPC if out is shorter than the value; out is
// left untouched then, and beyond the value's length in any case.
func (l Layout) Get(buf []byte, key uint64, out []byte) (int, error) {
	if !l.known() {
		return 0, errno.EOPNOTSUPP
	}
	if key >= NumKeys {
		return 0, errno.EINVAL
	}
	if len(buf) < HeaderLen {
		return 0, errno.EFAULT
	}
	high, low := header(buf)
	if !l.fits(high, low, len(buf)) {
		return 0, errno.EFAULT
	}
	code := codeOf(high, low, key)
	if code == 0 {
		return 0, errno.ENOENT
	}
	n := l.size(code)
	if len(out) < n {
		return 0, errno.ENOSPC
	}
	below := uint64(1)<<key - 1
	off := HeaderLen + l.total(high&below, low&below)
	copyValue(out, buf[off:], n)
	return n, nil
}

// Del removes key: the values of all larger keys move down over its value,
// and its size code is cleared. The bytes freed at the end of the store keep
// their old contents, as in the kernel. Del returns EINVAL if key is 64 or
// more and ENOENT if key is not set.
func (l Layout) Del(buf []byte, key uint64) error {
	if !l.known() {
		return errno.EOPNOTSUPP
	}
	if key >= NumKeys {
		return errno.EINVAL
	}
	if len(buf) < HeaderLen {
		return errno.EFAULT
	}
	high, low := header(buf)
	end := HeaderLen + l.total(high, low)
	if end > len(buf) {
		return errno.EFAULT
	}
	bit := uint64(1) << key
	if (high|low)&bit == 0 {
		return errno.ENOENT
	}
	n := l.size(codeOf(high, low, key))
	off := HeaderLen + l.total(high&(bit-1), low&(bit-1))
	if n > 0 {
		copy(buf[off:end-n], buf[off+n:end])
	}
	putHeader(buf, high&^bit, low&^bit)
	return nil
}
