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

// Parallel replay. The calling goroutine reads the traces into chunks of chunkSize records, steers
// every packet to its CPU and hands the chunk to the workers; worker w runs, in order, the packets
// of the CPUs c with c mod workers = w, each on its own fork of the target, and copies what the
// outcomes alias out of the fork's buffers into the chunk. When every worker is done with a chunk,
// the calling goroutine counts its packets and hands them to the sinks, in input order, while the
// workers go on with the chunks after it (chunksInFlight of them at most).
const (
	chunkSize      = 64
	chunksInFlight = 8
)

// chunk is a run of consecutive records and their packets.
type chunk struct {
	n    int
	recs [chunkSize]Record
	pkts [chunkSize]Packet
	// owner is the worker of each packet.
	owner [chunkSize]int
	// What the packets' outcomes alias, copied out of the workers' targets; the slices and
	// maps are reused from one use of the chunk to the next.
	data, meta, outData, outMeta [chunkSize][]byte
	redirects                    [chunkSize]sim.Redirect
	targets                      [chunkSize][]uint32
	skbs                         [chunkSize]sim.SkbHandoff
	hints                        [chunkSize]map[string]sim.HintResult
	// pending counts the workers not done with the chunk; the last one signals ready.
	pending atomic.Int32
	ready   chan struct{}
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
	work := make([]chan *chunk, workers)
	var wg sync.WaitGroup
	for w := range workers {
		work[w] = make(chan *chunk, chunksInFlight)
		t := targets[w]
		ip, _ := t.(inPlace)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work[w] {
				for i := range c.n {
					if c.owner[i] == w {
						l.runOn(t, ip, &c.pkts[i])
						c.detach(i)
					}
				}
				if c.pending.Add(-1) == 0 {
					c.ready <- struct{}{}
				}
			}
		}()
	}
	var free, queue []*chunk
	for range chunksInFlight {
		free = append(free, &chunk{ready: make(chan struct{}, 1)})
	}
	// sinkOldest waits for the oldest chunk in flight and hands its packets to the sinks.
	sinkOldest := func() error {
		c := queue[0]
		queue = queue[1:]
		<-c.ready
		var err error
		for i := range c.n {
			if err = l.account(&c.pkts[i]); err != nil {
				break
			}
		}
		c.n = 0
		free = append(free, c)
		return err
	}
	publish := func(c *chunk) {
		c.pending.Store(int32(workers))
		queue = append(queue, c)
		for w := range workers {
			work[w] <- c
		}
	}
	var cur *chunk
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
		cur.data[i] = append(cur.data[i][:0], rec.Data...)
		r.Data = cur.data[i]
		if rec.Meta != nil {
			cur.meta[i] = append(cur.meta[i][:0], rec.Meta...)
			r.Meta = cur.meta[i]
		}
		p := &cur.pkts[i]
		if err := l.start(p, r); err != nil {
			return err
		}
		f.Steer(r.Data, &p.Cond)
		cur.owner[i] = p.Cond.CPU % workers
		cur.n++
		if cur.n == chunkSize {
			publish(cur)
			cur = nil
		}
		return nil
	})
	if cur != nil && cur.n > 0 && sinkErr == nil {
		publish(cur)
	}
	for len(queue) > 0 && sinkErr == nil {
		sinkErr = sinkOldest()
	}
	for w := range workers {
		close(work[w])
	}
	wg.Wait()
	if sinkErr != nil {
		return sinkErr
	}
	return readErr
}

// detach copies what packet i's outcome aliases in its target's buffers (valid only until that
// target's next packet) into the chunk, where it stays until the sinks have seen the packet.
func (c *chunk) detach(i int) {
	o := &c.pkts[i].Outcome
	if o.Data != nil {
		c.outData[i] = append(c.outData[i][:0], o.Data...)
		o.Data = c.outData[i]
	}
	if o.Meta != nil {
		c.outMeta[i] = append(c.outMeta[i][:0], o.Meta...)
		o.Meta = c.outMeta[i]
	}
	if o.Redirect != nil {
		c.redirects[i] = *o.Redirect
		if o.Redirect.Targets != nil {
			c.targets[i] = append(c.targets[i][:0], o.Redirect.Targets...)
			c.redirects[i].Targets = c.targets[i]
		}
		o.Redirect = &c.redirects[i]
	}
	if o.Skb != nil {
		c.skbs[i] = *o.Skb
		o.Skb = &c.skbs[i]
	}
	if o.Hints != nil {
		h := c.hints[i]
		if h == nil {
			h = map[string]sim.HintResult{}
			c.hints[i] = h
		}
		clear(h)
		for k, v := range o.Hints {
			h[k] = v
		}
		o.Hints = h
	}
}
