package sim_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/vm"
)

// TestGoldenResults runs corpus programs over the mixed trace in the simulator and compares each
// packet with the golden files, which hold the real kernel's results (kernel's
// TestGoldenFilesAreTheKernels writes them and checks them against the kernel): this test holds the
// simulator to the kernel on machines without one.
func TestGoldenResults(t *testing.T) {
	pkts := readPcap(t, corpus.TracePath("mixed.pcap"))
	files, err := filepath.Glob(filepath.Join(corpus.Dir(), "golden", "*.mixed.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in corpus/golden: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		name = name[:len(name)-len(".mixed.txt")]
		for _, cpu := range corpus.CPUs {
			for _, e := range vm.Engines() {
				t.Run(name+"."+cpu+"/"+e.Name(), func(t *testing.T) { goldenRun(t, pkts, file, name, cpu, e) })
			}
		}
	}
}

// goldenRun runs one program on engine e over the mixed trace and compares every packet with the
// golden file.
func goldenRun(t *testing.T, pkts [][]byte, file, name, cpu string, e vm.Engine) {
	p, ok := corpus.Lookup(name)
	if !ok {
		t.Fatalf("golden file for unknown program %s", name)
	}
	obj, err := sim.Load(p.Object(cpu), sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := obj.FindProgram(p.Entry)
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(prog)
	if err != nil {
		t.Fatal(err)
	}
	x.Machine().SetEngine(e)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	mismatches := 0
	for i, pkt := range pkts {
		if !sc.Scan() {
			t.Fatalf("%s ends at packet %d of %d", file, i, len(pkts))
		}
		o := x.Run(pkt, nil, sim.Conditions{IngressIfindex: 1})
		o.Index = i + 1
		if got, want := result.GoldenLine(o.Packet), sc.Text(); got != want {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("packet %d: simulator %q, kernel %q", i+1, got, want)
			}
		}
	}
	if mismatches > 5 {
		t.Errorf("... %d packets differ in all", mismatches)
	}
}
