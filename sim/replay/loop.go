package replay

import (
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// SnapPolicy says what the loop does with a snapped record (one the capture cut short).
type SnapPolicy int

const (
	// SnapReport does not run a snapped record: its outcome is an error saying how much of the
	// frame was captured, counted as "snapped". This is the default: the program would see a
	// shorter frame than the one on the wire, and lengths, checksums and bounds checks would
	// differ.
	SnapReport SnapPolicy = iota
	// SnapRun runs the captured bytes as the frame (the JSON line still says it was snapped).
	SnapRun
	// SnapError stops the run with a *TraceError naming the record.
	SnapError
)

// ParseSnapPolicy reads "report", "run" or "error".
func ParseSnapPolicy(s string) (SnapPolicy, error) {
	switch s {
	case "report", "":
		return SnapReport, nil
	case "run":
		return SnapRun, nil
	case "error":
		return SnapError, nil
	}
	return 0, fmt.Errorf("%q: want report, run or error", s)
}

// Packet is one packet of a replay as the sinks see it. The loop reuses it from packet to packet.
type Packet struct {
	// N numbers packets from 1 across all traces.
	N      int
	Record *Record
	// Cond are the conditions the packet ran under (its time from the record, the RX queue and
	// its CPU).
	Cond sim.Conditions
	// Outcome is what the target produced; it may alias the target's buffers until the next
	// packet.
	Outcome sim.Outcome
	// Selected says the per-packet outputs (trace, -v, JSON lines) should show this packet.
	Selected bool
	// Verdict classifies the outcome (see Verdict).
	Verdict string
}

// TCDroppedBefore counts, in Stats.TC, the packets the stack dropped on their way to tc.
const TCDroppedBefore = "dropped before tc"

// Verdict classes that are not XDP actions.
const (
	VerdictRefused = "refused" // the kernel refuses to run the packet
	VerdictFault   = "fault"   // the program faulted (the kernel's verifier would have stopped it)
	VerdictSnapped = "snapped" // the record was cut short by the capture and not run
)

// Verdict classifies an outcome: where a packet's way through a network ended ("sent out of
// eth0", see sim.End.Summary), an XDP action name ("XDP_PASS"), "XDP_ABORTED (invalid action
// N)" for return values past XDP_REDIRECT, a tc return value's name for a tc program run alone
// ("TC_ACT_OK"), or VerdictRefused, VerdictFault.
func Verdict(o *sim.Outcome) string {
	switch {
	case o.Err != "" && o.Fault != nil:
		return VerdictFault
	case o.Err != "":
		return VerdictRefused
	case o.Network != nil:
		return o.Network.End.Summary()
	case o.Packet.Type == result.TypeTC:
		return o.Packet.Verdict()
	case o.Ret > result.XDPRedirect:
		return "XDP_ABORTED (invalid action " + strconv.FormatUint(uint64(o.Ret), 10) + ")"
	}
	return result.VerdictName(o.Ret)
}

// Sink receives every packet after it ran.
type Sink interface {
	Packet(p *Packet) error
}

// Starter is a Sink that also sees each packet before it runs (the tracer).
type Starter interface {
	Start(p *Packet) error
}

// Finisher is a Sink with work to do after the last packet (dump maps, compare them).
type Finisher interface {
	Finish(l *Loop) error
}

// Committer is an output that appears whole or not at all: Commit puts it in place after a run
// that completed; Abort removes what was written after one that did not.
type Committer interface {
	Commit() error
	Abort()
}

// Stats counts what a replay produced.
type Stats struct {
	Packets int
	// Verdicts counts packets by Verdict.
	Verdicts map[string]int
	// TC counts what the tc hook did with the packets that reached tc programs (sim.TCPass,
	// sim.TCDrop, ...; VerdictFault for a tc program's fault).
	TC map[string]int
	// Exceptions counts packets the kernel's xdp_exception tracepoint reports (XDP_ABORTED,
	// invalid actions, redirects that fail).
	Exceptions int

	// actions counts the packets whose verdict is an XDP action, by return value, until flush
	// adds them to Verdicts: a string-keyed map update per packet cost a tenth of the replay.
	actions [result.XDPRedirect + 1]int
}

// count counts a packet's verdict.
func (s *Stats) count(p *Packet) {
	if o := &p.Outcome; o.Err == "" && o.Network == nil && o.Packet.Type == result.TypeXDP && o.Ret <= result.XDPRedirect {
		s.actions[o.Ret]++
	} else {
		s.Verdicts[p.Verdict]++
	}
}

// flush brings Verdicts up to date.
func (s *Stats) flush() {
	for ret, n := range s.actions {
		if n > 0 {
			s.Verdicts[result.VerdictName(uint32(ret))] += n
			s.actions[ret] = 0
		}
	}
}

// Count is how many packets had verdict v.
func (s *Stats) Count(v string) int {
	s.flush()
	return s.Verdicts[v]
}

// Aborted counts XDP_ABORTED and invalid actions.
func (s *Stats) Aborted() int {
	s.flush()
	n := 0
	for v, c := range s.Verdicts {
		if v == "XDP_ABORTED" || len(v) > len("XDP_ABORTED ") && v[:len("XDP_ABORTED ")] == "XDP_ABORTED " {
			n += c
		}
	}
	return n
}

// Names lists the verdicts seen, sorted.
func (s *Stats) Names() []string {
	s.flush()
	out := make([]string, 0, len(s.Verdicts))
	for v := range s.Verdicts {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Loop replays traces through a target: the one loop behind xdpsim run, diff and test, the golden
// tests and the public API, so that every condition means the same everywhere. The zero
// Conditions are BPF_PROG_TEST_RUN's.
type Loop struct {
	Target Target
	// Conditions every packet starts from: ingress ifindex and RX queue. Each packet's time is
	// its record's; its CPU is the RX queue's (RxQueue mod CPUs).
	Conditions sim.Conditions
	// CPUs is the number of simulated CPUs the RX queues map to; 0 means 1.
	CPUs int
	// Snapped says what happens to records the capture cut short.
	Snapped SnapPolicy
	// Select picks the packets per-packet outputs show; nil shows every packet.
	Select func(n int) bool
	// Sinks receive every packet, in order.
	Sinks []Sink
	// Stats counts what the run produced so far.
	Stats Stats
	// Workers is how many goroutines Run runs packets on. With 0 or 1, every packet runs on the
	// caller's goroutine, one after the other. With more, and a target that forks (Forker: the
	// simulator), each simulated CPU's packets run in order on one of Workers goroutines (at most
	// one per CPU: see CPUs, and the device's RSS queues) over shared maps, as the kernel's CPUs
	// run theirs at once; the sinks still see every packet in input order. Whatever does not
	// depend on how the CPUs interleave comes out byte for byte as in order; what does (shared
	// counters a program reads back, LRU eviction, ring buffer order) may differ (see README).
	// A loop with a tracer (a Starter sink) runs in order.
	Workers int

	pkt       Packet
	starters  []Starter
	inPlace   inPlace // Target, when it writes outcomes in place
	committed bool
}

// Run replays the traces in order, then lets the sinks finish and puts the outputs in place. On
// any error nothing is put in place: the outputs written so far are removed.
func (l *Loop) Run(traces ...string) error {
	err := l.prepare()
	if err == nil {
		if w := l.ParallelWorkers(); w > 1 {
			err = l.runParallel(traces, w)
		} else {
			err = ReadAll(traces, l.record)
		}
	}
	if err == nil {
		err = l.finish()
	}
	if err != nil {
		l.Abort()
	}
	return err
}

// prepare sorts out the sinks before the first packet.
func (l *Loop) prepare() error {
	if l.Target == nil {
		return errors.New("replay: a loop needs a target")
	}
	if l.Stats.Verdicts == nil {
		l.Stats.Verdicts = map[string]int{}
	}
	l.inPlace, _ = l.Target.(inPlace)
	l.starters = l.starters[:0]
	for _, s := range l.Sinks {
		if st, ok := s.(Starter); ok {
			l.starters = append(l.starters, st)
		}
	}
	return nil
}

// Packet runs one packet outside a trace (a hand-written packet, a fuzz input) through the target
// and the sinks, numbered as the next packet.
func (l *Loop) Packet(rec *Record) (*Packet, error) {
	if err := l.prepare(); err != nil {
		return nil, err
	}
	err := l.record(rec)
	l.Stats.flush()
	if err != nil {
		return nil, err
	}
	return &l.pkt, nil
}

// record runs one record.
func (l *Loop) record(rec *Record) error {
	p := &l.pkt
	if err := l.start(p, rec); err != nil {
		return err
	}
	for _, s := range l.starters {
		if err := s.Start(p); err != nil {
			return err
		}
	}
	l.runOn(l.Target, l.inPlace, p)
	return l.account(p)
}

// start numbers a record's packet and sets its conditions. A snapped record is an error under
// SnapError.
func (l *Loop) start(p *Packet, rec *Record) error {
	l.Stats.Packets++
	n := l.Stats.Packets
	p.N, p.Record = n, rec
	p.Selected = l.Select == nil || l.Select(n)
	p.Cond = l.Conditions
	p.Cond.TimeNs = uint64(rec.Time.UnixNano())
	if cpus := max(l.CPUs, 1); cpus > 1 {
		p.Cond.CPU = int(p.Cond.RxQueue) % cpus
	} else {
		p.Cond.CPU = 0
	}
	if l.Snapped == SnapError && rec.Snapped() {
		return &TraceError{File: rec.File, Record: rec.Index, Err: fmt.Errorf("snapped: %d of %d bytes captured", len(rec.Data), rec.OrigLen)}
	}
	return nil
}

// runOn runs a started packet on target t (ip: t, when it writes outcomes in place), or says why
// it does not run.
func (l *Loop) runOn(t Target, ip inPlace, p *Packet) {
	rec := p.Record
	switch {
	case l.Snapped == SnapReport && rec.Snapped():
		p.Outcome = sim.Outcome{}
		p.Outcome.Err = fmt.Sprintf("not run: %s record %d is snapped, %d of %d bytes captured (see --snapped)", rec.File, rec.Index, len(rec.Data), rec.OrigLen)
		p.Outcome.Index = p.N
		p.Verdict = VerdictSnapped
		return
	case ip != nil:
		ip.RunTo(&p.Outcome, rec.Data, rec.Meta, p.Cond)
	default:
		if tt, ok := t.(TraceTarget); ok {
			p.Outcome = tt.RunTrace(rec.File, rec.Data, rec.Meta, p.Cond)
		} else {
			p.Outcome = t.Run(rec.Data, rec.Meta, p.Cond)
		}
	}
	p.Outcome.Index = p.N
	p.Verdict = Verdict(&p.Outcome)
}

// account counts a packet that ran and hands it to the sinks.
func (l *Loop) account(p *Packet) error {
	l.Stats.count(p)
	if p.Outcome.Exception != "" {
		l.Stats.Exceptions++
	}
	if tc := p.Outcome.TC; tc != nil && (len(tc.Programs) > 0 || tc.Dropped != "") {
		if l.Stats.TC == nil {
			l.Stats.TC = map[string]int{}
		}
		switch {
		case tc.Fault != nil:
			l.Stats.TC[VerdictFault]++
		case tc.Dropped != "":
			l.Stats.TC[TCDroppedBefore]++
		default:
			l.Stats.TC[tc.Action]++
		}
	}
	for _, s := range l.Sinks {
		if err := s.Packet(p); err != nil {
			return err
		}
	}
	return nil
}

// finish lets every sink finish and commits the outputs.
func (l *Loop) finish() error {
	l.Stats.flush()
	for _, s := range l.Sinks {
		if f, ok := s.(Finisher); ok {
			if err := f.Finish(l); err != nil {
				return err
			}
		}
	}
	for _, s := range l.Sinks {
		if c, ok := s.(Committer); ok {
			if err := c.Commit(); err != nil {
				return err
			}
		}
	}
	l.committed = true
	return nil
}

// Finish ends a loop driven by Packet: the sinks finish and the outputs are put in place.
func (l *Loop) Finish() error {
	err := l.finish()
	if err != nil {
		l.Abort()
	}
	return err
}

// Abort removes every output written so far, unless they were committed.
func (l *Loop) Abort() {
	if l.committed {
		return
	}
	for _, s := range l.Sinks {
		if c, ok := s.(Committer); ok {
			c.Abort()
		}
	}
}
