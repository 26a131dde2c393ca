package vm

import (
	"fmt"
	"strings"
)

// The engines, by the names users choose them with (xdpsim's --engine flag, EngineByName). Every
// engine gives the interpreter's results in every respect; they differ only in speed.
var engines = []Engine{Interpreter, Closures, JIT}

// Engines lists every engine the machine has, the reference interpreter first: for users to choose
// from and for tests that must run on each.
func Engines() []Engine { return append([]Engine(nil), engines...) }

// EngineNames lists the names of Engines, in the same order.
func EngineNames() []string {
	names := make([]string, len(engines))
	for i, e := range engines {
		names[i] = e.Name()
	}
	return names
}

// EngineByName returns the engine called name ("interp", "closures", ...; see EngineNames). The
// error for an unknown name lists the known ones.
func EngineByName(name string) (Engine, error) {
	for _, e := range engines {
		if e.Name() == name {
			return e, nil
		}
	}
	return nil, fmt.Errorf("unknown engine %q (engines: %s)", name, strings.Join(EngineNames(), ", "))
}

// DefaultEngine is the engine a Machine made with a nil engine runs on: the fastest one that gives
// exactly the interpreter's results.
func DefaultEngine() Engine { return JIT }
