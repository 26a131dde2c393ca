package xdptest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/expect"
	"github.com/xdpsim/xdpsim/sim/result"
)

// Check is an invariant every input must keep: it gets the input and what the program made of it
// and returns an error that says what is wrong, or nil. Checks do not see inputs the kernel refuses
// to run (out.Err is set and the program did not run), except NoFault, which sees faults.
type Check func(in Input, out sim.Outcome) error

// DefaultChecks are the checks Load installs unless WithChecks replaces them.
var DefaultChecks = []Check{NoFault, NoException, WellFormed}

// NoFault fails an input the program faulted on: a bad memory access, a runaway loop (out of
// budget), a helper the simulator refused.
func NoFault(in Input, out sim.Outcome) error {
	if out.Fault != nil {
		return fmt.Errorf("the program faulted: %v", out.Fault)
	}
	return nil
}

// NoAborted fails an input the program returned XDP_ABORTED for.
func NoAborted(in Input, out sim.Outcome) error {
	if ran(out) && out.Ret == 0 {
		return errors.New("the program returned XDP_ABORTED")
	}
	return nil
}

// NoException fails an input that makes the kernel report an XDP exception (the xdp_exception
// tracepoint): XDP_ABORTED, a return value that is no XDP action, XDP_REDIRECT without a target,
// or a program attached to a devmap or cpumap entry that did not pass the frame on.
func NoException(in Input, out sim.Outcome) error {
	if ran(out) && out.Exception != "" {
		return fmt.Errorf("xdp_exception: %s", out.Exception)
	}
	return nil
}

// LengthBetween fails an input whose frame leaves the program (passed, sent back or redirected)
// shorter than min or longer than max bytes.
func LengthBetween(min, max int) Check {
	return func(in Input, out sim.Outcome) error {
		if !leaves(out) {
			return nil
		}
		if n := len(out.Data); n < min || n > max {
			return fmt.Errorf("the %s frame is %d bytes, not within %d..%d", result.VerdictName(out.Ret), n, min, max)
		}
		return nil
	}
}

// WellFormed fails an input that was a well-formed packet where the frame the program passes,
// sends back or redirects is not one: if the input's IPv4 header (after at most two VLAN tags) is
// whole and its IPv4, ICMP, UDP and TCP checksums are right (or it is no IP), the output's must be
// too (expect.Checksums checks them, as xdpsim test's "checksums" field does). A program that
// rewrites addresses or ports and forgets a checksum fails it; a program that forwards garbage it
// was given does not.
func WellFormed(in Input, out sim.Outcome) error {
	if !leaves(out) {
		return nil
	}
	if len(out.Data) < sim.ETHHdrLen {
		return fmt.Errorf("the %s frame is %d bytes, shorter than an Ethernet header", result.VerdictName(out.Ret), len(out.Data))
	}
	if bytes.Equal(out.Data, in.Packet) {
		return nil // what came in goes out: as well formed as it was
	}
	bad := expect.Checksums(out.Data)
	if bad == nil || len(in.Packet) < sim.ETHHdrLen || expect.Checksums(in.Packet) != nil {
		return nil // well formed; or the input was not well formed either
	}
	return fmt.Errorf("the %s frame is malformed: %s", result.VerdictName(out.Ret), strings.Join(bad, "; "))
}

func ran(out sim.Outcome) bool { return out.Err == "" }

// leaves reports whether the frame leaves the program: XDP_PASS, XDP_TX or XDP_REDIRECT.
func leaves(out sim.Outcome) bool { return ran(out) && out.Ret >= 2 && out.Ret <= 4 }
