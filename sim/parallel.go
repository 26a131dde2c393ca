package sim

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf/asm"
)

// Programs on several goroutines at once. A parallel replay (replay.Loop's Workers) runs each RX
// queue's CPU on a goroutine of its own, as the kernel runs each queue's packets on the CPU its
// interrupt is bound to: every goroutine has an XDP of its own (Fork: a machine, a frame, a run
// state), over the object's maps, which are then shared (maps.SetShared). Per-CPU state is per
// CPU: per-CPU map values, bpf_get_prandom_u32's generator (per CPU in the kernel too), the
// CPU's LRU lists; since each CPU's packets run in order on one goroutine, it evolves exactly as in
// a sequential run.

// cpuRNG is one CPU's bpf_get_prandom_u32 state, alone on its cache line so that CPUs running at
// once do not contend for it.
type cpuRNG struct {
	state uint64
	_     [56]byte
}

// seedCPUs gives every CPU's generator its state for seed: CPU 0 starts at the seed itself (so a
// run on one CPU draws what it drew before generators were per CPU), every other CPU at a mix of
// the seed and its number.
func seedCPUs(rng []cpuRNG, seed uint64) {
	if seed == 0 {
		seed = 0x9e3779b97f4a7c15
	}
	for c := range rng {
		s := seed
		if c > 0 {
			// splitmix64 of seed + c·golden ratio.
			z := seed + uint64(c)*0x9e3779b97f4a7c15
			z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
			z = (z ^ z>>27) * 0x94d049bb133111eb
			s = z ^ z>>31
			if s == 0 {
				s = 0x9e3779b97f4a7c15
			}
		}
		rng[c].state = s
	}
}

// random is bpf_get_prandom_u32 on the packet's CPU: a seeded generator (xorshift64*) per CPU, so
// runs are reproducible and a CPU draws the same numbers whichever goroutine runs it.
func (s *runState) random() uint32 {
	r := &s.rng[uint(s.cond.CPU)%uint(len(s.rng))]
	x := r.state
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	r.state = x
	return uint32((x * 2685821657736338717) >> 32)
}

// share makes the object's maps safe for programs on several goroutines at once.
func (o *Object) share() {
	o.shareOnce.Do(func() {
		for _, m := range o.mapOrder {
			m.SetShared()
		}
	})
}

// Fork returns another XDP for the same program over the same maps, for another goroutine: a
// machine, a frame and a run state of its own, and the engine, budget, device and host of x. The
// object's maps become shared (see maps.SetShared), so x and its forks may run packets at the same
// time, each on its own goroutine. An XDP with a frame observer or a tc ingress hook does not fork.
func (x *XDP) Fork() (*XDP, error) {
	if err := x.Forkable(); err != nil {
		return nil, err
	}
	x.prog.obj.share()
	y, err := NewXDP(x.prog)
	if err != nil {
		return nil, err
	}
	y.rs.m.SetEngine(x.rs.m.Engine())
	y.rs.m.SetBudget(x.rs.m.Budget())
	y.rs.setHost(x.rs.host)
	y.rs.task = x.rs.task
	y.rs.cookies, y.rs.cookiesSet = x.rs.cookies, x.rs.cookiesSet
	y.dev = x.dev
	return y, nil
}

// Forkable says why x cannot fork (nil when it can): what its programs share besides maps must
// be safe on several goroutines, and run in the same order as a sequential run would.
func (x *XDP) Forkable() error {
	switch {
	case x.obs != nil:
		return errors.New("an XDP whose frames are observed runs on one goroutine")
	case x.ingress != nil:
		return errors.New("an XDP with a tc ingress hook runs on one goroutine")
	case x.plan != nil:
		return errors.New("a dispatcher's programs run on one goroutine")
	case x.prog.obj.opts.Features.ControlMap:
		// Control maps write the devices' attributes, which every goroutine's packets read.
		return errors.New("with --feature control-map, programs may change the device their packets arrive on, so they run on one goroutine")
	}
	for _, ins := range x.prog.Insns {
		if ins.IsBuiltinCall() {
			switch asm.BuiltinFunc(ins.Constant) {
			case asm.FnTimerInit, asm.FnTimerStart:
				// Timers fire on the one virtual clock, between the packets of every CPU.
				return fmt.Errorf("%s uses BPF timers, which fire between all CPUs' packets, so it runs on one goroutine", x.prog.Name)
			}
		}
	}
	for _, k := range x.prog.Kfuncs {
		if strings.Contains(k, "_ct_") {
			// The host's conntrack table is one, not per CPU, and not made for goroutines.
			return fmt.Errorf("%s calls %s, and the host's conntrack table is used from one goroutine", x.prog.Name, k)
		}
	}
	return nil
}

// Steer sets the RX queue and CPU that pkt arrives on as Run will choose them: with a device of
// several queues, by its RSS hash through the indirection table (cond.RxQueue, and cond.CPU as the
// queue's CPU); otherwise it leaves cond as it is. A caller that runs packets on several XDPs at
// once steers each packet first, to run each CPU's packets on one of them, in order. cond then
// also carries the hash, so that a run of the same pkt (the same bytes in the same place) under
// cond, on x or a fork of it, does not hash the packet again.
func (x *XDP) Steer(pkt []byte, cond *Conditions) {
	d := x.dev
	if d == nil {
		return
	}
	if q, hash, spread := d.SteerHash(pkt); spread {
		cond.RxQueue = uint32(q)
		cond.CPU = q % max(d.CPUs, 1)
		cond.steered, cond.steeredLen, cond.steeredOn, cond.rssHash = unsafe.SliceData(pkt), len(pkt), d, hash
	}
}

// Queues is the number of RX queues Steer spreads packets over: the device's, or 1.
func (x *XDP) Queues() int {
	if x.dev == nil || x.dev.Queues <= 1 {
		return 1
	}
	return x.dev.Queues
}

// objectLock serialises what the object prepares on first use (its programs), for XDPs on several
// goroutines.
type objectLock struct {
	mu        sync.Mutex
	shareOnce sync.Once
}
