// Command xdpsim runs clang-built XDP programs over pcap traces with the Linux kernel's semantics, in
// an embedded eBPF machine: no root, no kernel.
//
//	xdpsim run PROG.o TRACE.pcap...   run a program over traces
//	xdpsim diff PROG.o TRACE.pcap     compare the simulator with the real kernel
//	xdpsim dump PROG.o                list programs, maps, variables; print instructions
//	xdpsim verify PROG.o              check programs as the kernel's verifier does
//	xdpsim exec [--program HEX] MEM   the conformance plugin protocol
//	xdpsim devices                    list the simulated device profiles
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// exitError carries a process exit code through returns.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

const usage = `usage: xdpsim COMMAND [flags] ARGS

commands:
  run PROG.o TRACE.pcap...   run an XDP program over pcap/pcapng traces
  diff PROG.o TRACE.pcap...  run it in the simulator and the real kernel and compare
  dump PROG.o [-p NAME]      list programs, maps and variables; print instructions (--xlated)
  verify PROG.o [-p NAME]    check programs as the kernel's verifier does (--log-level 1|2, --json)
  devices [--json]           list the simulated NIC profiles and the RX-metadata hints each supplies
  exec [--program HEX] MEM   run raw instructions (the bpf_conformance plugin protocol)
  help                       this text

Run "xdpsim COMMAND --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "exec":
		err = cmdExec(args[1:], stdin, stdout)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "diff":
		err = cmdDiff(args[1:], stdout, stderr)
	case "dump":
		err = cmdDump(args[1:], stdout, stderr)
	case "verify":
		err = cmdVerify(args[1:], stdout, stderr)
	case "devices":
		err = cmdDevices(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "xdpsim: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "xdpsim %s: %v\n", args[0], ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "xdpsim %s: %v\n", args[0], err)
	return 1
}
