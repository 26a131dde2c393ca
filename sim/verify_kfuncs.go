package sim

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/verifier"
)

// uncheckedKfuncs lists the kfuncs p calls whose calls xdpsim's verifier does not check yet
// (verifier.KfuncChecked): references, kernel objects, dynptrs, iterators, paired sections.
func (p *Program) uncheckedKfuncs() []string {
	var out []string
	for _, name := range p.Kfuncs {
		k, err := kfuncs.Lookup(name, p.obj.opts.Features)
		if err == nil && !verifier.KfuncChecked(k) {
			out = append(out, name)
		}
	}
	return out
}

// UncheckedKfuncsError is why a program loads without verification: it calls kfuncs whose calls
// xdpsim's verifier does not check yet. The simulator still runs such a program.
type UncheckedKfuncsError struct {
	// Kfuncs are the names of the kfuncs.
	Kfuncs []string
}

func (e *UncheckedKfuncsError) Error() string {
	return fmt.Sprintf("xdpsim's verifier does not check calls of %s yet", strings.Join(e.Kfuncs, ", "))
}

// errUncheckedKfuncs is why a program is not verified: its kfuncs.
func errUncheckedKfuncs(names []string) error {
	return &UncheckedKfuncsError{Kfuncs: names}
}
