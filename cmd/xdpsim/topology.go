package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/btfjson"
	"github.com/xdpsim/xdpsim/sim/replay"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/topology"
	"github.com/xdpsim/xdpsim/vm"
)

// runTopology is xdpsim run --topology FILE TRACE...: the traces go through the network the file
// describes (see package sim/topology), each where its arrival says, and the outputs show every
// packet's path. The single-device flags are refused: the file says it all.
func runTopology(rf *runFlags, traces []string, stdout, stderr io.Writer) error {
	if len(traces) == 0 {
		return usageErr(errors.New("--topology: need at least one trace"))
	}
	for _, c := range []struct {
		set  bool
		flag string
	}{
		{rf.prog != "", "--prog"}, {rf.typ != "", "--type"}, {len(rf.tc) > 0, "--tc"}, {rf.device != "", "--device"},
		{rf.queues != 0, "--queues"}, {rf.rssKey != "", "--rss-key"}, {rf.host != "", "--host"}, {rf.ifindex != 1, "--ifindex"},
		{rf.mapsIn != "", "--maps-in"},
	} {
		if c.set {
			return usageErr(fmt.Errorf("%s: with --topology the file names the programs, devices, hooks and host (see xdpsim run --help)", c.flag))
		}
	}
	h := rf.helpers
	for _, c := range []struct {
		set  bool
		flag string
	}{
		{h.task != "", "--task"}, {h.cookieSecret != "", "--syncookie-secret"},
		{h.conntrackIn != "", "--conntrack-in"}, {h.conntrackDump != "", "--conntrack"},
	} {
		if c.set {
			return usageErr(fmt.Errorf("%s: not available with --topology yet", c.flag))
		}
	}
	eng, err := lookupEngine(rf.engine)
	if err != nil {
		return usageErr(err)
	}
	if eng.kernel {
		return usageErr(errors.New("--engine kernel: the kernel test-runs one program; a topology runs in the simulator"))
	}
	failOn, err := rf.networkFailOn()
	if err != nil {
		return usageErr(err)
	}
	opts, err := rf.loadOptions()
	if err != nil {
		return usageErr(err)
	}
	if err := checkMapsFormats(rf.mapsFormat, rf.mapsFormat); err != nil {
		return usageErr(err)
	}
	snap, err := replay.ParseSnapPolicy(rf.snapped)
	if err != nil {
		return usageErr(fmt.Errorf("--snapped %w", err))
	}
	topo, err := topology.Load(rf.topology, opts)
	if err != nil {
		return usageErr(fmt.Errorf("--topology: %w", err))
	}
	n := topo.Network
	n.SetSeed(rf.seed)
	machines, err := n.Machines()
	if err != nil {
		return usageErr(fmt.Errorf("--topology %s: %w", rf.topology, err))
	}
	for _, m := range machines {
		if eng.vm != nil {
			m.SetEngine(eng.vm)
		}
		m.SetBudget(rf.budget)
	}
	for _, name := range topo.Order {
		for _, note := range topo.Objects[name].Notices {
			fmt.Fprintf(stderr, "xdpsim: %s: %s\n", name, note)
		}
	}
	loop := &replay.Loop{
		Target:     &replay.Network{N: n, Arrivals: topo.Arrivals, Objects: topo.Objects},
		Conditions: sim.Conditions{RxQueue: rf.rxq},
		CPUs:       opts.CPUs,
		Snapped:    snap,
	}
	if rf.packets != "" {
		sel, err := parsePackets(rf.packets)
		if err != nil {
			return usageErr(fmt.Errorf("--packet %w", err))
		}
		loop.Select = sel
	}
	if err := rf.networkSinks(loop, topo, machines, stdout); err != nil {
		return err
	}
	var cov *coverageSink
	if rf.coverage.wanted() {
		cov = newNetworkCoverageSink(topo, machines, &rf.coverage, stdout)
		loop.Sinks = append(loop.Sinks, cov)
	}
	rf.requireSelection(loop)
	if err := loop.Run(traces...); err != nil {
		return usageErr(err)
	}
	if !rf.quietSummary() {
		printNetworkSummary(stdout, rf.topology, loop, eng)
		if cov != nil {
			cov.printSummary(stdout)
		}
	}
	if failOn != nil {
		if hit := failOn(&loop.Stats); hit != "" {
			return &exitError{exitFailed, fmt.Errorf("--fail-on %s: %s", rf.failOn, hit)}
		}
	}
	return nil
}

// networkSinks adds the outputs the flags ask for: the trace of every program that runs, -v
// lines with each packet's path, JSON lines, the pcaps of what left each device, the map dump.
func (rf *runFlags) networkSinks(l *replay.Loop, topo *topology.Topology, machines []*vm.Machine, stdout io.Writer) error {
	if rf.trace && len(machines) > 0 {
		tr := replay.NewTrace(stdout, machines[0])
		tr.Also(machines[1:]...)
		places, err := topo.Network.Places()
		if err != nil {
			return usageErr(fmt.Errorf("--topology %s: %w", rf.topology, err))
		}
		for _, pl := range places {
			returns := replay.ReturnsTC
			switch {
			case pl.Hook == "xdp":
				returns = replay.ReturnsXDP
			case pl.Hook == "netkit":
				returns = replay.ReturnsNetkit
			case pl.TCX:
				returns = replay.ReturnsTCX
			}
			tr.Name(pl.Program.VM, pl.String(), returns)
		}
		l.Sinks = append(l.Sinks, tr)
	}
	if rf.verbose {
		l.Sinks = append(l.Sinks, replay.NewVerbose(stdout))
	}
	if rf.jsonl != "" {
		j, err := replay.NewJSONL(rf.jsonl, stdout)
		if err != nil {
			return usageErr(err)
		}
		l.Sinks = append(l.Sinks, j)
	}
	if rf.writeDir != "" {
		d, err := replay.NewNetworkPcaps(rf.writeDir, topo.Network)
		if err != nil {
			l.Abort()
			return usageErr(err)
		}
		l.Sinks = append(l.Sinks, d)
	}
	if rf.mapsOut != "" {
		m, err := replay.NewMapsOut(rf.mapsOut, stdout)
		if err != nil {
			l.Abort()
			return usageErr(err)
		}
		m.Line = rf.mapsOut == "-" && rf.jsonl == "-"
		if rf.mapsFormat == mapsBTF {
			m.Format = func(d result.Maps) ([]byte, error) { return formatNetworkMaps(d, topo) }
		}
		l.Sinks = append(l.Sinks, m)
	}
	return nil
}

// formatNetworkMaps writes a network's map dump as the objects' BTF types: each "OBJECT:MAP" (or,
// with one object, "MAP") by its own object's types.
func formatNetworkMaps(d result.Maps, topo *topology.Topology) ([]byte, error) {
	if len(topo.Objects) == 1 {
		return btfjson.FormatMaps(d, btfjson.SpecTypes(topo.Objects[topo.Order[0]].Spec))
	}
	var parts []string
	for _, name := range topo.Order {
		sub := result.Maps{}
		for k, v := range d {
			if m, ok := strings.CutPrefix(k, name+":"); ok {
				sub[m] = v
			}
		}
		b, err := btfjson.FormatMaps(sub, btfjson.SpecTypes(topo.Objects[name].Spec))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		parts = append(parts, fmt.Sprintf("%q: %s", name, strings.TrimSpace(string(b))))
	}
	return []byte("{" + strings.Join(parts, ",\n") + "}\n"), nil
}

// networkFailOn reads --fail-on for a topology run: fault, refused, snapped, drop (a packet
// dropped anywhere on its way), loop (stopped by the hop bound).
func (rf *runFlags) networkFailOn() (func(*replay.Stats) string, error) {
	if rf.failOn == "" {
		return nil, nil
	}
	counters := map[string]func(*replay.Stats) int{
		"fault":   func(s *replay.Stats) int { return s.Count(replay.VerdictFault) },
		"refused": func(s *replay.Stats) int { return s.Count(replay.VerdictRefused) },
		"snapped": func(s *replay.Stats) int { return s.Count(replay.VerdictSnapped) },
		"drop":    func(s *replay.Stats) int { return countPrefix(s, "dropped") },
		"loop":    func(s *replay.Stats) int { return s.Count(sim.End{Kind: "loop"}.Summary()) },
	}
	return failOnList(rf.failOn, counters, "with --topology want a list of fault, refused, snapped, drop, loop")
}

func countPrefix(s *replay.Stats, prefix string) int {
	n := 0
	for v, c := range s.Verdicts {
		if strings.HasPrefix(v, prefix) {
			n += c
		}
	}
	return n
}

// printNetworkSummary counts where the packets' ways ended.
func printNetworkSummary(w io.Writer, path string, l *replay.Loop, eng engine) {
	st := &l.Stats
	where := "simulator"
	if eng.vm != vm.DefaultEngine() {
		where = "simulator, " + eng.name
	}
	fmt.Fprintf(w, "%s: %d packets (%s)\n", path, st.Packets, where)
	names := st.Names()
	sort.Slice(names, func(a, b int) bool {
		if st.Verdicts[names[a]] != st.Verdicts[names[b]] {
			return st.Verdicts[names[a]] > st.Verdicts[names[b]]
		}
		return names[a] < names[b]
	})
	width := 14
	for _, v := range names {
		width = max(width, len(v)+1)
	}
	for _, v := range names {
		fmt.Fprintf(w, "  %-*s %d\n", width, v, st.Verdicts[v])
	}
	refused, faults, snapped := st.Count(replay.VerdictRefused), st.Count(replay.VerdictFault), st.Count(replay.VerdictSnapped)
	if k := refused + faults + snapped; k > 0 {
		fmt.Fprintf(w, "  %d packets not run to completion: %d refused, %d program faults, %d snapped; see -v or --jsonl for each\n", k, refused, faults, snapped)
	}
}
