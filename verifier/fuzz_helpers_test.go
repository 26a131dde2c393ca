package verifier_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

func fmtInsn(i int, in vm.Instruction) string {
	return fmt.Sprintf("%d: %s", i, assembly.FormatKernel([]vm.Instruction{in, {}}, 0, nil))
}
