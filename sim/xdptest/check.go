package xdptest

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/xdpsim/xdpsim/sim"
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
// sends back or redirects is not one: from an input whose IPv4 or IPv6 header (after at most two
// VLAN tags) is whole and consistent (version, header length, total or payload length within the
// frame, IPv4 header checksum) and whose UDP or TCP checksum is right, the output must have the
// same properties at whatever IPv4 or IPv6 header it carries. A program that rewrites addresses or
// ports and forgets a checksum fails it; a program that forwards garbage it was given does not.
func WellFormed(in Input, out sim.Outcome) error {
	if !leaves(out) {
		return nil
	}
	if len(out.Data) < sim.ETHHdrLen {
		return fmt.Errorf("the %s frame is %d bytes, shorter than an Ethernet header", result.VerdictName(out.Ret), len(out.Data))
	}
	if err := checkFrame(in.Packet); err != nil {
		return nil // the input was not well formed either
	}
	if err := checkFrame(out.Data); err != nil {
		return fmt.Errorf("the %s frame is malformed: %v", result.VerdictName(out.Ret), err)
	}
	return nil
}

func ran(out sim.Outcome) bool { return out.Err == "" }

// leaves reports whether the frame leaves the program: XDP_PASS, XDP_TX or XDP_REDIRECT.
func leaves(out sim.Outcome) bool { return ran(out) && out.Ret >= 2 && out.Ret <= 4 }

// checkFrame checks the IP header and the UDP or TCP checksum of an Ethernet frame, if it has
// them; other frames pass.
func checkFrame(f []byte) error {
	if len(f) < sim.ETHHdrLen {
		return fmt.Errorf("%d bytes, shorter than an Ethernet header", len(f))
	}
	off := 12
	etype := binary.BigEndian.Uint16(f[off:])
	for tags := 0; (etype == 0x8100 || etype == 0x88a8) && tags < 2; tags++ {
		off += 4
		if len(f) < off+2 {
			return fmt.Errorf("a VLAN tag runs past the end of the frame")
		}
		etype = binary.BigEndian.Uint16(f[off:])
	}
	l3 := f[off+2:]
	switch etype {
	case 0x0800:
		return checkIPv4(l3)
	case 0x86dd:
		return checkIPv6(l3)
	}
	return nil
}

func checkIPv4(b []byte) error {
	if len(b) < 20 {
		return fmt.Errorf("IPv4 header: %d bytes, shorter than 20", len(b))
	}
	if b[0]>>4 != 4 {
		return fmt.Errorf("IPv4 header: version %d", b[0]>>4)
	}
	ihl := int(b[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case ihl < 20:
		return fmt.Errorf("IPv4 header: header length %d, below 20", ihl)
	case ihl > len(b):
		return fmt.Errorf("IPv4 header: header length %d runs past the frame (%d bytes)", ihl, len(b))
	case total < ihl || total > len(b):
		return fmt.Errorf("IPv4 header: total length %d, but the header is %d bytes and the frame holds %d", total, ihl, len(b))
	case checksum(0, b[:ihl]) != 0xffff:
		return fmt.Errorf("IPv4 header: bad header checksum %#04x", binary.BigEndian.Uint16(b[10:]))
	}
	if frag := binary.BigEndian.Uint16(b[6:]); frag&0x3fff != 0 {
		return nil // a fragment: its L4 checksum covers the whole datagram
	}
	return checkL4(b[9], b[ihl:total], checksum(0, b[12:20]), false)
}

func checkIPv6(b []byte) error {
	if len(b) < 40 {
		return fmt.Errorf("IPv6 header: %d bytes, shorter than 40", len(b))
	}
	if b[0]>>4 != 6 {
		return fmt.Errorf("IPv6 header: version %d", b[0]>>4)
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if 40+plen > len(b) {
		return fmt.Errorf("IPv6 header: payload length %d runs past the frame (%d bytes after the header)", plen, len(b)-40)
	}
	next := b[6]
	if next != 6 && next != 17 {
		return nil // extension headers: not followed
	}
	return checkL4(next, b[40:40+plen], checksum(0, b[8:40]), true)
}

// checkL4 checks the checksum of a UDP datagram or TCP segment; addrs is the sum of the
// pseudo-header's addresses.
func checkL4(proto byte, seg []byte, addrs uint32, v6 bool) error {
	switch proto {
	case 17:
		if len(seg) < 8 {
			return fmt.Errorf("UDP header: %d bytes, shorter than 8", len(seg))
		}
		ulen := int(binary.BigEndian.Uint16(seg[4:]))
		if ulen < 8 || ulen > len(seg) {
			return fmt.Errorf("UDP header: length %d, but the IP payload is %d bytes", ulen, len(seg))
		}
		if binary.BigEndian.Uint16(seg[6:]) == 0 && !v6 {
			return nil // no checksum
		}
		if checksum(addrs+17+uint32(ulen), seg[:ulen]) != 0xffff {
			return fmt.Errorf("UDP checksum %#04x is wrong", binary.BigEndian.Uint16(seg[6:]))
		}
	case 6:
		if len(seg) < 20 {
			return fmt.Errorf("TCP header: %d bytes, shorter than 20", len(seg))
		}
		if checksum(addrs+6+uint32(len(seg)), seg) != 0xffff {
			return fmt.Errorf("TCP checksum %#04x is wrong", binary.BigEndian.Uint16(seg[16:]))
		}
	}
	return nil
}

// checksum adds b to the one's complement sum sum and folds it to 16 bits.
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum
}
