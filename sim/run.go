package sim

import (
	"fmt"

	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/syncookie"
	"github.com/xdpsim/xdpsim/vm"
)

// runState is what the run of a program shares whatever the program's type: the object and its
// maps, the simulated host, the conditions of the packet (the virtual clock, the CPU), the random
// generator, the lines bpf_printk wrote, the ring buffer samples the program holds. The packet is
// per program type: an XDP program's xdp_buff (xdp), a tc program's sk_buff (skb); exactly one is
// set. A runState is the Host of the machine its programs run on, so every helper finds it there.
type runState struct {
	obj  *Object
	host *Host
	m    *vm.Machine
	cond Conditions
	// rng is bpf_get_prandom_u32's generators, one per CPU: the object's, or the first slot's
	// of a dispatcher (see parallel.go).
	rng []cpuRNG
	// printed collects what bpf_printk wrote during the current run; the runner hands it to the
	// packet's outcome.
	printed  []string
	reserved []reservation
	// spin is the bpf_spin_lock word the running program holds (spinAddr its address), if any.
	spin     []byte
	spinAddr uint64
	// valueNames names the regions of map values lookups return, per map, made once.
	valueNames []string
	// task is the task programs find current (see task.go).
	task result.Task
	// cookies is the SYN cookie secret (helpers_syncookie.go); cookiesSet says the user chose
	// it, so that the seed no longer derives it.
	cookies    syncookie.Secret
	cookiesSet bool
	// begun says a run has begun (the clock is set).
	begun bool
	// The BPF timers (timers.go): by number; the last number and start order given; the timer
	// whose callback runs; the callbacks that ran before the current packet.
	timers    map[uint64]*simTimer
	nextTimer uint64
	timerSeq  uint64
	firing    *simTimer
	fired     []TimerFiring

	xdp *xdpState
	skb *skbState
	// skbPkt is the region of the sk_buff's bytes on this machine (tc programs).
	skbPkt int
}

// newRunState prepares a machine for the programs of obj: its Host is the new state, and its first
// regions are the object's maps, numbered as the programs expect them (Object.MapRegion).
func newRunState(obj *Object) (*runState, error) {
	s := &runState{obj: obj, host: bareHost(), m: vm.NewMachine(nil), rng: obj.rng, task: result.DefaultTask, cookies: syncookie.SecretFromSeed(1)}
	s.m.Host = s
	for i, mp := range obj.mapOrder {
		r := vm.Region{Name: "map " + mp.Name()}
		if isGlobalData(mp) {
			v, err := globalValue(mp)
			if err != nil {
				return nil, fmt.Errorf("map %s: %w", mp.Name(), err)
			}
			r = vm.NewRegion(mp.Name(), v, isReadOnlyData(mp))
		}
		s.valueNames = append(s.valueNames, "value of map "+mp.Name())
		if id := s.m.AddRegion(r); id != obj.MapRegion(i) {
			return nil, fmt.Errorf("internal: map region %d got number %d", i, id)
		}
	}
	return s, nil
}

// begin resets what one run accumulates.
func (s *runState) begin(cond Conditions) {
	if cond.IngressIfindex == 0 {
		cond.IngressIfindex = 1 // the test run's loopback device
	}
	s.fireTimers(cond.TimeNs)
	s.cond = cond
	s.printed = nil
	s.reserved = s.reserved[:0]
	s.begun = true
	if s.host.ct != nil {
		s.host.ct.BeginRun(s.jiffies())
	}
}

// setSeed seeds bpf_get_prandom_u32 on every CPU (the generators are the object's, per CPU) and,
// unless SetSyncookieSecret chose one, the SYN cookie secret.
func (s *runState) setSeed(seed uint64) {
	if !s.cookiesSet {
		s.cookies = syncookie.SecretFromSeed(seed)
	}
	seedCPUs(s.rng, seed)
}

// setHost gives the simulated host a network configuration (nil: a bare namespace).
func (s *runState) setHost(h *Host) {
	if h == nil {
		h = bareHost()
	}
	s.host = h
}

// packetLen is the length of the program's packet: linear part and fragments.
func (s *runState) packetLen() int {
	if s.xdp != nil {
		return int(s.xdp.dataEnd-s.xdp.data) + s.xdp.fragsSize()
	}
	return s.skb.len()
}

// readPacket copies the first len(buf) bytes of the packet, which has at least that many, to buf.
func (s *runState) readPacket(buf []byte) {
	if s.xdp != nil {
		s.xdp.copyBytes(0, uint64(len(buf)), buf, false)
		return
	}
	s.skb.read(0, buf)
}
