package fuzzcov

import (
	"bytes"
	"flag"
	"testing"
)

// TestInactiveWithoutInstrumentation: plain go test builds have no counters, and the package must
// then do nothing (and say so).
func TestInactiveWithoutInstrumentation(t *testing.T) {
	if Active() {
		t.Skip("SKIP: this binary was built by go test -fuzz; FuzzSlotsAreSeen checks it")
	}
	Mask()
	Hit(3, 7)
	Unmask()
}

// FuzzSlotsAreSeen checks, under go test -fuzz (run it with -fuzz FuzzSlotsAreSeen -fuzztime 1x;
// xdptest's TestGoFuzzFindsThePlantedBug does), that the counters were located, that Mask and Unmask undo what Go code counts in between, and
// that Hit writes the slot's counter.
func FuzzSlotsAreSeen(f *testing.F) {
	f.Add(uint16(5))
	f.Fuzz(func(t *testing.T, n uint16) {
		if !Active() {
			if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
				t.Fatal("go test -fuzz is fuzzing, but the coverage counters were not found: the fuzzer sees the simulator's coverage, not the program's")
			}
			t.Skip("SKIP: no coverage counters: run with go test -fuzz")
		}
		// Straight-line code: no counter of this function changes between the copies.
		Mask()
		before := append([]byte(nil), region...)
		hit(int(n) % Slots)
		hit(int(n+1) % Slots)
		changed := !bytes.Equal(region, before)
		Unmask()
		after := append([]byte(nil), region...)
		if !changed {
			t.Fatal("hit changed no counter")
		}
		for i := range after {
			if after[i] != before[i] {
				t.Fatalf("counter %d is %d after Unmask, was %d", i, after[i], before[i])
			}
		}
		Hit(int(n), 3)
		if got := region[slots[int(n)%Slots]]; got < 3 {
			t.Fatalf("slot %d's counter is %d after Hit(3)", int(n)%Slots, got)
		}
	})
}
