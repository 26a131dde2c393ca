package traits

import "testing"

// benchStore fills buf with 8 keys spread over 0..63, of every length the
// layout has, and returns a key in the middle of them.
func benchStore(b *testing.B, l Layout, buf []byte) uint64 {
	b.Helper()
	if err := l.Init(buf); err != nil {
		b.Fatal(err)
	}
	lens := [2][8]int{V1: {2, 4, 8, 2, 4, 8, 4, 8}, V2: {0, 4, 8, 0, 4, 8, 4, 8}}
	var val [8]byte
	for i, k := range []uint64{1, 7, 12, 20, 31, 40, 52, 63} {
		if err := l.Set(buf, k, val[:lens[l][i]], 0); err != nil {
			b.Fatal(err)
		}
	}
	return 31
}

// BenchmarkGet reads a 4-byte value from the middle of a store of 8 keys.
func BenchmarkGet(b *testing.B) {
	for _, l := range []Layout{V1, V2} {
		b.Run(l.String(), func(b *testing.B) {
			buf := make([]byte, 256-40)
			key := benchStore(b, l, buf)
			var out [8]byte
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Get(buf, key, out[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSet writes to a store of 8 keys: overwriting a 4-byte value in
// the middle, and inserting a new 4-byte key in the middle (which moves the
// larger values up) followed by deleting it again (which moves them back);
// the second reports the time of both operations together as ns/op, and
// the time of one as ns/call.
func BenchmarkSet(b *testing.B) {
	for _, l := range []Layout{V1, V2} {
		b.Run(l.String()+"/overwrite", func(b *testing.B) {
			buf := make([]byte, 256-40)
			key := benchStore(b, l, buf)
			val := []byte{1, 2, 3, 4}
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Set(buf, key, val, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(l.String()+"/insert+del", func(b *testing.B) {
			buf := make([]byte, 256-40)
			benchStore(b, l, buf)
			val := []byte{1, 2, 3, 4}
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Set(buf, 30, val, 0); err != nil {
					b.Fatal(err)
				}
				if err := l.Del(buf, 30); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/call")
		})
	}
}
