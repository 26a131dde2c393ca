package kernel_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/sim/result"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite corpus/golden from the real kernel's results")

// goldenPrograms are the corpus programs whose results over the mixed trace are kept as golden
// files: a parser, a MAC/IP rewriter with checksum fix-up and XDP_TX, a metadata writer and tail
// adjuster, a head adjuster, and devmap and xskmap redirectors.
var goldenPrograms = []string{"eth_stats", "vlan", "udp_echo", "icmp_echo", "meta_tail", "encap", "devmap", "xsk"}

// TestGoldenFilesAreTheKernels checks that every golden file holds exactly what the real kernel
// produces (and with -update-golden writes them from the kernel): the simulator's golden test then
// compares the simulator against the kernel's results even where no kernel is at hand.
func TestGoldenFilesAreTheKernels(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	pkts := readTrace(t, corpus.TracePath("mixed.pcap"))
	for _, name := range goldenPrograms {
		for _, cpu := range corpus.CPUs {
			t.Run(name+"."+cpu, func(t *testing.T) {
				p, ok := corpus.Lookup(name)
				if !ok {
					t.Fatalf("no corpus program %s", name)
				}
				kp, err := kernel.Load(p.Object(cpu), kernel.Options{Program: p.Entry})
				if err != nil {
					t.Fatal(err)
				}
				defer kp.Close()
				var b strings.Builder
				for i, pkt := range pkts {
					r := kp.Run(pkt.data, nil, kernel.Context{IngressIfindex: 1})
					r.Index = i + 1
					b.WriteString(result.GoldenLine(r) + "\n")
				}
				path := filepath.Join(corpus.Dir(), "golden", name+".mixed.txt")
				if *updateGolden {
					if cpu == corpus.CPUs[0] {
						if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if string(want) != b.String() {
					t.Errorf("%s no longer holds the kernel's results: regenerate with go test ./kernel/ -run Golden -update-golden", path)
				}
			})
		}
	}
}
