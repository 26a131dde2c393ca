package sim_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/xdpsim/xdpsim/sim/replay"

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
	files, err := filepath.Glob(filepath.Join(corpus.Dir(), "golden", "*.mixed.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in corpus/golden: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		name = name[:len(name)-len(".mixed.txt")]
		for _, cpu := range corpus.CPUs {
			for _, e := range vm.Engines() {
				t.Run(name+"."+cpu+"/"+e.Name(), func(t *testing.T) { goldenRun(t, file, name, cpu, e) })
			}
		}
	}
}

// goldenRun runs one program on engine e over the mixed trace and compares every packet with the
// golden file.
func goldenRun(t *testing.T, file, name, cpu string, e vm.Engine) {
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
	// The packets go through the replay loop, as xdpsim run sends them.
	g := &goldenSink{t: t, file: file, sc: bufio.NewScanner(f)}
	l := &replay.Loop{Target: replay.Sim{X: x}, Sinks: []replay.Sink{g}}
	if err := l.Run(corpus.TracePath("mixed.pcap")); err != nil {
		t.Fatal(err)
	}
	if g.sc.Scan() {
		t.Errorf("%s holds more lines than the trace has packets", file)
	}
	mismatches := g.mismatches
	if mismatches > 5 {
		t.Errorf("... %d packets differ in all", mismatches)
	}
}

// goldenSink compares each packet's golden line with the next line of a golden file.
type goldenSink struct {
	t          *testing.T
	file       string
	sc         *bufio.Scanner
	mismatches int
}

func (g *goldenSink) Packet(p *replay.Packet) error {
	if !g.sc.Scan() {
		g.t.Fatalf("%s ends at packet %d", g.file, p.N-1)
	}
	if got, want := result.GoldenLine(p.Outcome.Packet), g.sc.Text(); got != want {
		g.mismatches++
		if g.mismatches <= 5 {
			g.t.Errorf("packet %d: simulator %q, kernel %q", p.N, got, want)
		}
	}
	return nil
}
