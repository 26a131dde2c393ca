package replay

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/xdpsim/xdpsim/sim"
)

// Forker is a Target that can run packets on several goroutines at once (the simulator): Fork
// makes another Target over the same maps, for another goroutine, and Steer says which RX queue and
// CPU a packet arrives on before it runs (RSS), so that each CPU's packets run in order on one
// goroutine, as each of the kernel's CPUs runs its queues' packets in order.
type Forker interface {
	Target
	Fork() (Target, error)
	Steer(pkt []byte, cond *sim.Conditions)
	// Queues is how many RX queues Steer spreads packets over; with 1, every packet arrives on
	// the loop's RX queue (and CPU), and a parallel replay would gain nothing.
	Queues() int
}

// Fork makes another simulator over the same maps (sim.XDP.Fork).
func (s Sim) Fork() (Target, error) {
	y, err := s.X.Fork()
	if err != nil {
		return nil, err
	}
	return Sim{X: y}, nil
}

// Steer puts a packet on the RX queue and CPU the simulated device's RSS picks (sim.XDP.Steer).
func (s Sim) Steer(pkt []byte, cond *sim.Conditions) { s.X.Steer(pkt, cond) }

// Queues is the number of RX queues of the simulated device (1 without one, or when the XDP cannot
// fork: see sim.XDP.Forkable).
func (s Sim) Queues() int {
	if s.X.Forkable() != nil {
		return 1
	}
	return s.X.Queues()
}

// Parallel replay. The calling goroutine reads the traces into batches of batchSize records,
// copying each record's bytes into the batch's own buffer, steers every packet to its CPU and
// hands the batch to the workers, one channel send per worker and batch; worker w runs, in order,
// the packets of the CPUs c with c mod workers = w, each on its own fork of the target, and, when a
// sink will read them, copies what the outcomes alias out of the fork's buffers into the batch.
// When every worker is done with a batch, the calling goroutine counts its packets and hands them
// to the sinks, in input order, while the workers go on with the batches after it
// (batchesInFlight of them at most).
//
// A packet's run costs a few hundred nanoseconds, a hand-off between goroutines (a channel
// operation that wakes a parked one) several microseconds on a loaded machine: batches are large
// enough that a worker's hand-offs cost a few percent of its runs, and small enough that the
// batches in flight stay in the cores' caches. Batches are reused from run to run, so that a
// replay allocates nothing per batch once their buffers have grown.
const (
	batchSize       = 256
	batchesInFlight = 4
)

// batch is a run of consecutive records and their packets.
type batch struct {
	n    int
	recs [batchSize]Record
	pkts [batchSize]Packet
	// in holds the records' bytes (data, then metadata), one record after the other.
	in []byte
	// mine lists, for each worker, the indices of the packets it runs, in order.
	mine [][]uint16
	// out holds, for each worker, what its packets' outcomes alias (Data, Meta, a redirect's
	// targets), copied out of the worker's target.
	out       []workerOut
	redirects [batchSize]sim.Redirect
	skbs      [batchSize]sim.SkbHandoff
	hints     [batchSize]map[string]sim.HintResult
	// pending counts the workers not done with the batch; the last one signals ready.
	pending atomic.Int32
	ready   chan struct{}
}

// workerOut is one worker's copy of what its outcomes alias, alone on its cache lines so that
// workers filling theirs do not contend for them.
type workerOut struct {
	bytes   []byte
	targets []uint32
	_       [64 - 2*24%64]byte
}

// batches keeps batches from one replay to the next.
var batches = sync.Pool{New: func() any { return &batch{ready: make(chan struct{}, 1)} }}

// getBatch takes a batch for workers workers.
func getBatch(workers int) *batch {
	b := batches.Get().(*batch)
	b.n = 0
	if b.in == nil {
		b.in = make([]byte, 0, batchSize*1024)
	}
	b.in = b.in[:0]
	if len(b.mine) != workers {
		b.mine = make([][]uint16, workers)
		b.out = make([]workerOut, workers)
	}
	for w := range b.mine {
		b.mine[w] = b.mine[w][:0]
	}
	return b
}

// ParallelWorkers is how many goroutines Run will run packets on: Workers, at most one per
// simulated CPU and per RX queue (a CPU's packets run in order on one goroutine), and 1 when the
// target cannot fork or a sink must see each packet before it runs (the tracer).
func (l *Loop) ParallelWorkers() int {
	f, ok := l.Target.(Forker)
	if !ok || l.Workers <= 1 {
		return 1
	}
	for _, s := range l.Sinks {
		if _, ok := s.(Starter); ok {
			return 1
		}
	}
	return max(min(l.Workers, l.CPUs, f.Queues()), 1)
}

// runParallel replays the traces on workers goroutines.
func (l *Loop) runParallel(traces []string, workers int) error {
	f := l.Target.(Forker)
	targets := []Target{l.Target}
	for len(targets) < workers {
		t, err := f.Fork()
		if err != nil {
			return fmt.Errorf("replay: parallel run: %w", err)
		}
		targets = append(targets, t)
	}
	// Without sinks, only the counts read the outcomes, and they read no aliased byte.
	detach := len(l.Sinks) > 0
	work := make([]chan *batch, workers)
	var wg sync.WaitGroup
	for w := range workers {
		work[w] = make(chan *batch, batchesInFlight)
		t := targets[w]
		ip, _ := t.(inPlace)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work[w] {
				o := &b.out[w]
				o.bytes, o.targets = o.bytes[:0], o.targets[:0]
				for _, i := range b.mine[w] {
					l.runOn(t, ip, &b.pkts[i])
					if detach {
						b.detach(o, int(i))
					}
				}
				if b.pending.Add(-1) == 0 {
					b.ready <- struct{}{}
				}
			}
		}()
	}
	free := make([]*batch, 0, batchesInFlight)
	queue := make([]*batch, 0, batchesInFlight)
	for range batchesInFlight {
		free = append(free, getBatch(workers))
	}
	// sinkOldest waits for the oldest batch in flight and hands its packets to the sinks.
	sinkOldest := func() error {
		b := queue[0]
		queue = append(queue[:0], queue[1:]...)
		<-b.ready
		var err error
		for i := range b.n {
			if err = l.account(&b.pkts[i]); err != nil {
				break
			}
		}
		b.n, b.in = 0, b.in[:0]
		for w := range b.mine {
			b.mine[w] = b.mine[w][:0]
		}
		free = append(free, b)
		return err
	}
	// The steering goroutine hashes every packet of a batch to its CPU, and so to its worker, and
	// hands the batch to the workers: reading the traces and steering the packets on one
	// goroutine made it the slowest of the replay.
	steer := make(chan *batch, batchesInFlight)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range steer {
			for i := range b.n {
				p := &b.pkts[i]
				f.Steer(b.recs[i].Data, &p.Cond)
				w := p.Cond.CPU % workers
				b.mine[w] = append(b.mine[w], uint16(i))
			}
			for w := range workers {
				work[w] <- b
			}
		}
		for w := range workers {
			close(work[w])
		}
	}()
	publish := func(b *batch) {
		b.pending.Store(int32(workers))
		queue = append(queue, b)
		steer <- b
	}
	var cur *batch
	var sinkErr error
	readErr := ReadAll(traces, func(rec *Record) error {
		if cur == nil {
			for len(free) == 0 {
				if sinkErr = sinkOldest(); sinkErr != nil {
					return sinkErr
				}
			}
			cur, free = free[len(free)-1], free[:len(free)-1]
		}
		i := cur.n
		r := &cur.recs[i]
		*r = *rec
		// The batch's buffer may move as it grows: a record's bytes stay where they were
		// copied, in the buffer the batch had then, which nothing writes again.
		at := len(cur.in)
		cur.in = append(cur.in, rec.Data...)
		r.Data = cur.in[at:len(cur.in):len(cur.in)]
		if rec.Meta != nil {
			at = len(cur.in)
			cur.in = append(cur.in, rec.Meta...)
			r.Meta = cur.in[at:len(cur.in):len(cur.in)]
		}
		p := &cur.pkts[i]
		if err := l.start(p, r); err != nil {
			return err
		}
		cur.n++
		if cur.n == batchSize {
			publish(cur)
			cur = nil
		}
		return nil
	})
	if cur != nil && cur.n > 0 && sinkErr == nil {
		publish(cur)
	} else if cur != nil {
		free = append(free, cur)
	}
	for len(queue) > 0 && sinkErr == nil {
		sinkErr = sinkOldest()
	}
	close(steer)
	wg.Wait()
	// After a sink's error, the batches still queued were run all the same: take their signals,
	// so that they go back to the pool as they came.
	for _, b := range queue {
		<-b.ready
	}
	for _, b := range append(free, queue...) {
		batches.Put(b)
	}
	if sinkErr != nil {
		return sinkErr
	}
	return readErr
}

// detach copies what packet i's outcome aliases in its target's buffers (valid only until that
// target's next packet) into the batch (o: the worker's part of it), where it stays until the
// sinks have seen the packet. o's buffers may move as they grow: what was copied stays where it
// was, in the buffer o had then, which nothing writes again.
func (b *batch) detach(o *workerOut, i int) {
	out := &b.pkts[i].Outcome
	if out.Data != nil {
		at := len(o.bytes)
		o.bytes = append(o.bytes, out.Data...)
		out.Data = o.bytes[at:len(o.bytes):len(o.bytes)]
	}
	if out.Meta != nil {
		at := len(o.bytes)
		o.bytes = append(o.bytes, out.Meta...)
		out.Meta = o.bytes[at:len(o.bytes):len(o.bytes)]
	}
	if out.Redirect != nil {
		b.redirects[i] = *out.Redirect
		if t := out.Redirect.Targets; t != nil {
			at := len(o.targets)
			o.targets = append(o.targets, t...)
			b.redirects[i].Targets = o.targets[at:len(o.targets):len(o.targets)]
		}
		out.Redirect = &b.redirects[i]
	}
	if out.Skb != nil {
		b.skbs[i] = *out.Skb
		out.Skb = &b.skbs[i]
	}
	if out.Hints != nil {
		h := b.hints[i]
		if h == nil {
			h = map[string]sim.HintResult{}
			b.hints[i] = h
		}
		clear(h)
		for k, v := range out.Hints {
			h[k] = v
		}
		out.Hints = h
	}
}
