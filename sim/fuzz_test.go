package sim_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/vm"
)

// FuzzLoad feeds malformed and truncated objects to the loader: every input must end in an error
// or in a run of its only XDP program over one frame, never in a panic or a hang, and every engine
// must run the program to the interpreter's outcome. The seeds are
// the objects of testdata/, which the fuzzer mutates; crashers it found are kept in
// testdata/fuzz/FuzzLoad.
//
// Inputs cilium/ebpf can read go to sim.LoadSpec straight from memory (a file per input would make
// fuzzing crawl); inputs it panics on go to sim.Load through a file, which must turn the panic
// into an error.
func FuzzLoad(f *testing.F) {
	objs, err := filepath.Glob(filepath.Join("testdata", "*.o"))
	if err != nil || len(objs) == 0 {
		f.Fatalf("no seed objects in testdata (%v)", err)
	}
	for _, o := range objs {
		b, err := os.ReadFile(o)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 32<<10 {
			// The load balancer (lb.o, ~100 KiB) makes every mutation and every minimization
			// of a new input take so long that a minute of fuzzing finds nothing; the small
			// objects hold the same kinds of sections.
			continue
		}
		f.Add(b)
		// A truncated copy: ELF readers meet those too.
		f.Add(b[:len(b)*2/3])
	}
	f.Add([]byte{})
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	// CO-RE relocations resolve against a small BTF: the simulator's own kernel BTF is megabytes,
	// which coverage-instrumented parsing takes many seconds over.
	opts := sim.LoadOptions{BTF: writeBTF(f, true)}
	frame := rawFrame(macLB, macClient, 0x0800, 64)
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := readSpec(data)
		var obj *sim.Object
		switch {
		case err == errPanicked:
			path := filepath.Join(t.TempDir(), "fuzz.o")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := sim.Load(path, opts)
			if err == nil {
				t.Fatal("cilium/ebpf panics reading the object, yet sim.Load loaded it")
			}
			return
		case err != nil:
			return
		case tooBigToSimulate(spec):
			t.Skip("the object's maps would take more memory than a fuzzing worker has")
		}
		// The program runs on every engine, each from a fresh load, and every engine must
		// give the interpreter's outcome.
		var want string
		for _, e := range vm.Engines() {
			obj, err = sim.LoadSpec("fuzz.o", spec, opts)
			if err != nil {
				return
			}
			p, err := obj.FindProgram("")
			if err != nil {
				return
			}
			x, err := sim.NewXDP(p)
			if err != nil {
				return
			}
			x.Machine().SetEngine(e)
			// Mutated jumps make loops; a million instructions is plenty for the seeds.
			x.Machine().SetBudget(1 << 20)
			o := x.Run(frame, nil, sim.Conditions{IngressIfindex: 1})
			got := fmt.Sprintf("ret %d data %x meta %x err %q executed %d printk %q", o.Ret, o.Data, o.Meta, o.Err, o.Executed, o.Printk)
			if e == vm.Interpreter {
				want = got
			} else if got != want {
				t.Fatalf("the %s engine disagrees with the interpreter:\n%s\n%s", e.Name(), got, want)
			}
		}
	})
}

var errPanicked = fmt.Errorf("cilium/ebpf panicked reading the object")

// readSpec reads an object as sim.Load does, telling a panic apart from an error.
func readSpec(data []byte) (spec *ebpf.CollectionSpec, err error) {
	defer func() {
		if recover() != nil {
			spec, err = nil, errPanicked
		}
	}()
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
}

// tooBigToSimulate says whether the maps an object declares would preallocate more than 256 MiB:
// a mutated max_entries easily asks for gigabytes, which the simulator (like the kernel) would
// try to allocate.
func tooBigToSimulate(spec *ebpf.CollectionSpec) bool {
	var total uint64
	add := func(m *ebpf.MapSpec) {
		if m != nil {
			total += uint64(m.MaxEntries) * (uint64(m.KeySize) + uint64(m.ValueSize) + 64)
		}
	}
	for _, m := range spec.Maps {
		add(m)
		add(m.InnerMap)
	}
	return total > 256<<20
}
