package sim

import (
	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// Xlated is the program after the verifier's context rewriting (what the kernel runs and
// `bpftool prog dump xlated` shows), with, for every slot of it, the slot of the loaded program
// it comes from (so that line info and names follow the instructions). A program loaded with
// NoVerify is verified now for it; a rejection is the verifier's *verifier.Error.
func (p *Program) Xlated() (insns []vm.Instruction, origin []int, err error) {
	res := p.Verification
	if res == nil {
		if res, err = verifier.Verify(p.vprog, verifier.Options{}); err != nil {
			return nil, nil, err
		}
	}
	return res.Xlated, res.Origin, nil
}

// Verify runs the verifier over the program with opts (for a log at another level, or a program
// loaded with NoVerify). A rejection is a *verifier.Error; the result is there in both cases.
func (p *Program) Verify(opts verifier.Options) (*verifier.Result, error) {
	return verifier.Verify(p.vprog, opts)
}
