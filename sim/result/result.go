// Package result holds the types both sides of xdpsim produce: the simulator (package sim) and the real
// kernel (package kernel). Comparing the two, and writing either as JSON, goes through these types only,
// so that neither side needs to know the other's internals.
package result

import (
	"encoding/hex"
	"encoding/json"
)

// XDP actions as the kernel numbers them.
const (
	XDPAborted  = 0
	XDPDrop     = 1
	XDPPass     = 2
	XDPTX       = 3
	XDPRedirect = 4
)

// VerdictName names a raw XDP return value the way the kernel treats it: values above XDP_REDIRECT
// are illegal actions, which drivers and BPF_PROG_TEST_RUN handle as an abort.
func VerdictName(ret uint32) string {
	switch ret {
	case XDPAborted:
		return "XDP_ABORTED"
	case XDPDrop:
		return "XDP_DROP"
	case XDPPass:
		return "XDP_PASS"
	case XDPTX:
		return "XDP_TX"
	case XDPRedirect:
		return "XDP_REDIRECT"
	}
	return "XDP_ABORTED"
}

// Packet is the outcome of running one packet through an XDP program.
type Packet struct {
	// Index counts packets from 1 across all input traces.
	Index int
	// Err is set when the packet could not be run at all (the kernel refuses it, or the program
	// faulted); Ret, Data and Meta are then meaningless.
	Err string
	// Ret is the program's raw 32-bit return value.
	Ret uint32
	// Data holds the bytes from data to data_end after the run, followed by any fragments.
	Data []byte
	// Meta holds the bytes from data_meta to data after the run.
	Meta []byte
}

// MapEntry is one key of a map dump. Per-CPU maps fill Values (one per CPU) instead of Value.
type MapEntry struct {
	Key    string   `json:"key"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Maps is a dump of map contents keyed by map name; each list is sorted by key hex.
type Maps map[string][]MapEntry

// Hex is the lowercase hex encoding every xdpsim output uses for bytes.
func Hex(b []byte) string { return hex.EncodeToString(b) }

// MarshalJSON writes the packet's fixed leading keys in the documented order.
func (p Packet) MarshalJSON() ([]byte, error) {
	if p.Err != "" {
		return json.Marshal(struct {
			Packet int    `json:"packet"`
			Error  string `json:"error"`
		}{p.Index, p.Err})
	}
	return json.Marshal(struct {
		Packet  int    `json:"packet"`
		Ret     uint32 `json:"ret"`
		Verdict string `json:"verdict"`
		Data    string `json:"data"`
		Meta    string `json:"meta"`
	}{p.Index, p.Ret, VerdictName(p.Ret), Hex(p.Data), Hex(p.Meta)})
}
