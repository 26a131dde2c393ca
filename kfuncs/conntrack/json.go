package conntrack

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Record is an entry as users preload and dump it, in JSON:
//
//	{"proto": "tcp",
//	 "orig":  {"src": "192.0.2.1", "sport": 40000, "dst": "198.51.100.7", "dport": 80},
//	 "reply": {"src": "198.51.100.7", "sport": 80, "dst": "192.0.2.1", "dport": 40000},
//	 "status": "SEEN_REPLY|ASSURED|CONFIRMED", "timeout": 431999.996, "mark": 7, "zone": 0}
//
// Reply defaults to the reverse of Orig; Status takes the names of enum ip_conntrack_status
// without IPS_ joined by "|", or a number, and a preloaded entry is CONFIRMED whatever it says;
// Timeout is in seconds: how long the entry has to live from the first packet on (a preload,
// which needs one) or from the end of the run (a dump). ZoneDir is the zone's directions (1
// original, 2 reply, 3 both; a zone id without one applies both ways).
type Record struct {
	Proto   string     `json:"proto"`
	Orig    Endpoints  `json:"orig"`
	Reply   *Endpoints `json:"reply,omitempty"`
	Status  Status     `json:"status"`
	Timeout float64    `json:"timeout"`
	Mark    uint32     `json:"mark,omitempty"`
	Zone    uint16     `json:"zone,omitempty"`
	ZoneDir uint8      `json:"zone_dir,omitempty"`
}

// Endpoints are one tuple's addresses and ports.
type Endpoints struct {
	Src   string `json:"src"`
	Sport uint16 `json:"sport"`
	Dst   string `json:"dst"`
	Dport uint16 `json:"dport"`
}

// Status is ct->status in JSON: its flags' names.
type Status uint64

var statusNames = []string{"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT", "DST_NAT",
	"SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING", "FIXED_TIMEOUT", "TEMPLATE", "UNTRACKED",
	"HELPER", "OFFLOAD", "HW_OFFLOAD"}

func (s Status) String() string {
	var names []string
	for i, n := range statusNames {
		if s&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := s &^ (1<<len(statusNames) - 1); rest != 0 || len(names) == 0 {
		names = append(names, fmt.Sprintf("%#x", uint64(rest)))
	}
	return strings.Join(names, "|")
}

// MarshalJSON writes the flags' names.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads names joined by "|" (with or without IPS_), or a number.
func (s *Status) UnmarshalJSON(b []byte) error {
	var n uint64
	if err := json.Unmarshal(b, &n); err == nil {
		*s = Status(n)
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("status: want flag names joined by | or a number, got %s", b)
	}
	v, err := ParseStatus(str)
	*s = v
	return err
}

// ParseStatus reads flag names joined by "|" ("SEEN_REPLY|ASSURED"), numbers among them.
func ParseStatus(str string) (Status, error) {
	var s Status
	for _, part := range strings.Split(str, "|") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "IPS_")
		if part == "" || part == "0x0" || part == "0" {
			continue
		}
		if v, err := strconv.ParseUint(part, 0, 64); err == nil {
			s |= Status(v)
			continue
		}
		found := false
		for i, n := range statusNames {
			if strings.EqualFold(part, n) {
				s |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("status %q: unknown flag %q (known: %s)", str, part, strings.Join(statusNames, ", "))
		}
	}
	return s, nil
}

// Record is the entry as a dump shows it, its timeout counted from the table's clock.
func (e *Entry) Record() Record {
	r := Record{Proto: protoName(e.tuple[0].Proto), Orig: endpoints(e.tuple[0]), Status: Status(e.Status()),
		Mark: e.Mark(), Zone: e.zone.ID}
	if e.tuple[1] != e.tuple[0].Reverse() {
		rep := endpoints(e.tuple[1])
		r.Reply = &rep
	}
	if e.zone.ID != 0 && e.zone.Dir != DefaultZoneDir {
		r.ZoneDir = e.zone.Dir
	}
	left := int64(int32(e.Timeout() - e.t.now))
	if e.pending {
		left = int64(e.Timeout())
	}
	r.Timeout = float64(left) / float64(e.t.hz)
	return r
}

func endpoints(t Tuple) Endpoints {
	return Endpoints{Src: t.Src.String(), Sport: t.SrcPort, Dst: t.Dst.String(), Dport: t.DstPort}
}

// Dump is the live entries as records.
func (t *Table) Dump() []Record {
	out := []Record{}
	for _, e := range t.Live() {
		out = append(out, e.Record())
	}
	return out
}

// Preload adds entries as records describe them: confirmed, with their timeouts starting at the
// first run (or now, once the table has a clock). It fails, adding none, on a record it cannot
// use, naming it.
func (t *Table) Preload(recs []Record) error {
	var add []*Entry
	for i, r := range recs {
		e, err := t.entryOf(r)
		if err != nil {
			return fmt.Errorf("conntrack entry %d: %w", i, err)
		}
		for _, o := range add {
			if o.zone.ID == e.zone.ID && (o.tuple[0] == e.tuple[0] || o.tuple[1] == e.tuple[1] || o.tuple[0] == e.tuple[1] || o.tuple[1] == e.tuple[0]) {
				return fmt.Errorf("conntrack entry %d: %s is already in entry of %s", i, e.tuple[0], o.tuple[0])
			}
		}
		add = append(add, e)
	}
	for _, e := range add {
		if !t.Insert(e) {
			return fmt.Errorf("conntrack: %s clashes with an entry already in the table", e.tuple[0])
		}
	}
	return nil
}

func (t *Table) entryOf(r Record) (*Entry, error) {
	var proto uint8
	switch strings.ToLower(r.Proto) {
	case "tcp", "6":
		proto = TCP
	case "udp", "17":
		proto = UDP
	default:
		return nil, fmt.Errorf("proto %q: the conntrack kfuncs know tcp and udp", r.Proto)
	}
	orig, err := tupleOf(r.Orig, proto)
	if err != nil {
		return nil, fmt.Errorf("orig: %w", err)
	}
	reply := orig.Reverse()
	if r.Reply != nil {
		if reply, err = tupleOf(*r.Reply, proto); err != nil {
			return nil, fmt.Errorf("reply: %w", err)
		}
		if reply.Src.Is4() != orig.Src.Is4() {
			return nil, fmt.Errorf("reply: %s and %s are of different families", reply, orig)
		}
	}
	if !(r.Timeout > 0) || math.IsInf(r.Timeout, 0) || r.Timeout > 0x7fffffff/float64(t.hz) {
		return nil, fmt.Errorf("timeout %v: want the seconds the entry has to live (more than 0)", r.Timeout)
	}
	z := Zone{ID: r.Zone, Dir: r.ZoneDir}
	if z.ID != 0 && z.Dir == 0 {
		z.Dir = DefaultZoneDir
	}
	e, err := t.Alloc(orig, reply, z, uint32(math.Round(r.Timeout*float64(t.hz))))
	if err != nil {
		return nil, err
	}
	e.setStatus(uint64(r.Status) | Confirmed)
	le := e.image[t.layout.Mark:]
	le[0], le[1], le[2], le[3] = byte(r.Mark), byte(r.Mark>>8), byte(r.Mark>>16), byte(r.Mark>>24)
	return e, nil
}

func tupleOf(p Endpoints, proto uint8) (Tuple, error) {
	src, err := netip.ParseAddr(p.Src)
	if err != nil {
		return Tuple{}, fmt.Errorf("src %q is not an address", p.Src)
	}
	dst, err := netip.ParseAddr(p.Dst)
	if err != nil {
		return Tuple{}, fmt.Errorf("dst %q is not an address", p.Dst)
	}
	src, dst = src.Unmap(), dst.Unmap()
	if src.Is4() != dst.Is4() {
		return Tuple{}, fmt.Errorf("src %s and dst %s are of different families", src, dst)
	}
	return Tuple{Src: src, Dst: dst, SrcPort: p.Sport, DstPort: p.Dport, Proto: proto}, nil
}
