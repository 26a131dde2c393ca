package sim

import (
	"fmt"
	"sort"
	"unsafe"

	"github.com/cilium/ebpf/asm"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// BPF timers (bpf_timer_init, _set_callback, _start, _cancel; kernel/bpf/helpers.c) on the virtual
// clock. A struct bpf_timer lives in a map value; its first 8 bytes hold the simulated timer's
// number once bpf_timer_init ran (the kernel keeps a pointer there), so that an element deleted or
// overwritten loses its timer, as the kernel cancels and frees it then.
//
// When the callbacks run: before each packet, every timer that expired by the packet's time fires,
// in the order of its expiry (ties: the order they were started), each callback running as a run
// of its own with the virtual clock at its expiry and on the CPU that started it; a callback that
// starts a timer again (itself or another) gets it fired in the same gap if it expires by the
// packet's time. Timers still armed after the last packet do not fire: the trace ends there. What
// fired before a packet is that packet's Outcome.Timers.

func init() {
	registerBase(asm.FnTimerInit, timerInit)
	registerBase(asm.FnTimerSetCallback, timerSetCallback)
	registerBase(asm.FnTimerStart, timerStart)
	registerBase(asm.FnTimerCancel, timerCancel)
}

// simTimer is one initialised struct bpf_timer.
type simTimer struct {
	id      uint64
	mapIdx  int
	key     []byte
	value   []byte // the map element's value, which holds the timer at off
	off     int
	clock   uint64
	prog    *vm.Program
	fn      uint64
	armed   bool
	expires uint64
	cpu     int
	seq     uint64
}

// TimerFiring says that a timer's callback ran before a packet.
type TimerFiring struct {
	// TimeNs is the virtual time it ran at: the timer's expiry.
	TimeNs uint64 `json:"time_ns"`
	// Map is the map whose element holds the timer; Key that element's key, in hex.
	Map string `json:"map"`
	Key string `json:"key"`
	// Ret is what the callback returned; Err why it did not return, if it faulted.
	Ret    uint64   `json:"ret"`
	Err    string   `json:"error,omitempty"`
	Printk []string `json:"printk,omitempty"`
}

// Clocks a timer may count on (bpf_timer_init's flags).
const (
	clockRealtime  = 0
	clockMonotonic = 1
	clockBoottime  = 7
	maxClocks      = 16
	timerAbs       = 1 << 0 // BPF_F_TIMER_ABS
	timerCPUPin    = 1 << 1 // BPF_F_TIMER_CPU_PIN
)

// timerAt finds the timer a struct bpf_timer pointer names: its map value and the simulated timer
// (nil while uninitialised).
func (s *runState) timerAt(m *vm.Machine, ptr uint64) ([]byte, *simTimer, error) {
	b, err := m.Bytes(ptr, 16, false)
	if err != nil {
		return nil, nil, err
	}
	t := s.timers[le.Uint64(b)]
	if t == nil || &t.value[t.off] != &b[0] {
		return b, nil, nil
	}
	return b, t, nil
}

func timerInit(s *runState, m *vm.Machine, tp, mp, flags, _, _ uint64) (uint64, error) {
	clock := flags & (maxClocks - 1)
	if flags >= maxClocks || clock != clockMonotonic && clock != clockRealtime && clock != clockBoottime {
		return errno.EINVAL.Return(), nil
	}
	b, t, err := s.timerAt(m, tp)
	if err != nil {
		return 0, err
	}
	if t != nil {
		return errno.EBUSY.Return(), nil
	}
	mm := s.mapAt(mp)
	if mm == nil {
		return 0, errNotAMap
	}
	// The element whose value holds the timer.
	var key, value []byte
	mm.Iterate(func(k []byte, values [][]byte) bool {
		for _, v := range values {
			if len(v) == 0 {
				continue
			}
			base := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
			if p := uintptr(unsafe.Pointer(&b[0])); p >= base && p < base+uintptr(len(v)) {
				key, value = append([]byte(nil), k...), v
				return false
			}
		}
		return true
	})
	if value == nil {
		return 0, fmt.Errorf("bpf_timer_init: the timer at %#x is not in an element of map %s", tp, mm.Name())
	}
	s.nextTimer++
	t = &simTimer{id: s.nextTimer, mapIdx: s.obj.mapIdx[mm], key: key, value: value,
		off: int(uintptr(unsafe.Pointer(&b[0])) - uintptr(unsafe.Pointer(unsafe.SliceData(value)))), clock: clock}
	if s.timers == nil {
		s.timers = map[uint64]*simTimer{}
	}
	s.timers[t.id] = t
	le.PutUint64(b, t.id)
	return 0, nil
}

func timerSetCallback(s *runState, m *vm.Machine, tp, fn, _, _, _ uint64) (uint64, error) {
	_, t, err := s.timerAt(m, tp)
	if err != nil {
		return 0, err
	}
	if t == nil {
		return errno.EINVAL.Return(), nil
	}
	t.prog, t.fn = m.Program(), fn
	return 0, nil
}

func timerStart(s *runState, m *vm.Machine, tp, nsecs, flags, _, _ uint64) (uint64, error) {
	if flags&^(timerAbs|timerCPUPin) != 0 {
		return errno.EINVAL.Return(), nil
	}
	_, t, err := s.timerAt(m, tp)
	if err != nil {
		return 0, err
	}
	if t == nil || t.fn == 0 {
		return errno.EINVAL.Return(), nil
	}
	t.expires = s.cond.TimeNs + nsecs
	if flags&timerAbs != 0 {
		t.expires = nsecs
	}
	s.timerSeq++
	t.armed, t.cpu, t.seq = true, s.cond.CPU, s.timerSeq
	return 0, nil
}

func timerCancel(s *runState, m *vm.Machine, tp, _, _, _, _ uint64) (uint64, error) {
	_, t, err := s.timerAt(m, tp)
	if err != nil {
		return 0, err
	}
	if t == nil {
		return errno.EINVAL.Return(), nil
	}
	if t == s.firing {
		return errno.EDEADLK.Return(), nil // a callback cannot cancel its own timer
	}
	was := t.armed
	t.armed = false
	if was {
		return 1, nil
	}
	return 0, nil
}

// maxFirings bounds the callbacks one gap between packets runs: a timer that restarts itself with
// no delay would otherwise never let the clock reach the packet.
const maxFirings = 1 << 20

// fireTimers runs the callbacks of the timers that expire by now, in order (see the top of the
// file), and keeps what they did for the packet's outcome.
func (s *runState) fireTimers(now uint64) {
	s.fired = s.fired[:0]
	if len(s.timers) == 0 {
		return
	}
	saved, printed := s.cond, s.printed
	defer func() { s.cond, s.printed, s.firing = saved, printed, nil }()
	for n := 0; ; n++ {
		t := s.nextDue(now)
		if t == nil {
			return
		}
		if n == maxFirings {
			s.fired = append(s.fired, TimerFiring{TimeNs: t.expires, Map: s.obj.mapOrder[t.mapIdx].Name(), Key: fmt.Sprintf("%x", t.key),
				Err: fmt.Sprintf("timers fired %d times before the packet at %d ns (a callback that restarts its timer without delay?); the rest did not fire", maxFirings, now)})
			return
		}
		t.armed = false
		s.cond = Conditions{IngressIfindex: saved.IngressIfindex, CPU: t.cpu, TimeNs: t.expires}
		s.printed = nil
		s.firing = t
		if s.host.ct != nil {
			s.host.ct.BeginRun(s.jiffies())
		}
		s.m.DropTemp()
		key := s.m.AddTempData(t.key, "map key", true)
		value := s.m.AddTempData(t.value, s.valueNames[t.mapIdx], false)
		r0, err := s.m.RunFunc(t.prog, t.fn, vm.Address(s.obj.MapRegion(t.mapIdx), 0), key, value)
		f := TimerFiring{TimeNs: t.expires, Map: s.obj.mapOrder[t.mapIdx].Name(), Key: fmt.Sprintf("%x", t.key), Ret: r0, Printk: s.printed}
		if err != nil {
			f.Err = err.Error()
		}
		s.fired = append(s.fired, f)
	}
}

// nextDue is the armed timer that expires first by now, dropping timers whose element lost them.
func (s *runState) nextDue(now uint64) *simTimer {
	var due []*simTimer
	for id, t := range s.timers {
		if le.Uint64(t.value[t.off:]) != id {
			delete(s.timers, id) // the element was deleted or overwritten: the kernel freed its timer
			continue
		}
		if t.armed && t.expires <= now {
			due = append(due, t)
		}
	}
	if len(due) == 0 {
		return nil
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].expires != due[j].expires {
			return due[i].expires < due[j].expires
		}
		return due[i].seq < due[j].seq
	})
	return due[0]
}
