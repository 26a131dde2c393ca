package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
)

// pluginArgs turns the bpf_conformance runner's calling convention into exec's. The runner starts
// its plugin as "PLUGIN [MEMORY-HEX] [plugin options...]", so "--plugin_path xdpsim --plugin_options
// exec" makes "xdpsim MEMORY-HEX exec": hex memory before the command. Other arguments (no command
// is hex) are returned as they are.
func pluginArgs(args []string) []string {
	if len(args) < 2 || args[1] != "exec" {
		return args
	}
	if _, err := parseHex(args[0]); err != nil {
		return args
	}
	return append(append([]string{"exec"}, args[2:]...), args[0])
}

// cmdExec speaks the bpf_conformance plugin protocol: the program as space-separated hex bytes on
// stdin or after --program, the memory as space-separated hex in the first argument; it prints the
// final r0 in hex, or exits non-zero with the reason on stderr. The upstream runner calls it as
// "xdpsim MEMORY-HEX exec [flags]" (see pluginArgs).
func cmdExec(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("exec", "[--program HEX] [--engine NAME] [MEMORY-HEX]", stdout)
	program := fs.String("program", "", "the program as hex bytes (default: read from standard input)")
	budget := fs.Uint64("budget", 0, "instruction budget (0: the machine's default)")
	engineName := fs.String("engine", vm.DefaultEngine().Name(), "the engine to run on: "+strings.Join(vm.EngineNames(), ", "))
	elf := fs.Bool("elf", false, "the program is an ELF object (not supported: give raw instructions)")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	engine, err := vm.EngineByName(*engineName)
	if err != nil {
		return &exitError{2, fmt.Errorf("--engine: %w", err)}
	}
	if *elf {
		return &exitError{2, errors.New("--elf: ELF programs are not supported here; give the instructions as hex (run the bpf_conformance runner without --elf)")}
	}
	text := *program
	if !fs.Changed("program") {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("reading the program from standard input: %w", err)
		}
		text = string(b)
	}
	code, err := parseHex(text)
	if err != nil {
		return fmt.Errorf("program: %w", err)
	}
	var mem []byte
	if fs.NArg() > 0 {
		if mem, err = parseHex(strings.Join(fs.Args(), " ")); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	insns, err := vm.Decode(code)
	if err != nil {
		return fmt.Errorf("program: %w", err)
	}
	p, err := vm.NewProgram(insns, vm.ProgramOptions{Name: "exec", Helpers: conformanceHelpers()})
	if err != nil {
		return err
	}
	m := vm.NewMachine(engine)
	m.SetBudget(*budget)
	var r1 uint64
	if len(mem) > 0 {
		r1 = vm.Address(m.AddRegion(vm.NewRegion("memory", mem, false)), 0)
	}
	r0, err := m.Run(p, r1, uint64(len(mem)))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%x\n", r0)
	return nil
}

// conformanceHelpers are the helpers of the suite's reference plugins: number 5 returns its argument
// and ends the program when that is 0 (uBPF's unwind helper).
func conformanceHelpers() map[int32]vm.Helper {
	return map[int32]vm.Helper{5: func(m *vm.Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		if r1 == 0 {
			m.Exit(0)
		}
		return r1, nil
	}}
}

// parseHex reads hex bytes separated by white space (or not separated at all).
func parseHex(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	s = strings.TrimPrefix(s, "0x")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex bytes: %w", err)
	}
	return b, nil
}
