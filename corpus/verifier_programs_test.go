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
			objects = append(objects, verifiedObject{path, p.Needs == corpus.NeedsDevice})
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
}

// tally is what compareVerdicts found.
type tally struct {
	compared, accepted, unverified                         int
	kernelProcessed, ourProcessed, kernelStates, ourStates int
	figures                                                []string
}

// compareVerdicts asks the running kernel's verifier and xdpsim's about every XDP and tc program
// of the objects, and reports each disagreement in verdict or blamed instruction as an error.
func compareVerdicts(t *testing.T, ncpu int, objects []verifiedObject) tally {
	t.Helper()
	var tl tally
	for _, o := range objects {
		path := o.path
		spec, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for name, ps := range spec.Programs {
			if ps.Type == ebpf.XDP || ps.Type == ebpf.SchedCLS {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		obj, err := sim.Load(path, sim.LoadOptions{NoVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			what := filepath.Base(path) + "/" + name
			kv, err := kernel.Verify(path, kernel.VerifyOptions{Program: name, DevBound: o.devBound})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			in, err := obj.VerifierInput(name)
			if err != nil {
				// A program whose kfuncs the verifier does not check yet loads unverified:
				// it must be one the kernel accepts.
				if !kv.Accepted {
					t.Errorf("%s: the kernel refuses it (%d: %s) and xdpsim cannot verify it: %v", what, kv.Insn, kv.Message, err)
				}
				tl.unverified++
				t.Logf("%s: not verified: %v", what, err)
				continue
			}
			in.NrCPUs = ncpu
			in.DevBound = o.devBound
			res, verr := verifier.Verify(in, verifier.Options{})
			var ve *verifier.Error
			if verr != nil && !errors.As(verr, &ve) {
				t.Errorf("%s: %v", what, verr)
				continue
			}
			tl.compared++
			switch {
			case kv.Accepted && ve != nil:
				t.Errorf("%s: the kernel accepts it, xdpsim refuses it at %d: %s", what, ve.PC, ve.Msg)
			case !kv.Accepted && ve == nil:
				t.Errorf("%s: the kernel refuses it at %d (%s), xdpsim accepts it", what, kv.Insn, kv.Message)
			case !kv.Accepted && ve.PC != kv.Insn:
				t.Errorf("%s: the kernel refuses it at %d (%s), xdpsim at %d (%s)", what, kv.Insn, kv.Message, ve.PC, ve.Msg)
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
	return tl
}

// log prints the figures of both verifiers side by side and the totals.
func (tl tally) log(t *testing.T) {
	t.Helper()
	t.Log("xdpsim / the kernel:")
	for _, f := range tl.figures {
		t.Log(f)
	}
	t.Logf("%d programs compared with the kernel (%d accepted by both), %d loaded unverified; over the accepted ones xdpsim processed %d instructions (the kernel %d) and kept %d states (the kernel %d)",
		tl.compared, tl.accepted, tl.unverified, tl.ourProcessed, tl.kernelProcessed, tl.ourStates, tl.kernelStates)
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
