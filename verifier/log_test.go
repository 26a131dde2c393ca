package verifier_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// A program without source lines (no BTF line info: Program.Lines is nil) still gets a log at
// every level, with the instructions and no "; source" lines.
func TestALogWithoutSourceLines(t *testing.T) {
	insns, err := assembly.Assemble("mov %r0, 2\nexit")
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []int{1, 2} {
		res, err := verifier.Verify(&verifier.Program{Name: "p", Insns: insns, Type: ebpf.XDP, GPL: true}, verifier.Options{LogLevel: level})
		if err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		if !strings.Contains(res.Log, "0: (b7) r0 = 2") || strings.Contains(res.Log, "\n; ") {
			t.Errorf("level %d: log\n%s", level, res.Log)
		}
	}
}
