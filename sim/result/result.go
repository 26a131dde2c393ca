// Package result holds the types both sides of xdpsim produce: the simulator (package sim) and the real
// kernel (package kernel). Comparing the two, and writing either as JSON, goes through these types only,
// so that neither side needs to know the other's internals.
package result

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// Program types a Packet can come from.
const (
	// TypeXDP is an XDP program (the zero value).
	TypeXDP = ""
	// TypeTC is a tc program (BPF_PROG_TYPE_SCHED_CLS).
	TypeTC = "tc"
)

// TC return values (include/uapi/linux/pkt_cls.h) by name; tcx's TCX_NEXT, TCX_PASS, TCX_DROP and
// TCX_REDIRECT are -1, 0, 2 and 7.
var tcVerdicts = map[int32]string{
	-1: "TC_ACT_UNSPEC", 0: "TC_ACT_OK", 1: "TC_ACT_RECLASSIFY", 2: "TC_ACT_SHOT", 3: "TC_ACT_PIPE",
	4: "TC_ACT_STOLEN", 5: "TC_ACT_QUEUED", 6: "TC_ACT_REPEAT", 7: "TC_ACT_REDIRECT", 8: "TC_ACT_TRAP",
}

// TCVerdictName names a tc program's return value as pkt_cls.h does ("TC_ACT_OK"), or
// "TC_ACT_UNSPEC (N)" for a value the kernel does not know, which cls_bpf treats as
// TC_ACT_UNSPEC.
func TCVerdictName(ret uint32) string {
	if n, ok := tcVerdicts[int32(ret)]; ok {
		return n
	}
	return fmt.Sprintf("TC_ACT_UNSPEC (%d)", int32(ret))
}

// Packet is the outcome of running one packet through a program: an XDP program, or a tc program
// (Type TypeTC).
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
	// Type is the program's type: TypeXDP or TypeTC.
	Type string
	// Ctx is, for a tc program, the struct __sk_buff BPF_PROG_TEST_RUN gives back (ctx_out);
	// nil when none was passed in.
	Ctx []byte
}

// Verdict names the return value as the program's type does.
func (p Packet) Verdict() string {
	if p.Type == TypeTC {
		return TCVerdictName(p.Ret)
	}
	return VerdictName(p.Ret)
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
	if p.Type == TypeTC {
		return json.Marshal(struct {
			Packet  int    `json:"packet"`
			Type    string `json:"type"`
			Ret     int32  `json:"ret"`
			Verdict string `json:"verdict"`
			Data    string `json:"data"`
			Meta    string `json:"meta"`
			Ctx     string `json:"ctx,omitempty"`
		}{p.Index, p.Type, int32(p.Ret), p.Verdict(), Hex(p.Data), Hex(p.Meta), Hex(p.Ctx)})
	}
	return json.Marshal(struct {
		Packet  int    `json:"packet"`
		Ret     uint32 `json:"ret"`
		Verdict string `json:"verdict"`
		Data    string `json:"data"`
		Meta    string `json:"meta"`
	}{p.Index, p.Ret, VerdictName(p.Ret), Hex(p.Data), Hex(p.Meta)})
}
