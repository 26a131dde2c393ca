package sim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
)

// MissingError is the load error of a program that calls helpers or kfuncs the simulator does not
// provide for its type: it names every one of them at once, each with its helper number and the
// instruction and source line of its first call, so that one load says all that is missing.
// errors.Is matches kfuncs.ErrUnknownKfunc and kfuncs.ErrFeatureOff through it when a kfunc is
// unknown or behind a feature switch that is off.
type MissingError struct {
	// Type is the program's type; Calls are the missing callees in the order of their first call.
	Type  ebpf.ProgramType
	Calls []MissingCall
}

// MissingCall is one helper or kfunc a program calls that the simulator does not provide.
type MissingCall struct {
	// Name is the helper's C name ("bpf_skb_vlan_push"), or the kfunc's.
	Name string
	// Helper is the helper's number, or -1 for a kfunc.
	Helper int32
	// Insn is the raw instruction slot of the first call, Line its source line ("" when unknown).
	Insn int
	Line string
	// Err is, for a kfunc, why it did not resolve (wrapping kfuncs.ErrUnknownKfunc, or a
	// *kfuncs.FeatureError).
	Err error
}

func (c MissingCall) String() string {
	var b strings.Builder
	if c.Helper >= 0 {
		name := c.Name
		if name == "" {
			name = "unknown helper"
		}
		fmt.Fprintf(&b, "%s (#%d)", name, c.Helper)
	} else {
		fmt.Fprintf(&b, "kfunc %s", c.Name)
	}
	fmt.Fprintf(&b, " at instruction %d%s", c.Insn, lineSuffix(c.Line))
	return b.String()
}

func (e *MissingError) Error() string {
	var helpers, kfns int
	for _, c := range e.Calls {
		if c.Helper >= 0 {
			helpers++
		} else {
			kfns++
		}
	}
	what := "helpers"
	switch {
	case helpers > 0 && kfns > 0:
		what = "helpers and kfuncs"
	case kfns > 0:
		what = "kfuncs"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "calls %d %s the simulator does not provide for %s programs (see README, \"Helpers and kfuncs\"):",
		len(e.Calls), what, typeWord(e.Type))
	for _, c := range e.Calls {
		b.WriteString("\n  " + c.String())
		if fe := featureNote(c.Err); fe != "" {
			b.WriteString(": " + fe)
		}
	}
	return b.String()
}

// featureNote is what a kfunc's lookup error adds to its entry: the feature switch to turn on.
func featureNote(err error) string {
	if err == nil || !strings.Contains(err.Error(), "--feature") {
		return ""
	}
	return err.Error()
}

// Unwrap gives the kfuncs' lookup errors, so that errors.Is finds kfuncs.ErrUnknownKfunc and
// kfuncs.ErrFeatureOff.
func (e *MissingError) Unwrap() []error {
	var out []error
	for _, c := range e.Calls {
		if c.Err != nil {
			out = append(out, c.Err)
		}
	}
	return out
}

// sortCalls orders missing callees by their first call.
func sortCalls(calls []MissingCall) {
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].Insn < calls[j].Insn })
}
