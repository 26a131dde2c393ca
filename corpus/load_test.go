package corpus_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/rlimit"

	"github.com/xdpsim/xdpsim/corpus"
)

// requireBPF skips the test, with the reason, where the kernel cannot load XDP programs for us.
func requireBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading into the kernel needs root (CAP_BPF and CAP_NET_ADMIN); running as uid", os.Geteuid())
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skip("cannot lift RLIMIT_MEMLOCK for BPF maps:", err)
	}
	if err := features.HaveProgramType(ebpf.XDP); err != nil {
		t.Skip("this kernel cannot load XDP programs:", err)
	}
}

// loadObject loads every map and program of one object file, as a loader would.
func loadObject(t *testing.T, path string) *ebpf.Collection {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogSizeStart: 1 << 20},
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			t.Fatalf("the kernel refused %s:\n%+v", path, ve)
		}
		t.Fatalf("loading %s: %v", path, err)
	}
	return coll
}

func TestEveryCommittedObjectLoadsIntoTheKernel(t *testing.T) {
	requireBPF(t)
	objs, err := filepath.Glob(filepath.Join(corpus.Dir(), "*.o"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatal("no objects found next to the C sources")
	}
	for _, obj := range objs {
		t.Run(strings.TrimSuffix(filepath.Base(obj), ".o"), func(t *testing.T) {
			name, _, _ := strings.Cut(filepath.Base(obj), ".")
			if p, ok := corpus.Lookup(name); ok && p.Needs != "" {
				t.Skipf("SKIP: %s needs the simulator (%s): the kernel cannot load it as an ordinary XDP program", p.Name, p.Needs)
			}
			coll := loadObject(t, obj)
			defer coll.Close()
			if len(coll.Programs) == 0 {
				t.Errorf("%s holds no program", obj)
			}
		})
	}
}
