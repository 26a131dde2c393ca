// Package traits is the packet-traits store: a small key/value store kept in
// the headroom of a frame, as proposed by the "traits: Per packet metadata KV
// store" RFC series for bpf-next (v1 of March 2025, v2 of April 2025). The
// proposal never merged into Linux; xdpsim models it behind a feature switch,
// and this package is the data structure alone, with no knowledge of frames,
// programs or kfuncs.
//
// A store lives in a caller-owned byte slice. It starts at buf[0], and
// len(buf) is the hard end the store may grow up against (the RFC's
// hard_end): in an XDP frame that is the start of the packet data, so the
// caller passes a different slice whenever the data moves. The store is a
// 16-byte header followed by the values of the set keys, packed in key order
// with no padding:
//
//	buf[0]                                                        len(buf)
//	|                                                             (hard_end)
//	v                                                                    v
//	+----------------+----------------+---------+---------+-----+--------+
//	| high: uint64   | low: uint64    | value   | value   | ... |  free  |
//	| little-endian  | little-endian  | key a   | key b   |     |  room  |
//	+----------------+----------------+---------+---------+-----+--------+
//	0                8               16                        Len(buf)
//
//	                                  a < b < ... ; key k starts at byte
//	                                  16 + (lengths of all set keys < k)
//
// There are 64 keys, 0 to 63. Bit k of high and bit k of low together form
// the 2-bit size code of key k, high bit first; 00 means the key is not set.
// The two RFC versions give the codes different meanings, hence two
// layouts:
//
//	code  high low  V1 (March 2025)   V2 (April 2025)
//	 00    0    0   not set           not set
//	 01    0    1   2 bytes           0 bytes (a flag)
//	 10    1    0   4 bytes           4 bytes
//	 11    1    1   8 bytes           8 bytes
//
// The header alone tells the length of every value, so the offset of a key
// is a sum over the keys below it, computed with population counts of the
// two bitmaps masked to those keys: lookup costs the same for every key,
// while insertion and deletion move the values of the larger keys up or
// down.
//
// Operations return the RFC's error codes as an [errno.Errno], whose
// [errno.Errno.Neg] is the negative value the kernel would hand back to a BPF
// program. None of them allocate, and none panic, whatever the bytes of buf:
// a store that does not fit in buf (which the kernel rules out by never
// moving hard_end below the end of the store) is reported as [errno.EFAULT].
//
// The package-level functions use [V1], the layout of the first RFC; the
// methods of [Layout] choose one explicitly.
package traits
