package corpus_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/verifier"
)

// TestEveryCorpusProgramGetsTheKernelsVerdict asks the running kernel's verifier about every
// program of every object of the corpus (XDP and tc, both CPU versions) and requires xdpsim's
// verifier to give the same verdict, and the same blamed instruction when both refuse. The
// figures of both (processed instructions and states) are logged side by side. The 3,742-insn
// load balancer of sim's benchmarks (sim/testdata/lb.o) is asked about too. Programs only the
// simulator can load (kfuncs of proposals that never merged) are left out, named.
func TestEveryCorpusProgramGetsTheKernelsVerdict(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skip(err)
	}
	ncpu, err := kernel.PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	var progs []corpus.Program
	progs = append(progs, corpus.Programs()...)
	progs = append(progs, corpus.TCPrograms()...)
	var skipped []string
	objects := []verifiedObject{{path: filepath.Join(corpus.Dir(), "..", "sim", "testdata", "lb.o")}}
	for _, p := range progs {
		if strings.Contains(p.Needs, corpus.NeedsTraits) || strings.Contains(p.Needs, corpus.NeedsExportToSkb) || strings.Contains(p.Needs, corpus.NeedsControlMap) {
			skipped = append(skipped, p.Name+" ("+p.Needs+")")
			continue
		}
		for _, path := range p.Objects() {
			objects = append(objects, verifiedObject{path: path, devBound: p.Needs == corpus.NeedsDevice})
		}
	}
	tl := compareVerdicts(t, ncpu, objects)
	t.Logf("left out (only the simulator loads them): %s", strings.Join(skipped, "; "))
	tl.log(t)
}

// verifiedObject is an object both verifiers are asked about.
type verifiedObject struct {
	path     string
	devBound bool
	// foreign objects were not built for xdpsim (the kernel's selftests): a program the kernel
	// cannot load before its verifier speaks (a kfunc of a test module, say), or an object
	// xdpsim cannot read, is listed in tally.unloaded instead of failing the test.
	foreign bool
}

// knownDisagreement is a program on which xdpsim's verifier is known to part from the kernel's,
// with the reason; compareVerdicts logs it instead of failing, and fails when it no longer
// disagrees (so the table shrinks as the verifier improves).
type knownDisagreement struct {
	program string // "object.o/function"
	reason  string
}

// tally is what compareVerdicts found.
type tally struct {
	compared, accepted, rejected, unverified               int
	kernelProcessed, ourProcessed, kernelStates, ourStates int
	figures                                                []string
	// unloaded are the programs of foreign objects that could not be compared, with why.
	unloaded []string
	// known are the known disagreements met.
	known []string
}

// compareVerdicts asks the running kernel's verifier and xdpsim's about every XDP and tc program
// of the objects, and reports each disagreement in verdict or blamed instruction as an error.
// Disagreements listed in known are logged instead; a listed one that does not occur fails.
func compareVerdicts(t *testing.T, ncpu int, objects []verifiedObject, known ...knownDisagreement) tally {
	t.Helper()
	var tl tally
	reasons := map[string]string{}
	for _, k := range known {
		reasons[k.program] = k.reason
	}
	met := map[string]bool{}
	// disagree reports a disagreement unless it is a known one.
	disagree := func(what, format string, args ...any) {
		msg := what + ": " + fmt.Sprintf(format, args...)
		if r, ok := reasons[what]; ok {
			met[what] = true
			tl.known = append(tl.known, msg+" [known: "+r+"]")
			return
		}
		t.Error(msg)
	}
	for _, o := range objects {
		path := o.path
		spec, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			if o.foreign {
				tl.unloaded = append(tl.unloaded, fmt.Sprintf("%s: cilium/ebpf cannot read it: %s", filepath.Base(path), withoutDir(err, path)))
				continue
			}
			t.Fatal(err)
		}
		var names []string
		for name, ps := range spec.Programs {
			if ps.Type == ebpf.XDP || ps.Type == ebpf.SchedCLS {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			continue
		}
		obj, err := sim.Load(path, sim.LoadOptions{NoVerify: true})
		if err != nil {
			if o.foreign {
				tl.unloaded = append(tl.unloaded, fmt.Sprintf("%s (%d programs): xdpsim cannot load it: %s", filepath.Base(path), len(names), withoutDir(err, path)))
				continue
			}
			t.Fatal(err)
		}
		for _, name := range names {
			what := filepath.Base(path) + "/" + name
			devBound := o.devBound || callsDevBoundKfunc(spec.Programs[name])
			kv, err := kernel.Verify(path, kernel.VerifyOptions{Program: name, DevBound: devBound})
			if err != nil {
				if o.foreign {
					tl.unloaded = append(tl.unloaded, fmt.Sprintf("%s: the kernel cannot load it: %s", what, withoutDir(err, path)))
					continue
				}
				t.Fatalf("%s: %v", what, err)
			}
			in, err := obj.VerifierInput(name)
			var unchecked *sim.UncheckedKfuncsError
			if err != nil && o.foreign && !errors.As(err, &unchecked) {
				// The simulator refuses to load it (kfuncs it does not provide, ksyms): it
				// never runs what the kernel would refuse.
				verdict := "accepts it"
				if !kv.Accepted {
					verdict = fmt.Sprintf("refuses it at %d", kv.Insn)
				}
				tl.unloaded = append(tl.unloaded, fmt.Sprintf("%s: xdpsim cannot load it (the kernel %s): %v", what, verdict, loadRefusal(err)))
				continue
			}
			if err != nil {
				// A program whose kfuncs the verifier does not check yet loads unverified:
				// it must be one the kernel accepts.
				if !kv.Accepted {
					disagree(what, "the kernel refuses it (%d: %s) and xdpsim cannot verify it: %v", kv.Insn, kv.Message, err)
				}
				tl.unverified++
				t.Logf("%s: not verified: %v", what, err)
				continue
			}
			in.NrCPUs = ncpu
			in.DevBound = devBound
			res, verr := verifier.Verify(in, verifier.Options{})
			var ve *verifier.Error
			if verr != nil && !errors.As(verr, &ve) {
				t.Errorf("%s: %v", what, verr)
				continue
			}
			tl.compared++
			switch {
			case kv.Accepted && ve != nil:
				disagree(what, "the kernel accepts it, xdpsim refuses it at %d: %s", ve.PC, ve.Msg)
			case !kv.Accepted && ve == nil:
				disagree(what, "the kernel refuses it at %d (%s), xdpsim accepts it", kv.Insn, kv.Message)
			case !kv.Accepted && ve.PC != kv.Insn:
				disagree(what, "the kernel refuses it at %d (%s), xdpsim at %d (%s)", kv.Insn, kv.Message, ve.PC, ve.Msg)
			case !kv.Accepted:
				tl.rejected++
			case kv.Accepted:
				tl.accepted++
				tl.kernelProcessed += kv.Stats.Processed
				tl.ourProcessed += res.Stats.Processed
				tl.kernelStates += kv.Stats.TotalStates
				tl.ourStates += res.Stats.TotalStates
				tl.figures = append(tl.figures, fmt.Sprintf("%-40s processed %6d / %6d  states %5d / %5d", what,
					res.Stats.Processed, kv.Stats.Processed, res.Stats.TotalStates, kv.Stats.TotalStates))
			}
		}
	}
	if tl.compared == 0 {
		t.Error("no program was compared")
	}
	for _, k := range known {
		if !met[k.program] {
			t.Errorf("%s: listed as a known disagreement (%s), but it was not met: drop it from the table", k.program, k.reason)
		}
	}
	return tl
}

// loadRefusal is why the simulator refuses to load a program, on one line and without the
// object's path.
func loadRefusal(err error) string {
	var le *sim.LoadError
	if errors.As(err, &le) {
		err = le.Err
	}
	return strings.ReplaceAll(err.Error(), "\n  ", " ")
}

// withoutDir is the text of err with the directory of path left out, on one line.
func withoutDir(err error, path string) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), filepath.Dir(path)+"/", ""), "\n", " ")
}

// callsDevBoundKfunc says the program calls an XDP RX-metadata kfunc, which only a program
// loaded bound to a device may do.
func callsDevBoundKfunc(ps *ebpf.ProgramSpec) bool {
	for _, ins := range ps.Instructions {
		if ins.IsKfuncCall() && strings.HasPrefix(ins.Reference(), "bpf_xdp_metadata_") {
			return true
		}
	}
	return false
}

// log prints the figures of both verifiers side by side and the totals.
func (tl tally) log(t *testing.T) {
	t.Helper()
	t.Log("xdpsim / the kernel:")
	for _, f := range tl.figures {
		t.Log(f)
	}
	for _, k := range tl.known {
		t.Log("known disagreement: " + k)
	}
	if len(tl.unloaded) > 0 {
		t.Logf("%d programs or objects not compared:", len(tl.unloaded))
		for _, u := range tl.unloaded {
			t.Log("  " + u)
		}
	}
	t.Logf("%d programs compared with the kernel (%d accepted by both, %d rejected by both at the same instruction, %d known disagreements), %d loaded unverified; over the accepted ones xdpsim processed %d instructions (the kernel %d) and kept %d states (the kernel %d)",
		tl.compared, tl.accepted, tl.rejected, len(tl.known), tl.unverified, tl.ourProcessed, tl.kernelProcessed, tl.ourStates, tl.kernelStates)
}

// TestInstalledXDPToolsProgramsGetTheKernelsVerdict holds xdpsim's verifier to the kernel's on
// real-world programs nobody wrote for xdpsim: the BPF objects Debian's xdp-tools and libxdp
// install (xdp-filter's ten filters, xdpdump's XDP program, libxdp's dispatcher and its AF_XDP
// default program), as the distribution built them. Both verifiers must accept each, as Linux does.
func TestInstalledXDPToolsProgramsGetTheKernelsVerdict(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skip(err)
	}
	dir := filepath.Dir(kernel.DispatcherObject)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.o"))
	if len(paths) == 0 {
		t.Skipf("SKIP: no BPF objects in %s: install xdp-tools (apt-get install xdp-tools)", dir)
	}
	ncpu, err := kernel.PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	var objects []verifiedObject
	for _, p := range paths {
		objects = append(objects, verifiedObject{path: p})
	}
	tl := compareVerdicts(t, ncpu, objects)
	tl.log(t)
	if tl.accepted != tl.compared {
		t.Errorf("%d of %d installed programs accepted by both; Linux accepts them all", tl.accepted, tl.compared)
	}
}
