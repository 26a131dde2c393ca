package targets_test

import (
	"flag"
	"os"
	"runtime"
	"testing"

	"github.com/xdpsim/xdpsim/sim/xdptest"
)

// FuzzWorkerHasOneP checks that loading a program gives a go test -fuzz worker one P (see
// xdptest's Load) and leaves every other process as it was: plain go test runs its seed here, and
// xdptest's TestGoFuzzFindsThePlantedBug runs it under go test -fuzz.
func FuzzWorkerHasOneP(f *testing.F) {
	before := runtime.GOMAXPROCS(0)
	p := xdptest.Load(f, "../../../testdata/parser.o")
	after := runtime.GOMAXPROCS(0)
	worker := flag.Lookup("test.fuzzworker").Value.String() == "true"
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p.Run(t, pkt)
		switch {
		case worker && os.Getenv("GOMAXPROCS") == "" && after != 1:
			t.Fatalf("a fuzz worker has GOMAXPROCS %d after Load (was %d), want 1", after, before)
		case !worker && after != before:
			t.Fatalf("Load changed GOMAXPROCS from %d to %d outside a fuzz worker", before, after)
		}
	})
}
