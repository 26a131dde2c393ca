package traits

import "iter"

// Init starts an empty V1 store in buf; see [Layout.Init].
func Init(buf []byte) error { return V1.Init(buf) }

// Len gives the bytes used by the V1 store in buf; see [Layout.Len].
func Len(buf []byte) int { return V1.Len(buf) }

// Set stores val under key in the V1 store in buf; see [Layout.Set].
func Set(buf []byte, key uint64, val []byte, flags uint64) error {
	return V1.Set(buf, key, val, flags)
}

// IsSet reports whether key is set in the V1 store in buf; see [Layout.IsSet].
func IsSet(buf []byte, key uint64) (bool, error) { return V1.IsSet(buf, key) }

// Get copies the value of key from the V1 store in buf; see [Layout.Get].
func Get(buf []byte, key uint64, out []byte) (int, error) { return V1.Get(buf, key, out) }

// Del removes key from the V1 store in buf; see [Layout.Del].
func Del(buf []byte, key uint64) error { return V1.Del(buf, key) }

// All yields the keys and values of the V1 store in buf; see [Layout.All].
func All(buf []byte) iter.Seq2[uint64, []byte] { return V1.All(buf) }
