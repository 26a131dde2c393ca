package xdptest

import (
	"flag"
	"os"
	"runtime"
	"sync"
)

// fuzzWorker says whether this process is one of go test -fuzz's workers (the processes that run
// the inputs; the coordinator that starts them and the plain go test run are not).
func fuzzWorker() bool {
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

var oneThread sync.Once

// runOnOneThread gives a fuzz worker one P (GOMAXPROCS 1), unless the GOMAXPROCS environment
// variable says how many it wants. A worker runs one input at a time, but Go's fuzzer runs each on
// a new goroutine and waits for it; with a second P idle, the runtime wakes another thread for the
// new goroutine, which often takes it: a futex wake and two context switches an input, about a
// quarter of the worker's time on a 40-instruction parser (FuzzParser, two workers on two idle
// cores: 17,089-18,203 execs/s with two Ps, 24,173-24,370 with one). With one P the goroutine runs
// on the thread that started it.
func runOnOneThread() {
	oneThread.Do(func() {
		if fuzzWorker() && os.Getenv("GOMAXPROCS") == "" {
			runtime.GOMAXPROCS(1)
		}
	})
}
