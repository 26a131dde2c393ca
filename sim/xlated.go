package sim

import (
	"fmt"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// The xlated program: what the kernel runs after its verifier rewrote the program's context
// accesses. An XDP program reads 32-bit fields of struct xdp_md, which the kernel rewrites into
// loads of struct xdp_buff and the structures behind it; a tc program reads and writes struct
// __sk_buff, which becomes accesses of struct sk_buff, with a prologue in front when it writes
// packet data directly. The rules and the rewrites are the verifier's (package verifier holds
// every program type's rules): the simulator's machine serves context accesses through region
// hooks and does not need the rewrite; `xdpsim dump --xlated` prints it.

// Xlated is the program after context rewriting, with, for every slot of it, the slot of the
// loaded program it comes from (so that line info and names follow the instructions). A program
// loaded without verification is verified now; a rejection is a *verifier.Error.
func (p *Program) Xlated() (insns []vm.Instruction, origin []int, err error) {
	if p.vprog == nil || !verifier.Supported(p.Type) {
		return nil, nil, fmt.Errorf("program %s: the verifier has no rules for program type %s", p.Name, p.Type)
	}
	if unchecked := p.uncheckedKfuncs(); len(unchecked) > 0 {
		return nil, nil, fmt.Errorf("program %s: %w", p.Name, errUncheckedKfuncs(unchecked))
	}
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
	if unchecked := p.uncheckedKfuncs(); len(unchecked) > 0 {
		return nil, errUncheckedKfuncs(unchecked)
	}
	return verifier.Verify(p.vprog, opts)
}

// VerifierInput is a copy of what the verifier checks for this program (instructions, maps,
// kfuncs, BTF functions and lines), for callers that verify it under other conditions: a
// program that is not bound to a device, another log level.
func (p *Program) VerifierInput() *verifier.Program {
	c := *p.vprog
	return &c
}

// VerifierInput links the program of function name as the kernel would load it and returns what
// the verifier checks, without preparing it for the machine: a program can be verified even
// when it calls helpers the simulator does not provide, or holds instructions the machine
// refuses.
func (o *Object) VerifierInput(name string) (*verifier.Program, error) {
	ps, ok := o.Spec.Programs[name]
	if !ok {
		return nil, &LoadError{Path: o.Path, Err: fmt.Errorf("no program named %q", name)}
	}
	p, _, _, err := o.link(ps)
	if err == nil && len(p.missingKfuncs) > 0 {
		err = &MissingError{Type: p.Type, Calls: p.missingKfuncs}
	}
	if err == nil {
		if unchecked := p.uncheckedKfuncs(); len(unchecked) > 0 {
			err = errUncheckedKfuncs(unchecked)
		}
	}
	if err != nil {
		return nil, &LoadError{Path: o.Path, What: fmt.Sprintf("program %s (section %s)", ps.Name, ps.SectionName), Err: err}
	}
	return p.VerifierInput(), nil
}
