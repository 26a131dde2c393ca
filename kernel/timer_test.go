package kernel_test

import (
	"encoding/binary"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

func timerPacket(op, micros byte) []byte {
	pkt := make([]byte, 64)
	pkt[14], pkt[15] = op, micros
	return pkt
}

// elemOf reads element i of testdata/xdp_timer.c's timers map: fired, last_ns, cancel_self (the
// struct bpf_timer in front is the kernel's or the simulator's own business).
func elemOf(t *testing.T, m result.Maps, i uint32) (fired, lastNs uint64, cancelSelf int64) {
	key := hex.EncodeToString(binary.LittleEndian.AppendUint32(nil, i))
	for _, e := range m["timers"] {
		if e.Key == key {
			v, _ := hex.DecodeString(e.Value)
			le := binary.LittleEndian
			return le.Uint64(v[16:]), le.Uint64(v[24:]), int64(le.Uint64(v[32:]))
		}
	}
	t.Fatalf("no element %d in %v", i, m["timers"])
	return
}

// The timer helpers answer as the kernel's do; a timer's callback runs once its time is up, on
// the kernel's clock there and on the trace's clock in the simulator, and cannot cancel its own
// timer.
func TestTimersAgreeWithTheKernel(t *testing.T) {
	obj := filepath.Join("testdata", "xdp_timer.o")
	const einval, ebusy, edeadlk = -22, -16, -35
	want := map[int]int64{0: einval, 1: einval, 2: einval, 3: einval, 4: einval, 5: 0, 6: ebusy,
		7: einval, 8: 0, 9: einval, 10: 0, 11: 1, 12: 0, 13: 0, 14: 0}

	o, err := sim.Load(obj, sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.FindProgram("timer_probe")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	const t0 = 1_700_000_000_000_000_000
	run := func(pkt []byte, at uint64) sim.Outcome {
		s := x.Run(pkt, nil, sim.Conditions{TimeNs: at})
		if s.Err != "" || s.Ret != 2 {
			t.Fatalf("simulator: %d %s", s.Ret, s.Err)
		}
		return s
	}
	run(timerPacket(0, 0), t0)
	run(timerPacket(1, 200), t0+1000) // 200 µs
	t.Run("in the simulator the callback waits for a packet after its time", func(t *testing.T) {
		if s := run(timerPacket(2, 0), t0+1000+199_999); len(s.Timers) != 0 {
			t.Errorf("fired before its time: %+v", s.Timers)
		}
		s := run(timerPacket(2, 0), t0+5_000_000)
		if len(s.Timers) != 1 || s.Timers[0].TimeNs != t0+1000+200_000 || s.Timers[0].Map != "timers" || s.Timers[0].Ret != 0 {
			t.Fatalf("firings before the packet: %+v", s.Timers)
		}
		sm, err := o.DumpMaps()
		if err != nil {
			t.Fatal(err)
		}
		fired, last, cancel := elemOf(t, sm, 1)
		if fired != 1 || last != t0+1000+200_000 || cancel != edeadlk {
			t.Errorf("element 1: fired %d, last_ns %d, cancel_self %d; want 1, the expiry %d, -EDEADLK", fired, last, cancel, uint64(t0+1000+200_000))
		}
	})
	sm, err := o.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	got := resultsOf(t, sm)
	for i, w := range want {
		if got[i] != w {
			t.Errorf("simulator: results[%d] = %d, want %d", i, got[i], w)
		}
	}

	if err := kernel.Available(); err != nil {
		t.Skipf("kernel side skipped: %v", err)
	}
	kp, err := kernel.Load(obj, kernel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer kp.Close()
	for _, pkt := range [][]byte{timerPacket(0, 0), timerPacket(1, 200)} {
		if k := kp.Run(pkt, nil, kernel.Context{}); k.Err != "" || k.Ret != 2 {
			t.Fatalf("kernel: %d %s", k.Ret, k.Err)
		}
	}
	// The timer is due 200 µs after the second run; a loaded machine may take far longer to get
	// to it, so the wait is generous (it ends as soon as the timer has fired).
	var km result.Maps
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if km, err = kp.DumpMaps(); err != nil {
			t.Fatal(err)
		}
		if fired, _, _ := elemOf(t, km, 1); fired > 0 {
			break
		}
	}
	kgot := resultsOf(t, km)
	for i := range want {
		if kgot[i] != got[i] {
			t.Errorf("results[%d]: simulator %d, kernel %d", i, got[i], kgot[i])
		}
	}
	if fired, _, cancel := elemOf(t, km, 1); fired != 1 || cancel != edeadlk {
		t.Errorf("kernel: element 1 fired %d times, cancel_self %d; want once and -EDEADLK", fired, cancel)
	}
	if fired, _, _ := elemOf(t, km, 0); fired != 0 {
		t.Errorf("kernel: the cancelled timer fired %d times", fired)
	}
}
