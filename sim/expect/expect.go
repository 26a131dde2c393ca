// Package expect reads and checks expectation files: what an XDP program must do with given packets,
// written down next to the program so that CI can hold it to that (xdpsim test).
//
// An expectation file is JSON (NAME.expect.json; JSON because Go reads it without a dependency and
// every CI system and editor knows it). Paths are relative to the file:
//
//	{
//	  "object": "icmp_echo.v4.o",
//	  "flags": ["--set", "reply_ttl=64"],
//	  "tests": [
//	    {
//	      "name": "an echo request is answered in place",
//	      "packets": [{
//	        "fields": {"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"},
//	                   "ipv4": {"src": "10.0.0.2", "dst": "10.0.0.1", "ttl": 9},
//	                   "icmp": {"type": 8, "id": 7, "seq": 1}, "payload": "hex:0001020304050607"},
//	        "expect": {"verdict": "XDP_TX", "checksums": "valid",
//	                   "fields": {"eth.dst": "02:00:00:00:00:02", "ipv4.src": "10.0.0.1", "ipv4.ttl": 64, "icmp.type": 0}}
//	      }],
//	      "maps": {"replies": [{"key": "u32:0", "value": "u64:1"}]}
//	    },
//	    {"name": "the mixed trace", "trace": "traces/mixed.pcap",
//	     "verdicts": {"XDP_PASS": 3830, "XDP_TX": 141, "XDP_DROP": 19, "refused": 10}}
//	  ]
//	}
//
// "flags" are xdpsim run's flags (--set, --prog, --feature, --maps-in, --ifindex, ...), with the same
// meaning; a test may add its own. Every test starts from freshly loaded maps. A test sends either
// hand-written "packets" (each "hex" bytes or "fields", optionally "repeat" times) or a "trace", and
// checks each packet's "expect", the "verdicts" counted over the test, and the "maps" entries after
// it. See Expect, Fields and Entry for what each may say.
package expect

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xdpsim/xdpsim/sim/jsonfile"
)

// File is one expectation file.
type File struct {
	// Path is the file's own path (not in the JSON).
	Path string `json:"-"`
	// Object is the BPF object, relative to the file.
	Object string `json:"object"`
	// Flags are xdpsim run's flags for every test.
	Flags []string `json:"flags,omitempty"`
	Tests []Test   `json:"tests"`
}

// Test is one test: packets in, expectations out.
type Test struct {
	Name string `json:"name"`
	// Flags are run's flags for this test, after the file's.
	Flags []string `json:"flags,omitempty"`
	// Packets are sent in order (state carries over from packet to packet within the test).
	Packets []Packet `json:"packets,omitempty"`
	// Trace is a pcap or pcapng trace (relative to the file) sent instead of Packets.
	Trace string `json:"trace,omitempty"`
	// Verdicts counts the test's packets by verdict (XDP_PASS, ..., refused, fault); verdicts
	// not named must not occur.
	Verdicts map[string]int `json:"verdicts,omitempty"`
	// Maps lists entries the maps must hold after the test (other entries may exist).
	Maps map[string][]Entry `json:"maps,omitempty"`
}

// Packet is a hand-written packet and what the program must do with it.
type Packet struct {
	// Hex is the frame as hex bytes; Fields builds it from header fields instead.
	Hex    string  `json:"hex,omitempty"`
	Fields *Fields `json:"fields,omitempty"`
	// Repeat sends the packet this many times (default once); Expect holds for each.
	Repeat int     `json:"repeat,omitempty"`
	Expect *Expect `json:"expect,omitempty"`
}

// Expect is what one packet's run must produce. Unset fields are not checked.
type Expect struct {
	// Verdict is XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT, refused or fault.
	Verdict string `json:"verdict,omitempty"`
	// Data is the whole output frame as hex; Meta the metadata in front of it.
	Data *string `json:"data,omitempty"`
	Meta *string `json:"meta,omitempty"`
	// Fields are header fields of the output frame by name (see FieldNames): numbers, or
	// strings for addresses.
	Fields map[string]any `json:"fields,omitempty"`
	// Checksums "valid" says every IPv4 header, ICMP, UDP and TCP checksum of the output is
	// right.
	Checksums string `json:"checksums,omitempty"`
	// Redirect is where an XDP_REDIRECT sends the frame.
	Redirect *Redirect `json:"redirect,omitempty"`
	// Length is the output frame's length.
	Length *int `json:"length,omitempty"`
}

// Redirect names a redirect target: an ifindex (bpf_redirect, or a devmap entry's device), or a
// map and key (bpf_redirect_map).
type Redirect struct {
	Ifindex *uint32 `json:"ifindex,omitempty"`
	Map     string  `json:"map,omitempty"`
	Key     *uint32 `json:"key,omitempty"`
}

// Entry is a map entry a test expects. Key and Value are bytes written as hex, or as typed numbers
// separated by spaces: u8:N, u16:N, u32:N, u64:N (little-endian, as the host stores them) and
// be16:N, be32:N (network order), e.g. "u64:1 u64:98" for a struct of two counters. Per-CPU maps
// give Values, one per CPU, or Sum for their sum as a u64. Absent says the key must not be there.
type Entry struct {
	Key    string   `json:"key"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
	Sum    *uint64  `json:"sum,omitempty"`
	Absent bool     `json:"absent,omitempty"`
}

// Load reads an expectation file and checks its shape.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, jsonfile.Explain(b, err))
	}
	f.Path = path
	if f.Object == "" {
		return nil, fmt.Errorf("%s: no \"object\"", path)
	}
	if len(f.Tests) == 0 {
		return nil, fmt.Errorf("%s: no \"tests\"", path)
	}
	for i, t := range f.Tests {
		where := fmt.Sprintf("%s: test %d (%q)", path, i+1, t.Name)
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("%s: test %d has no name", path, i+1)
		case (len(t.Packets) == 0) == (t.Trace == ""):
			return nil, fmt.Errorf("%s: give either packets or a trace", where)
		}
		for j, p := range t.Packets {
			if (p.Hex == "") == (p.Fields == nil) {
				return nil, fmt.Errorf("%s: packet %d: give either hex or fields", where, j+1)
			}
			if _, err := p.Frame(); err != nil {
				return nil, fmt.Errorf("%s: packet %d: %w", where, j+1, err)
			}
		}
		for name, entries := range t.Maps {
			for _, e := range entries {
				if _, err := ParseBytes(e.Key); err != nil {
					return nil, fmt.Errorf("%s: map %s: key %q: %w", where, name, e.Key, err)
				}
			}
		}
	}
	return &f, nil
}

// Resolve makes a path of the file relative to the working directory.
func (f *File) Resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(f.Path), p)
}
