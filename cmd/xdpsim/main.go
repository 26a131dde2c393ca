// Command xdpsim runs clang-built XDP programs over pcap traces with the Linux kernel's semantics, in
// an embedded eBPF machine: no root, no kernel.
//
//	xdpsim run PROG.o TRACE.pcap...   run a program over traces
//	xdpsim diff PROG.o TRACE.pcap     compare the simulator with the real kernel
//	xdpsim test [EXPECT.json...]      check a program against its expectation files
//	xdpsim dump PROG.o                list programs, maps, variables; print instructions
//	xdpsim verify PROG.o              check programs as the kernel's verifier does
//	xdpsim exec [--program HEX] MEM   the conformance plugin protocol
//	xdpsim show PROG.o TRACE --packet N  draw a packet's frame before and after the run
//	xdpsim debug PROG.o TRACE.pcap    a step debugger
//	xdpsim devices                    list the simulated device profiles
//	xdpsim dev get|set DEV ATTR       read and change a simulated device's attributes
//	xdpsim status PROG.o PROG.o...    how libxdp's dispatcher would attach several programs
//
// Exit status, the same for every command: 0 success; 1 the check said no (diff found a
// divergence, a test failed, --fail-on matched, the verifier rejected the program); 2 bad usage or
// unusable input (the message names the file and, for a trace, the record); 3 the real kernel was
// asked for and cannot be used.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/verifier"
)

// Exit codes, the same for every command.
const (
	exitOK       = 0
	exitFailed   = 1 // the check said no: divergence, failed test, --fail-on, verifier rejection
	exitUsage    = 2 // bad usage or unusable input or output
	exitNoKernel = 3 // the real kernel was asked for and cannot be used
)

// exitError carries a process exit code through returns; a nil err prints nothing.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr and failed wrap errors with their exit codes.
func usageErr(err error) error { return &exitError{exitUsage, err} }

const usage = `usage: xdpsim COMMAND [flags] ARGS

commands:
  run PROG.o TRACE.pcap...   run an XDP or tc program over pcap/pcapng traces
  run PROG.o... -- TRACE...  run several, attached through libxdp's dispatcher
  diff PROG.o TRACE.pcap...  run it in the simulator and the real kernel and compare
  test [EXPECT.json...]      check programs against expectation files (default: *.expect.json here)
  dump PROG.o [-p NAME]      list programs, maps and variables; print instructions (--xlated)
  verify PROG.o [-p NAME]    check programs as the kernel's verifier does (--log-level 1|2, --json)
  show PROG.o TRACE.pcap --packet N  draw packet N's frame before and after the program (--html FILE)
  debug PROG.o TRACE.pcap    step through the program packet by packet (help inside lists the commands)
  devices [--json]           list the simulated NIC profiles and the RX-metadata hints each supplies
  dev list|get|set|btf       the simulated devices' attributes, by member name (the control map proposal)
  status PROG.o [PROG.o...]  how libxdp's dispatcher attaches several programs to one interface (--add, --fixed-slots)
  exec [--program HEX] MEM   run raw instructions (the bpf_conformance plugin protocol)
  version                    print xdpsim's version
  help [COMMAND]             this text, or a command's flags

Run "xdpsim COMMAND --help" (or "xdpsim help COMMAND") for a command's flags.

Exit status: 0 success; 1 the check said no (a divergence, a failed test, --fail-on, a verifier
rejection); 2 bad usage or unusable input; 3 the real kernel was asked for and cannot be used.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	args = pluginArgs(args)
	var err error
	switch args[0] {
	case "exec":
		err = cmdExec(args[1:], stdin, stdout)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "diff":
		err = cmdDiff(args[1:], stdout, stderr)
	case "test":
		err = cmdTest(args[1:], stdout, stderr)
	case "dump":
		err = cmdDump(args[1:], stdout, stderr)
	case "verify":
		err = cmdVerify(args[1:], stdout, stderr)
	case "devices":
		err = cmdDevices(args[1:], stdout)
	case "dev":
		err = cmdDev(args[1:], stdout)
	case "status":
		err = cmdStatus(args[1:], stdout, stderr)
	case "show":
		err = cmdShow(args[1:], stdout, stderr)
	case "debug":
		err = cmdDebug(args[1:], stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "xdpsim %s\n", version())
		return exitOK
	case "help", "-h", "--help":
		if len(args) == 2 && args[0] == "help" && args[1] != "help" && !strings.HasPrefix(args[1], "-") {
			return run([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "xdpsim: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return code
	}
	fmt.Fprintf(stderr, "xdpsim %s: %v\n", args[0], err)
	return code
}

// exitCode is the exit status for an error: its own, 3 when the kernel cannot be used, 2 for
// anything else (an input, output or usage problem).
func exitCode(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, kernel.ErrNoKernel):
		return exitNoKernel
	case errors.As(err, new(*verifier.Error)):
		return exitFailed
	}
	return exitUsage
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+modified"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev + dirty + ")"
	}
	return v + " " + bi.GoVersion
}

// newFlagSet makes a command's flag set: --help prints the usage line and the flags on stdout.
func newFlagSet(name, synopsis string, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "usage: xdpsim %s %s\n%s", name, synopsis, fs.FlagUsages())
	}
	return fs
}

// errHelp is returned by parseFlags after --help printed the usage: the command ends with 0.
var errHelp = errors.New("help printed")

// parseFlags parses args; a parse error is a usage error (2), --help is errHelp.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelp
		}
		return usageErr(fmt.Errorf("%w (see xdpsim %s --help)", err, fs.Name()))
	}
	return nil
}
