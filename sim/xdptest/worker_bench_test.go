package xdptest_test

import (
	"encoding/binary"
	"math/bits"
	"reflect"
	"testing"
	"unsafe"

	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// The fuzzing coverage counters of a binary built by go test -fuzz (see internal/fuzzcov), for
// benchmarks that do per input what Go's fuzz worker does.
//
//go:linkname benchCounters runtime.__start___sancov_cntrs
var benchCounters [0]byte

//go:linkname benchCountersEnd runtime.__stop___sancov_cntrs
var benchCountersEnd [0]byte

// snapshotCoverage stands for the worker's copy of the counters rounded down to powers of two (a
// loop over the bytes in internal/fuzz, which is not instrumented; this one is, and so does eight
// bytes an iteration).
func snapshotCoverage(dst, cov []byte, pow2 *[256]byte) {
	for i := 0; i+8 <= len(cov); i += 8 {
		d, c := dst[i:i+8:i+8], cov[i:i+8:i+8]
		d[0], d[1], d[2], d[3] = pow2[c[0]], pow2[c[1]], pow2[c[2]], pow2[c[3]]
		d[4], d[5], d[6], d[7] = pow2[c[4]], pow2[c[5]], pow2[c[6]], pow2[c[7]]
	}
}

// countNewBits stands for the worker's count of bits new to its mask (a loop over the bytes in
// internal/fuzz, not instrumented; this one is, and so reads eight bytes an iteration).
func countNewBits(mask, snapshot []byte) int {
	n := 0
	for i := 0; i+8 <= len(snapshot); i += 8 {
		n += bits.OnesCount64(binary.NativeEndian.Uint64(snapshot[i:]) &^ binary.NativeEndian.Uint64(mask[i:]))
	}
	return n
}

// workerCounters is the binary's counters, nil in a build without them.
func workerCounters() []byte {
	start, end := uintptr(unsafe.Pointer(&benchCounters)), uintptr(unsafe.Pointer(&benchCountersEnd))
	if end <= start {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&benchCounters)), int(end-start))
}

// BenchmarkFuzzInput is the cost of one input as go test -fuzz's worker pays it, on the
// ~40-instruction parser with FuzzParser's fuzz function: a goroutine for the input, the fuzz
// function called through reflect, Go's passes over every coverage counter (zeroed before, copied
// rounded to powers of two after, compared with the worker's mask) and, inside, xdptest's own work
// (maps restored, the packet and its neighbours run, checks, coverage hidden and the program's
// shown). Build it with the counters to measure what fuzzing costs:
//
//	go test -c -fuzz=BenchmarkFuzzInput -o /tmp/x.test ./sim/xdptest
//	/tmp/x.test -test.run=XXX -test.bench=FuzzInput -test.benchmem
//
// "parser-without-passes" leaves out Go's passes over the counters: xdptest's own part, with the
// goroutine and the call. "exact" is the parser with WithExactInputs (no neighbours); "empty" is the same with an empty fuzz function: what Go's fuzzer costs alone in this binary.
func BenchmarkFuzzInput(b *testing.B) {
	p := xdptest.Load(b, "../testdata/parser.o")
	exact := xdptest.Load(b, "../testdata/parser.o", xdptest.WithExactInputs())
	pkts, err := xdptest.ReadPcap("../../corpus/traces/mixed.pcap")
	if err != nil {
		b.Fatal(err)
	}
	pkts = pkts[:20] // FuzzParser's seeds
	cov := workerCounters()
	mask := make([]byte, len(cov)) // the worker's: what the campaign has seen (here nothing)
	snapshot := make([]byte, len(cov))
	var pow2 [256]byte
	for i := range pow2 {
		v := byte(i)
		v |= v >> 1
		v |= v >> 2
		v |= v >> 4
		pow2[i] = v - v>>1
	}
	for _, bench := range []struct {
		name   string
		fn     func(t *testing.T, pkt []byte)
		passes bool
	}{
		{"parser", func(t *testing.T, pkt []byte) { p.Run(t, pkt) }, true},
		{"exact", func(t *testing.T, pkt []byte) { exact.Run(t, pkt) }, true},
		{"empty", func(t *testing.T, pkt []byte) {}, true},
		{"parser-without-passes", func(t *testing.T, pkt []byte) { p.Run(t, pkt) }, false},
	} {
		b.Run(bench.name, func(b *testing.B) {
			fn := reflect.ValueOf(bench.fn)
			t := &testing.T{}
			done := make(chan bool)
			n, newBits := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				pkt := pkts[n%len(pkts)]
				n++
				go func() {
					if bench.passes {
						clear(cov)
					}
					fn.Call([]reflect.Value{reflect.ValueOf(t), reflect.ValueOf(pkt)})
					if bench.passes {
						snapshotCoverage(snapshot, cov, &pow2)
					}
					done <- true
				}()
				<-done
				if bench.passes {
					newBits += countNewBits(mask, snapshot)
				}
			}
			_ = newBits
			b.ReportMetric(float64(len(cov)), "counters")
		})
	}
}
