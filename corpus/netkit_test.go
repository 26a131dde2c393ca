package corpus_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/corpus/internal/gentrace"
)

func TestEveryNetkitSetupHasItsFilesAndEveryFileASetup(t *testing.T) {
	listed := map[string]bool{}
	for _, s := range corpus.NetkitSetups() {
		files := []string{s.Topology}
		for _, o := range s.Objects {
			files = append(files, o+".c", o+".o")
		}
		files = append(files, s.Traces...)
		for _, f := range files {
			listed[f] = true
			if _, err := os.Stat(corpus.NetkitPath(f)); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
		}
	}
	entries, err := os.ReadDir(corpus.NetkitPath(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		switch filepath.Ext(n) {
		case ".c", ".o", ".json", ".pcap":
			if !listed[n] {
				t.Errorf("netkit/%s belongs to no setup in corpus.NetkitSetups()", n)
			}
		}
	}
	if n := len(corpus.NetkitSetups()); n < 2 {
		t.Errorf("%d netkit setups, want at least 2", n)
	}
}

func TestTheNetkitTracesAreWhatTheGeneratorWrites(t *testing.T) {
	for _, tr := range gentrace.NetkitTraces() {
		t.Run(tr.Name, func(t *testing.T) {
			want, err := tr.Pcap()
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(corpus.NetkitPath(tr.Name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("netkit/%s differs from what gentrace writes: run go generate ./corpus", tr.Name)
			}
			if len(tr.Why) != len(tr.Frames) || !strings.Contains(strings.Join(tr.Why, ""), " ") {
				t.Errorf("every frame needs its reason")
			}
		})
	}
}
