package kernel_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
)

// TestInstalledXDPToolsProgramsRunAsTheKernelRunsThem sends every corpus trace through the XDP
// programs Debian's xdp-tools and libxdp install (xdp-filter's ten filters, xdpdump's program,
// libxdp's dispatcher and AF_XDP default program: real-world programs, compiled by the
// distribution, that nobody wrote for xdpsim) in the kernel and in the simulator on every
// engine, from fresh (empty) maps, and requires full agreement: return values, output bytes,
// metadata and every map after each trace.
func TestInstalledXDPToolsProgramsRunAsTheKernelRunsThem(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	dir := filepath.Dir(kernel.DispatcherObject)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.o"))
	if len(paths) == 0 {
		t.Skipf("SKIP: no BPF objects in %s: install xdp-tools (apt-get install xdp-tools)", dir)
	}
	traces := map[string][]tracePacket{}
	for _, tr := range corpus.Traces() {
		traces[tr.Name] = readTrace(t, tr.Path())
	}
	var programs, runs, packets int
	for _, path := range paths {
		spec, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var names []string
		for name, ps := range spec.Programs {
			if ps.Type == ebpf.XDP {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			programs++
			for _, tr := range corpus.Traces() {
				t.Run(filepath.Base(path)+"/"+name+"/"+strings.TrimSuffix(tr.Name, filepath.Ext(tr.Name)), func(t *testing.T) {
					divs, n := diffRun(t, path, name, traces[tr.Name])
					runs++
					packets += n
					for i, d := range divs {
						if i == 10 {
							t.Errorf("... and %d more divergences", len(divs)-10)
							break
						}
						t.Error(d)
					}
				})
			}
		}
	}
	t.Logf("%d installed XDP programs x %d traces: %d runs, %d packets on each side", programs, len(corpus.Traces()), runs, packets)
}
