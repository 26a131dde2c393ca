package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// cmdDiff runs an object in the simulator and in the real kernel over the same packets and reports
// every divergence. Exit codes: 0 agree, 1 diverge, 3 no kernel can be used.
func cmdDiff(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	var rf runFlags
	rf.register(fs)
	maxShown := fs.Int("max", 20, "show at most this many packet divergences (all are counted)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: xdpsim diff [flags] PROG.o TRACE.pcap [TRACE.pcap...]\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return &exitError{2, errors.New("need an object and at least one trace")}
	}
	if err := kernel.Available(); err != nil {
		return &exitError{3, err}
	}
	objPath, traces := fs.Arg(0), fs.Args()[1:]
	opts, err := rf.loadOptions()
	if err != nil {
		return &exitError{2, err}
	}
	d, err := newDiffer(objPath, rf, opts)
	if err != nil {
		return err
	}
	defer d.close()
	var divergences, n int
	for _, tr := range traces {
		err := readTrace(tr, func(rec record) error {
			n++
			for _, msg := range d.packet(n, rec) {
				divergences++
				if divergences <= *maxShown {
					fmt.Fprintln(stdout, msg)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	mapDiffs, err := d.maps()
	if err != nil {
		return err
	}
	for _, msg := range mapDiffs {
		fmt.Fprintln(stdout, msg)
	}
	total := divergences + len(mapDiffs)
	if divergences > *maxShown {
		fmt.Fprintf(stdout, "... %d more packet divergences not shown\n", divergences-*maxShown)
	}
	if total > 0 {
		fmt.Fprintf(stdout, "%s: %d packets: %d packet divergences, %d map divergences\n", objPath, n, divergences, len(mapDiffs))
		return &exitError{1, nil}
	}
	fmt.Fprintf(stdout, "%s: %d packets: simulator and kernel agree (return values, data, metadata, maps)\n", objPath, n)
	return nil
}

// differ holds both sides of a comparison.
type differ struct {
	rf  runFlags
	x   *sim.XDP
	obj *sim.Object
	kp  *kernel.Program
}

func newDiffer(objPath string, rf runFlags, opts sim.LoadOptions) (*differ, error) {
	kp, err := kernel.Load(objPath, kernel.Options{Program: rf.prog, Variables: opts.Set, MapSizes: opts.Resize})
	if err != nil {
		return nil, err
	}
	// Per-CPU maps hold one value per possible CPU in the kernel: simulate as many.
	opts.CPUs = kp.NumCPU()
	obj, err := sim.Load(objPath, opts)
	if err != nil {
		kp.Close()
		return nil, err
	}
	prog, err := obj.FindProgram(rf.prog)
	if err != nil {
		kp.Close()
		return nil, err
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		kp.Close()
		return nil, err
	}
	x.SetSeed(rf.seed)
	d := &differ{rf: rf, x: x, obj: obj, kp: kp}
	if rf.mapsIn != "" {
		if err := loadMapsFile(obj, rf.mapsIn); err != nil {
			kp.Close()
			return nil, err
		}
		var in result.Maps
		if err := readJSON(rf.mapsIn, &in); err != nil {
			kp.Close()
			return nil, err
		}
		if err := kp.LoadMaps(in); err != nil {
			kp.Close()
			return nil, fmt.Errorf("kernel: %w", err)
		}
	}
	return d, nil
}

func (d *differ) close() { d.kp.Close() }

// packet runs one packet on both sides and describes each difference.
func (d *differ) packet(n int, rec record) []string {
	cpu := 0
	cond := sim.Conditions{IngressIfindex: d.rf.ifindex, RxQueue: d.rf.rxq, CPU: cpu, TimeNs: uint64(rec.ts.UnixNano())}
	s := d.x.Run(rec.data, nil, cond)
	k := d.kp.Run(rec.data, nil, kernel.Context{IngressIfindex: d.rf.ifindex, RxQueue: d.rf.rxq, CPU: cpu})
	return comparePackets(n, s.Packet, k)
}

// comparePackets describes how the simulator's result s differs from the kernel's k.
func comparePackets(n int, s, k result.Packet) []string {
	var out []string
	switch {
	case (s.Err != "") != (k.Err != ""):
		return []string{fmt.Sprintf("packet %d: run: simulator %s; kernel %s", n, orOK(s.Err), orOK(k.Err))}
	case s.Err != "":
		return nil // both refused it
	}
	if s.Ret != k.Ret {
		out = append(out, fmt.Sprintf("packet %d: return value: simulator %d (%s), kernel %d (%s)", n, s.Ret, result.VerdictName(s.Ret), k.Ret, result.VerdictName(k.Ret)))
	}
	if !bytes.Equal(s.Data, k.Data) {
		out = append(out, fmt.Sprintf("packet %d: data: %s", n, byteDiff(s.Data, k.Data, true)))
	}
	if !bytes.Equal(s.Meta, k.Meta) {
		out = append(out, fmt.Sprintf("packet %d: metadata: %s", n, byteDiff(s.Meta, k.Meta, false)))
	}
	return out
}

func orOK(e string) string {
	if e == "" {
		return "ran it"
	}
	return e
}

// byteDiff describes where two byte strings first differ, naming the protocol layer of a frame.
func byteDiff(s, k []byte, frame bool) string {
	i := 0
	for i < len(s) && i < len(k) && s[i] == k[i] {
		i++
	}
	where := ""
	if frame {
		ref := k
		if i >= len(k) {
			ref = s
		}
		where = " (" + layerAt(ref, i) + ")"
	}
	lo := max(0, i-4)
	show := func(b []byte) string {
		hi := min(len(b), i+12)
		if lo >= hi {
			return "(ends)"
		}
		return fmt.Sprintf("% x", b[lo:hi])
	}
	msg := fmt.Sprintf("first difference at byte %d%s; lengths simulator %d, kernel %d\n    simulator [%d:]: %s\n    kernel    [%d:]: %s",
		i, where, len(s), len(k), lo, show(s), lo, show(k))
	return msg
}

// layerAt names the protocol layer byte off of an Ethernet frame falls in, with the offset in it.
func layerAt(frame []byte, off int) string {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	pos := 0
	for _, l := range p.Layers() {
		n := len(l.LayerContents())
		if off < pos+n {
			return fmt.Sprintf("%s header, byte %d", l.LayerType(), off-pos)
		}
		pos += n
		if pl := l.LayerPayload(); len(l.LayerContents()) == 0 && len(pl) == 0 {
			break
		}
	}
	if off < len(frame) {
		return fmt.Sprintf("payload, byte %d", off-pos)
	}
	return "past the end"
}

// maps compares map contents after the run.
func (d *differ) maps() ([]string, error) {
	sm, err := d.obj.DumpMaps()
	if err != nil {
		return nil, err
	}
	km, err := d.kp.DumpMaps()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	return compareMaps(sm, km), nil
}

func compareMaps(sm, km result.Maps) []string {
	var out []string
	names := map[string]bool{}
	for n := range sm {
		names[n] = true
	}
	for n := range km {
		names[n] = true
	}
	for _, name := range sortedNames(names) {
		se, sok := sm[name]
		ke, kok := km[name]
		if !sok || !kok {
			out = append(out, fmt.Sprintf("map %s: dumped by %s only", name, map[bool]string{true: "the simulator", false: "the kernel"}[sok]))
			continue
		}
		sk := map[string]result.MapEntry{}
		for _, e := range se {
			sk[e.Key] = e
		}
		kk := map[string]result.MapEntry{}
		for _, e := range ke {
			kk[e.Key] = e
		}
		keys := map[string]bool{}
		for k := range sk {
			keys[k] = true
		}
		for k := range kk {
			keys[k] = true
		}
		for _, key := range sortedNames(keys) {
			a, aok := sk[key]
			b, bok := kk[key]
			switch {
			case !aok:
				out = append(out, fmt.Sprintf("map %s key %s: only the kernel has it (%s)", name, key, entryValue(b)))
			case !bok:
				out = append(out, fmt.Sprintf("map %s key %s: only the simulator has it (%s)", name, key, entryValue(a)))
			case entryValue(a) != entryValue(b):
				out = append(out, fmt.Sprintf("map %s key %s: simulator %s, kernel %s", name, key, entryValue(a), entryValue(b)))
			}
		}
	}
	return out
}

func entryValue(e result.MapEntry) string {
	if e.Values != nil {
		return "[" + strings.Join(e.Values, " ") + "]"
	}
	return e.Value
}
