package vm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

func TestEngineRegistry(t *testing.T) {
	t.Run("every listed engine is found by its name", func(t *testing.T) {
		for _, e := range vm.Engines() {
			got, err := vm.EngineByName(e.Name())
			if err != nil || got != e {
				t.Errorf("EngineByName(%q) = %v, %v; want the engine itself", e.Name(), got, err)
			}
		}
	})
	t.Run("the names are the ones users type", func(t *testing.T) {
		names := strings.Join(vm.EngineNames(), " ")
		for _, want := range []string{"interp", "closures"} {
			if !strings.Contains(" "+names+" ", " "+want+" ") {
				t.Errorf("EngineNames() = %q, missing %q", names, want)
			}
		}
		if vm.Engines()[0] != vm.Interpreter {
			t.Errorf("the first engine is %s, want the reference interpreter first", vm.Engines()[0].Name())
		}
	})
	t.Run("an unknown name is an error that lists the known ones", func(t *testing.T) {
		_, err := vm.EngineByName("turbo")
		if err == nil || !strings.Contains(err.Error(), `"turbo"`) || !strings.Contains(err.Error(), "interp") {
			t.Errorf("EngineByName(turbo) error = %v", err)
		}
	})
	t.Run("a machine made without an engine runs on the default one", func(t *testing.T) {
		if got := vm.NewMachine(nil).Engine(); got != vm.DefaultEngine() {
			t.Errorf("NewMachine(nil).Engine() = %s, want %s", got.Name(), vm.DefaultEngine().Name())
		}
	})
	t.Run("SetEngine changes the engine of the next run", func(t *testing.T) {
		m := vm.NewMachine(vm.Interpreter)
		m.SetEngine(vm.Closures)
		if m.Engine() != vm.Closures {
			t.Errorf("Engine() = %s after SetEngine(closures)", m.Engine().Name())
		}
		m.SetEngine(nil)
		if m.Engine() != vm.DefaultEngine() {
			t.Errorf("Engine() = %s after SetEngine(nil), want the default", m.Engine().Name())
		}
	})
}

// Choosing an engine by the name a user typed, and running a program on it.
func ExampleEngineByName() {
	e, err := vm.EngineByName("closures")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := vm.NewProgram([]vm.Instruction{
		vm.Make(0xb7, 0, 0, 0, 42), // r0 = 42
		vm.Make(0x95, 0, 0, 0, 0),  // exit
	}, vm.ProgramOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := vm.NewMachine(e)
	r0, err := m.Run(p)
	fmt.Println(m.Engine().Name(), r0, err)
	// Output: closures 42 <nil>
}
