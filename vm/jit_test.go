package vm

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestJITUnderGarbageCollectionAndPreemption runs native code on several goroutines while the
// garbage collector runs again and again and helpers allocate, call back into the program and
// grow the region table: the runs must keep giving the interpreter's results, the collector and
// the scheduler must get their turn during long runs (native code returns every 2^20
// instructions), and nothing may crash.
func TestJITUnderGarbageCollectionAndPreemption(t *testing.T) {
	if !JITNative() {
		t.Skip("SKIP: the jit engine runs the interpreter on this platform")
	}
	d := time.Second
	if testing.Short() {
		d = 200 * time.Millisecond
	}
	var garbage atomic.Pointer[[]byte]
	helpers := map[int32]Helper{
		1: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			b := make([]byte, 1024+int(r1%4096))
			garbage.Store(&b)
			// A new region each call: the table grows and moves while native code waits.
			return m.AddTempRegion(NewRegion("scratch", b, false)), nil
		},
		2: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { return m.Callback(r1, r2) },
	}
	insns := []Instruction{
		Make(0xb7, 6, 0, 0, 0),          // r6 = 0
		Make(0xb7, 7, 0, 0, 0),          // r7 = 0
		Make(0xbf, 1, 6, 0, 0),          // loop: r1 = r6
		Make(0x85, 0, 0, 0, 1),          // r0 = a fresh region
		Make(0x7b, 0, 6, 8, 0),          // *(u64 *)(r0 + 8) = r6
		Make(0x79, 8, 0, 8, 0),          // r8 = *(u64 *)(r0 + 8)
		Make(0x0f, 7, 8, 0, 0),          // r7 += r8
		Make(0x18, 1, PseudoFunc, 0, 8), // r1 = &spin
		Make(0, 0, 0, 0, 0),
		Make(0xbf, 2, 6, 0, 0),   // r2 = r6
		Make(0x85, 0, 0, 0, 2),   // r0 = spin(r6)
		Make(0x0f, 7, 0, 0, 0),   // r7 += r0
		Make(0x07, 6, 0, 0, 1),   // r6 += 1
		Make(0xa5, 6, 0, -12, 8), // if r6 < 8 goto loop
		Make(0xbf, 0, 7, 0, 0),   // r0 = r7
		Make(0x95, 0, 0, 0, 0),   // exit
		Make(0xb7, 0, 0, 0, 0),   // spin: r0 = 0
		Make(0x07, 0, 0, 0, 1),   // r0 += 1
		Make(0xb5, 0, 0, -2, 300000),
		Make(0x0f, 0, 1, 0, 0), // r0 += r1
		Make(0x95, 0, 0, 0, 0),
	}
	p := mustProgram(t, insns, ProgramOptions{Helpers: helpers})
	want, err := NewMachine(Interpreter).Run(p)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	var runs atomic.Int64
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := NewMachine(JIT)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r0, err := m.Run(p); err != nil || r0 != want {
					t.Errorf("r0 = %d, err = %v; the interpreter gives %d", r0, err, want)
					return
				}
				runs.Add(1)
			}
		}()
	}
	time.Sleep(d)
	close(stop)
	wg.Wait()
	if runs.Load() == 0 {
		t.Fatal("no run finished")
	}
	m := NewMachine(JIT)
	if _, err := m.Run(p); err != nil || m.Executed() < 8*600000 {
		t.Fatalf("err = %v, executed %d: the callbacks did not spin", err, m.Executed())
	}
	t.Logf("%d runs of %d instructions each", runs.Load(), m.Executed())
}

// TestCompileJITSaysWhenTheInterpreterRunsAProgram: a program the JIT compiles answers nil, and
// off linux/amd64 every program answers ErrNotNative (see also jit_amd64_test.go).
func TestCompileJITSaysWhenTheInterpreterRunsAProgram(t *testing.T) {
	ok, err := NewProgram([]Instruction{Make(0xb7, 0, 0, 0, 7), Make(0x95, 0, 0, 0, 0)}, ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a program the JIT compiles runs natively", func(t *testing.T) {
		err := ok.CompileJIT()
		if JITNative() && err != nil {
			t.Fatalf("CompileJIT: %v", err)
		}
		if !JITNative() && !errors.Is(err, ErrNotNative) {
			t.Fatalf("CompileJIT off linux/amd64: %v, want ErrNotNative", err)
		}
	})
}
