package expect

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
)

// NewLoop prepares a replay loop for one test, with fresh maps, from the file's and the test's
// flags (xdpsim run's); close releases it.
type NewLoop func(f *File, t *Test) (l *replay.Loop, close func(), err error)

// Result is one test's outcome.
type Result struct {
	File *File
	Test *Test
	// Failures describe each expectation that did not hold; none means the test passed.
	Failures []string
	// Err is set when the test could not run at all (a missing object, a bad flag).
	Err error
	// Unchecked names expectations the target could not check (redirect targets on the
	// kernel).
	Unchecked []string
	Duration  time.Duration
}

// Passed says the test ran and every expectation held.
func (r *Result) Passed() bool { return r.Err == nil && len(r.Failures) == 0 }

// Run runs every test of the file, each on a loop of its own.
func (f *File) Run(newLoop NewLoop) []Result {
	out := make([]Result, len(f.Tests))
	for i := range f.Tests {
		t := &f.Tests[i]
		start := time.Now()
		out[i] = Result{File: f, Test: t}
		out[i].Failures, out[i].Unchecked, out[i].Err = f.runTest(t, newLoop)
		out[i].Duration = time.Since(start)
	}
	return out
}

// verdictCounter counts a test's verdicts.
type verdictCounter map[string]int

func (c verdictCounter) Packet(p *replay.Packet) error {
	c[p.Verdict]++
	return nil
}

func (f *File) runTest(t *Test, newLoop NewLoop) (fails, unchecked []string, err error) {
	l, closeLoop, err := newLoop(f, t)
	if err != nil {
		return nil, nil, err
	}
	_, blind := l.Target.(replay.RedirectBlind)
	defer closeLoop()
	counts := verdictCounter{}
	l.Sinks = append(l.Sinks, counts)
	if t.Trace != "" {
		if err := l.Run(f.Resolve(t.Trace)); err != nil {
			return nil, nil, err
		}
	} else {
		n := 0
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range t.Packets {
			pk := &t.Packets[i]
			frame, err := pk.Frame()
			if err != nil {
				return nil, nil, fmt.Errorf("packet %d: %w", i+1, err)
			}
			for range max(pk.Repeat, 1) {
				n++
				rec := &replay.Record{File: f.Path, Index: n, Time: base.Add(time.Duration(n) * time.Millisecond), Data: frame, OrigLen: len(frame)}
				p, err := l.Packet(rec)
				if err != nil {
					return nil, nil, err
				}
				if pk.Expect != nil {
					if pk.Expect.Redirect != nil && blind && len(unchecked) == 0 {
						unchecked = append(unchecked, "redirect targets")
					}
					for _, msg := range pk.Expect.check(p, !blind) {
						fails = append(fails, fmt.Sprintf("packet %d: %s", n, msg))
					}
				}
			}
		}
		if err := l.Finish(); err != nil {
			return nil, nil, err
		}
	}
	if t.Verdicts != nil {
		fails = append(fails, checkVerdicts(counts, t.Verdicts)...)
	}
	if len(t.Maps) > 0 {
		dump, err := l.Target.DumpMaps()
		if err != nil {
			return nil, nil, err
		}
		fails = append(fails, checkMaps(dump, t.Maps)...)
	}
	return fails, unchecked, nil
}

// check compares one packet's outcome with the expectation; redirects says the outcome tells
// where a redirect went.
func (e *Expect) check(p *replay.Packet, redirects bool) []string {
	var fails []string
	o := &p.Outcome
	if e.Verdict != "" && p.Verdict != e.Verdict {
		msg := fmt.Sprintf("verdict: got %s, want %s", p.Verdict, e.Verdict)
		if o.Err != "" {
			msg += " (" + o.Err + ")"
		}
		fails = append(fails, msg)
	}
	if o.Err != "" {
		return fails
	}
	if e.Data != nil {
		want, err := ParseBytes(*e.Data)
		if err != nil {
			fails = append(fails, fmt.Sprintf("data: the expectation is not bytes: %v", err))
		} else if !bytes.Equal(o.Data, want) {
			fails = append(fails, "data differs:\n"+HexDiff(want, o.Data))
		}
	}
	if e.Meta != nil {
		want, err := ParseBytes(*e.Meta)
		if err != nil {
			fails = append(fails, fmt.Sprintf("meta: the expectation is not bytes: %v", err))
		} else if !bytes.Equal(o.Meta, want) {
			fails = append(fails, "metadata differs:\n"+HexDiff(want, o.Meta))
		}
	}
	if e.Length != nil && len(o.Data) != *e.Length {
		fails = append(fails, fmt.Sprintf("length: got %d, want %d", len(o.Data), *e.Length))
	}
	if len(e.Fields) > 0 {
		d := decode(o.Data)
		names := make([]string, 0, len(e.Fields))
		for n := range e.Fields {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if msg := checkField(d, n, e.Fields[n]); msg != "" {
				fails = append(fails, msg)
			}
		}
	}
	switch e.Checksums {
	case "":
	case "valid":
		fails = append(fails, badChecksums(o.Data)...)
	default:
		fails = append(fails, fmt.Sprintf("checksums: %q is not something to check (valid)", e.Checksums))
	}
	if r := e.Redirect; r != nil && redirects {
		got := o.Redirect
		switch {
		case got == nil:
			fails = append(fails, "redirect: the packet was not redirected")
		case r.Map != "" && got.Map != r.Map:
			fails = append(fails, fmt.Sprintf("redirect: to map %q, want map %q", got.Map, r.Map))
		case r.Key != nil && got.Key != *r.Key:
			fails = append(fails, fmt.Sprintf("redirect: to key %d, want key %d", got.Key, *r.Key))
		case r.Ifindex != nil && got.Ifindex != *r.Ifindex:
			fails = append(fails, fmt.Sprintf("redirect: to ifindex %d, want ifindex %d", got.Ifindex, *r.Ifindex))
		}
	}
	return fails
}

func checkVerdicts(got, want map[string]int) []string {
	names := map[string]bool{}
	for n := range got {
		names[n] = true
	}
	for n := range want {
		names[n] = true
	}
	var keys []string
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	var fails []string
	for _, n := range keys {
		if got[n] != want[n] {
			fails = append(fails, fmt.Sprintf("verdicts: %d %s, want %d", got[n], n, want[n]))
		}
	}
	return fails
}

func checkMaps(dump result.Maps, want map[string][]Entry) []string {
	var fails []string
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		entries, ok := dump[name]
		if !ok {
			fails = append(fails, fmt.Sprintf("map %s: no such map was dumped", name))
			continue
		}
		byKey := map[string]result.MapEntry{}
		for _, e := range entries {
			byKey[e.Key] = e
		}
		for _, w := range want[name] {
			kb, _ := ParseBytes(w.Key)
			key := result.Hex(kb)
			got, ok := byKey[key]
			switch {
			case w.Absent && ok:
				fails = append(fails, fmt.Sprintf("map %s key %s (%s): present, want absent", name, key, w.Key))
			case w.Absent:
			case !ok:
				fails = append(fails, fmt.Sprintf("map %s key %s (%s): absent", name, key, w.Key))
			default:
				if msg := checkEntry(got, w); msg != "" {
					fails = append(fails, fmt.Sprintf("map %s key %s (%s): %s", name, key, w.Key, msg))
				}
			}
		}
	}
	return fails
}

func checkEntry(got result.MapEntry, w Entry) string {
	switch {
	case w.Sum != nil:
		var s uint64
		for _, v := range append(got.Values, got.Value) {
			b, _ := ParseBytes(v)
			var n uint64
			for i := len(b) - 1; i >= 0; i-- {
				n = n<<8 | uint64(b[i])
			}
			s += n
		}
		if s != *w.Sum {
			return fmt.Sprintf("sum over CPUs %d, want %d", s, *w.Sum)
		}
	case w.Values != nil:
		var want []string
		for _, v := range w.Values {
			b, err := ParseBytes(v)
			if err != nil {
				return err.Error()
			}
			want = append(want, result.Hex(b))
		}
		if strings.Join(want, " ") != strings.Join(got.Values, " ") {
			return fmt.Sprintf("values %v, want %v", got.Values, want)
		}
	case w.Value != "":
		b, err := ParseBytes(w.Value)
		if err != nil {
			return err.Error()
		}
		if result.Hex(b) != got.Value {
			return fmt.Sprintf("value %s, want %s (%s)", orDash(got.Value), result.Hex(b), w.Value)
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// HexDiff shows two byte strings 16 bytes a row, the rows that differ as "-" (want) and "+" (got)
// with the offset, and the lengths.
func HexDiff(want, got []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    lengths: want %d, got %d\n", len(want), len(got))
	row := func(p []byte, i int) string {
		if i >= len(p) {
			return ""
		}
		return fmt.Sprintf("% x", p[i:min(i+16, len(p))])
	}
	for i := 0; i < max(len(want), len(got)); i += 16 {
		w, g := row(want, i), row(got, i)
		if w == g {
			continue
		}
		fmt.Fprintf(&b, "    -%04x  %s\n    +%04x  %s\n", i, w, i, g)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
