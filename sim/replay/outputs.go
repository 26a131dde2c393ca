package replay

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// PacketJSON is one JSON line of a replay (xdpsim run --jsonl): the fixed keys first, then what
// else the run produced. A packet that did not run has only packet, error, file and record.
type PacketJSON struct {
	Packet int `json:"packet"`
	// Ret is the return value: an XDP action, or for a tc program a signed TC_ACT_* value.
	Ret     *int64  `json:"ret,omitempty"`
	Verdict string  `json:"verdict,omitempty"`
	Data    *string `json:"data,omitempty"`
	Meta    *string `json:"meta,omitempty"`
	Error   string  `json:"error,omitempty"`
	// Ctx is, for a tc program run as BPF_PROG_TEST_RUN runs it, the __sk_buff given back.
	Ctx       *string         `json:"ctx,omitempty"`
	Redirect  *sim.Redirect   `json:"redirect,omitempty"`
	Exception string          `json:"exception,omitempty"`
	Skb       *sim.SkbHandoff `json:"skb,omitempty"`
	// Dispatch lists, for a dispatcher, the slots that ran and what each returned.
	Dispatch []sim.SlotRun             `json:"dispatch,omitempty"`
	Hints    map[string]sim.HintResult `json:"hints,omitempty"`
	Traits   map[string]string         `json:"traits,omitempty"`
	// TC is what tc programs did: at tc ingress after XDP_PASS, or the tc program run alone.
	TC *sim.TCOutcome `json:"tc,omitempty"`
	// End and Path are, in a network, how the packet's way ended and every hop of it; Verdict
	// then says the end in a few words and Data is the packet as the way ended.
	End    *sim.End  `json:"end,omitempty"`
	Path   []sim.Hop `json:"path,omitempty"`
	Printk []string  `json:"printk,omitempty"`
	Insns  uint64    `json:"insns,omitempty"`
	// Snapped is the frame's length on the wire when the capture cut it short.
	Snapped int    `json:"snapped,omitempty"`
	File    string `json:"file"`
	Record  int    `json:"record"`
}

// NewPacketJSON describes a packet as its JSON line.
func NewPacketJSON(p *Packet) PacketJSON {
	o := &p.Outcome
	j := PacketJSON{Packet: p.N, Error: o.Err, Printk: o.Printk, Insns: o.Executed}
	if p.Record != nil {
		j.File, j.Record = p.Record.File, p.Record.Index
		if p.Record.Snapped() {
			j.Snapped = p.Record.OrigLen
		}
	}
	if nw := o.Network; nw != nil {
		j.End, j.Path = &nw.End, nw.Path
		if o.Err == "" {
			d := result.Hex(o.Data)
			j.Verdict, j.Data = nw.End.Summary(), &d
		}
		return j
	}
	if o.Err == "" {
		ret := retValue(&o.Packet)
		d, m := result.Hex(o.Data), result.Hex(o.Meta)
		j.Ret, j.Verdict, j.Data, j.Meta = &ret, o.Packet.Verdict(), &d, &m
		if o.Ctx != nil {
			c := result.Hex(o.Ctx)
			j.Ctx = &c
		}
		j.Redirect, j.Exception, j.Skb = o.Redirect, o.Exception, o.Skb
		if len(o.Traits) > 0 {
			j.Traits = map[string]string{}
			for _, t := range o.Traits {
				j.Traits[strconv.FormatUint(t.Key, 10)] = t.Value
			}
		}
	}
	j.Dispatch = o.Dispatch
	j.Hints = o.Hints
	j.TC = o.TC
	return j
}

// retValue is the return value as the JSON line gives it: tc programs' values are signed
// (TC_ACT_UNSPEC and TCX_NEXT are -1).
func retValue(p *result.Packet) int64 {
	if p.Type == result.TypeTC {
		return int64(int32(p.Ret))
	}
	return int64(p.Ret)
}

// JSONL writes one JSON object per selected packet.
type JSONL struct {
	out *File
	buf []byte
}

// NewJSONL writes JSON lines to path ("-": stdout); see File for how the file is written.
func NewJSONL(path string, stdout io.Writer) (*JSONL, error) {
	f, err := CreateFile(path, stdout)
	if err != nil {
		return nil, fmt.Errorf("--jsonl: %w", err)
	}
	return &JSONL{out: f}, nil
}

func (j *JSONL) Packet(p *Packet) error {
	if !p.Selected {
		return nil
	}
	var err error
	j.buf, err = AppendPacketJSON(j.buf[:0], p)
	if err != nil {
		return err
	}
	_, err = j.out.Write(append(j.buf, '\n'))
	return err
}

func (j *JSONL) Commit() error { return j.out.Commit() }
func (j *JSONL) Abort()        { j.out.Abort() }

// AppendPacketJSON appends the packet's JSON line (without the newline) to b: the bytes
// encoding/json writes for NewPacketJSON(p), written by hand so that the everyday packet allocates
// nothing (redirects, hints, traits and printk lines, which are rarer, go through encoding/json).
func AppendPacketJSON(b []byte, p *Packet) ([]byte, error) {
	o := &p.Outcome
	b = append(b, `{"packet":`...)
	b = strconv.AppendInt(b, int64(p.N), 10)
	if o.Network != nil {
		return appendNetworkJSON(b, p)
	}
	if o.Err == "" {
		b = append(b, `,"ret":`...)
		b = strconv.AppendInt(b, retValue(&o.Packet), 10)
		b = appendJSONString(append(b, `,"verdict":`...), o.Packet.Verdict())
		b = append(b, `,"data":"`...)
		b = hex.AppendEncode(b, o.Data)
		b = append(b, `","meta":"`...)
		b = hex.AppendEncode(b, o.Meta)
		b = append(b, '"')
	} else {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, o.Err)
	}
	if o.Err == "" && o.Ctx != nil {
		b = append(b, `,"ctx":"`...)
		b = hex.AppendEncode(b, o.Ctx)
		b = append(b, '"')
	}
	var err error
	if o.Err == "" {
		if o.Redirect != nil {
			if b, err = appendMarshal(append(b, `,"redirect":`...), o.Redirect); err != nil {
				return b, err
			}
		}
		if o.Exception != "" {
			b = appendJSONString(append(b, `,"exception":`...), o.Exception)
		}
		if sk := o.Skb; sk != nil {
			if sk.Exported != nil {
				if b, err = appendMarshal(append(b, `,"skb":`...), sk); err != nil {
					return b, err
				}
			} else {
				b = append(b, `,"skb":{"len":`...)
				b = strconv.AppendInt(b, int64(sk.Len), 10)
				b = append(b, `,"protocol":`...)
				pb, _ := sk.Protocol.MarshalJSON()
				b = append(b, pb...)
				b = append(b, `,"meta_len":`...)
				b = strconv.AppendInt(b, int64(sk.MetaLen), 10)
				b = append(b, '}')
			}
		}
	}
	if len(o.Dispatch) > 0 {
		b = append(b, `,"dispatch":[`...)
		for i, r := range o.Dispatch {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"slot":`...)
			b = strconv.AppendInt(b, int64(r.Slot), 10)
			b = appendJSONString(append(b, `,"program":`...), r.Program)
			b = append(b, `,"ret":`...)
			b = strconv.AppendUint(b, uint64(r.Ret), 10)
			b = append(b, `,"continued":`...)
			b = strconv.AppendBool(b, r.Continued)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(o.Hints) > 0 {
		if b, err = appendMarshal(append(b, `,"hints":`...), o.Hints); err != nil {
			return b, err
		}
	}
	if o.Err == "" && len(o.Traits) > 0 {
		traits := map[string]string{}
		for _, t := range o.Traits {
			traits[strconv.FormatUint(t.Key, 10)] = t.Value
		}
		if b, err = appendMarshal(append(b, `,"traits":`...), traits); err != nil {
			return b, err
		}
	}
	if o.TC != nil {
		if b, err = appendMarshal(append(b, `,"tc":`...), o.TC); err != nil {
			return b, err
		}
	}
	return appendTail(b, p)
}

// appendTail appends the keys every JSON line ends with: printk, insns, snapped, file, record.
func appendTail(b []byte, p *Packet) ([]byte, error) {
	o := &p.Outcome
	var err error
	if len(o.Printk) > 0 {
		if b, err = appendMarshal(append(b, `,"printk":`...), o.Printk); err != nil {
			return b, err
		}
	}
	if o.Executed != 0 {
		b = append(b, `,"insns":`...)
		b = strconv.AppendUint(b, o.Executed, 10)
	}
	file, record := "", 0
	if r := p.Record; r != nil {
		file, record = r.File, r.Index
		if r.Snapped() {
			b = append(b, `,"snapped":`...)
			b = strconv.AppendInt(b, int64(r.OrigLen), 10)
		}
	}
	b = appendJSONString(append(b, `,"file":`...), file)
	b = append(b, `,"record":`...)
	b = strconv.AppendInt(b, int64(record), 10)
	return append(b, '}'), nil
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	m, err := json.Marshal(v)
	return append(b, m...), err
}

// appendJSONString appends s as a JSON string, escaped as encoding/json escapes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			m, _ := json.Marshal(s)
			return append(b, m...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// MapsOut writes the target's maps after the run as JSON keyed by map name. With Line set the
// dump is one line, {"maps":{...}}, so that it can follow JSON lines on the same stream.
type MapsOut struct {
	Line bool
	// Format, when set, writes the dump instead of the hex JSON (the maps as their BTF types, say);
	// with Line its output is made one line.
	Format func(result.Maps) ([]byte, error)
	out    *File
	dump   []byte
}

// NewMapsOut writes the map dump to path ("-": stdout).
func NewMapsOut(path string, stdout io.Writer) (*MapsOut, error) {
	f, err := CreateFile(path, stdout)
	if err != nil {
		return nil, fmt.Errorf("--maps: %w", err)
	}
	return &MapsOut{out: f}, nil
}

func (m *MapsOut) Packet(*Packet) error { return nil }

func (m *MapsOut) Finish(l *Loop) error {
	dump, err := l.Target.DumpMaps()
	if err != nil {
		return fmt.Errorf("dumping maps: %w", err)
	}
	var b []byte
	switch {
	case m.Format != nil:
		if b, err = m.Format(dump); err != nil {
			return fmt.Errorf("dumping maps: %w", err)
		}
		b = bytes.TrimRight(b, "\n")
		if m.Line {
			var c bytes.Buffer
			if err := json.Compact(&c, b); err != nil {
				return fmt.Errorf("dumping maps: %w", err)
			}
			b = append(append([]byte(`{"maps":`), c.Bytes()...), '}')
		}
	case m.Line:
		b, err = json.Marshal(struct {
			Maps result.Maps `json:"maps"`
		}{dump})
	default:
		b, err = json.MarshalIndent(dump, "", "  ")
	}
	m.dump = append(b, '\n')
	return err
}

// Commit writes the dump, after what earlier sinks wrote to the same stream.
func (m *MapsOut) Commit() error {
	if _, err := m.out.Write(m.dump); err != nil {
		m.out.Abort()
		return err
	}
	return m.out.Commit()
}
func (m *MapsOut) Abort() { m.out.Abort() }

// verdictPcaps are the pcaps every run of an XDP program writes, empty when no packet had that
// verdict, so that a directory never holds an earlier run's file as if it were this run's;
// tcVerdictPcaps those of a tc program run alone.
var (
	verdictPcaps   = []string{"aborted.pcap", "drop.pcap", "pass.pcap", "tx.pcap"}
	tcVerdictPcaps = []string{"drop.pcap", "pass.pcap"}
)

// stalePcap tells whether a pcap in the output directory that this run did not write is an earlier
// run's output: a verdict pcap of either program type, a redirect or a tc- pcap.
func stalePcap(name string) bool {
	switch name {
	case "aborted.pcap", "drop.pcap", "pass.pcap", "tx.pcap", "stolen.pcap":
		return true
	}
	for _, prefix := range []string{"redirect", "tc-", "tx-", "delivered-"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// PcapDir writes one pcap per verdict and per redirect target into a directory: the frames as the
// program left them, with the records' times in nanoseconds. On Commit, every verdict pcap is
// replaced (empty when no packet had that verdict) and the verdict, redirect and tc- pcaps of an
// earlier run that this run did not write are removed.
type PcapDir struct {
	dir  string
	outs map[string]*pcapFile
	// made are the directories newPcapDir created, deepest first: Abort removes them again.
	made []string
	// Written lists the files of the last commit.
	Written []string
}

// NewPcapDir writes the pcaps of an XDP program's run into dir, creating it.
func NewPcapDir(dir string) (*PcapDir, error) { return newPcapDir(dir, verdictPcaps) }

// NewTCPcapDir writes the pcaps of a tc program run alone into dir, creating it: pass.pcap and
// drop.pcap always, stolen.pcap and redirect-ifindex-N-ingress|egress.pcap when a packet went there.
func NewTCPcapDir(dir string) (*PcapDir, error) { return newPcapDir(dir, tcVerdictPcaps) }

func newPcapDir(dir string, always []string) (*PcapDir, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("-w %s: exists and is not a directory", dir)
	}
	var made []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) || p == filepath.Dir(p) {
			break
		}
		made = append(made, p)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("-w: %w", err)
	}
	d := &PcapDir{dir: dir, outs: map[string]*pcapFile{}, made: made}
	for _, name := range always {
		if _, err := d.open(name); err != nil {
			d.Abort()
			return nil, err
		}
	}
	return d, nil
}

// PcapName is the output pcap a packet's outcome sends it to: by XDP verdict, or for a tc program
// run alone by what its hook does with the packet (pass, drop, stolen, a redirect target).
func PcapName(o *sim.Outcome) string {
	if o.Packet.Type == result.TypeTC && o.TC != nil {
		return tcPcapName("", o.TC)
	}
	switch o.Ret {
	case result.XDPDrop:
		return "drop.pcap"
	case result.XDPPass:
		return "pass.pcap"
	case result.XDPTX:
		return "tx.pcap"
	case result.XDPRedirect:
		if r := o.Redirect; r != nil {
			if r.Map != "" {
				return fmt.Sprintf("redirect-%s-%d.pcap", r.Map, r.Key)
			}
			return fmt.Sprintf("redirect-ifindex-%d.pcap", r.Ifindex)
		}
		return "redirect.pcap"
	}
	return "aborted.pcap"
}

// tcPcapName is the pcap for what a tc hook did with a packet, prefixed.
func tcPcapName(prefix string, tc *sim.TCOutcome) string {
	if tc.Action == sim.TCRedirected && tc.Redirect != nil {
		dir := "egress"
		if tc.Redirect.Ingress {
			dir = "ingress"
		}
		return fmt.Sprintf("%sredirect-ifindex-%d-%s.pcap", prefix, tc.Redirect.Ifindex, dir)
	}
	return prefix + tc.Action + ".pcap"
}

func (d *PcapDir) open(name string) (*pcapFile, error) {
	if pf := d.outs[name]; pf != nil {
		return pf, nil
	}
	pf, err := newPcapFile(filepath.Join(d.dir, name))
	if err != nil {
		return nil, fmt.Errorf("-w: %w", err)
	}
	d.outs[name] = pf
	return pf, nil
}

func (d *PcapDir) Packet(p *Packet) error {
	o := &p.Outcome
	if o.Err != "" {
		return nil
	}
	name := PcapName(o)
	pf, err := d.open(name)
	if err != nil {
		return err
	}
	if err := pf.write(p.Record, o.Data); err != nil {
		return err
	}
	if tc := o.TC; tc != nil && o.Packet.Type != result.TypeTC && tc.Err == "" && len(tc.Programs) > 0 {
		// The packet went on to tc ingress: what left the hook goes to a tc- pcap too.
		if pf, err = d.open(tcPcapName("tc-", tc)); err != nil {
			return err
		}
		return pf.write(p.Record, tc.Data)
	}
	return nil
}

func (d *PcapDir) Commit() error {
	names := make([]string, 0, len(d.outs))
	for name := range d.outs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := d.outs[name].out.Commit(); err != nil {
			return fmt.Errorf("-w: %w", err)
		}
	}
	// Pcaps of an earlier run would read as this run's: remove them.
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("-w: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && stalePcap(n) && strings.HasSuffix(n, ".pcap") && d.outs[n] == nil {
			if err := os.Remove(filepath.Join(d.dir, n)); err != nil {
				return fmt.Errorf("-w: removing %s of an earlier run: %w", n, err)
			}
		}
	}
	d.Written = names
	return nil
}

func (d *PcapDir) Abort() {
	for _, pf := range d.outs {
		pf.out.Abort()
	}
	// A run that failed leaves no directory behind that it made (os.Remove keeps a non-empty one).
	for _, dir := range d.made {
		if os.Remove(dir) != nil {
			break
		}
	}
}

// pcapFile is one output pcap.
type pcapFile struct {
	out *File
	w   *pcapgo.Writer
	ci  gopacket.CaptureInfo
}

func newPcapFile(path string) (*pcapFile, error) {
	f, err := CreateFile(path, nil)
	if err != nil {
		return nil, err
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(MaxSnaplen, layers.LinkTypeEthernet); err != nil {
		f.Abort()
		return nil, err
	}
	return &pcapFile{out: f, w: w}, nil
}

func (p *pcapFile) write(rec *Record, data []byte) error {
	p.ci.Timestamp = rec.Time
	p.ci.CaptureLength, p.ci.Length = len(data), len(data)
	return p.w.WritePacket(p.ci, data)
}

// Verbose prints one line per selected packet: its number, time, what tcpdump -n would print for
// it, and the verdict; then any printk lines.
type Verbose struct {
	w *bufio.Writer
}

// NewVerbose prints to w.
func NewVerbose(w io.Writer) *Verbose { return &Verbose{w: bufio.NewWriter(w)} }

// TCHookLine says in a few words what a tc hook did with a packet: "pass", "drop", "stolen", "redirect
// to ifindex 2 ingress", "drop (redirect: ...)", "dropped before tc: ...", or the fault.
func TCHookLine(tc *sim.TCOutcome) string {
	switch {
	case tc.Err != "":
		return tc.Err
	case tc.Dropped != "":
		return "dropped before tc: " + tc.Dropped
	case tc.Redirect != nil && tc.Redirect.Dropped != "":
		return "drop (redirect: " + tc.Redirect.Dropped + ")"
	case tc.Redirect != nil:
		r := tc.Redirect
		dir, how := "egress", ""
		if r.Ingress {
			dir = "ingress"
		}
		switch {
		case r.Peer:
			how = " (peer)"
		case r.Neigh && r.Nexthop != "":
			how = " (neigh via " + r.Nexthop + ")"
		case r.Neigh:
			how = " (neigh)"
		}
		return fmt.Sprintf("redirect to ifindex %d %s%s", r.Ifindex, dir, how)
	}
	return tc.Action
}

// slotDecider says, for libxdp's dispatcher, which slot's program gave the verdict: " (slot 1
// xdp_fw)", or " (every slot went on)" for the XDP_PASS the dispatcher returns then; "" for one
// program on its own.
func slotDecider(o *sim.Outcome) string {
	n := len(o.Dispatch)
	if n == 0 {
		return ""
	}
	if last := o.Dispatch[n-1]; !last.Continued {
		return fmt.Sprintf(" (slot %d %s)", last.Slot, last.Program)
	}
	return " (every slot went on)"
}

// tcDecider names, for a chain of several tc programs, the one whose return value decided; ""
// for one program.
func tcDecider(tc *sim.TCOutcome) string {
	if len(tc.Programs) < 2 {
		return ""
	}
	return "from " + tc.Programs[len(tc.Programs)-1].Program
}

func (v *Verbose) Packet(p *Packet) error {
	if !p.Selected {
		return nil
	}
	fmt.Fprintf(v.w, "%5d %s %s", p.N, p.Record.Time.UTC().Format("15:04:05.000000000"), Describe(p.Record.Data, p.Record.OrigLen))
	o := &p.Outcome
	switch {
	case o.Network != nil:
		fmt.Fprintf(v.w, " -> %s\n      %s\n", p.Verdict, PathLine(o.Network))
		if o.Err != "" {
			fmt.Fprintf(v.w, "      %s\n", o.Err)
		} else if r := o.Network.End.Reason; r != "" && o.Network.End.Kind != "sent" {
			fmt.Fprintf(v.w, "      %s\n", r)
		}
	case o.Err != "":
		fmt.Fprintf(v.w, " -> %s: %s\n", p.Verdict, o.Err)
	case o.TC != nil && o.Packet.Type == result.TypeTC:
		// tc programs alone: where a redirect goes, or why it drops; of a chain, which decided.
		var why []string
		if o.TC.Redirect != nil {
			why = append(why, TCHookLine(o.TC))
		}
		if d := tcDecider(o.TC); d != "" {
			why = append(why, d)
		}
		if len(why) > 0 {
			fmt.Fprintf(v.w, " -> %s (%s)\n", p.Verdict, strings.Join(why, ", "))
		} else {
			fmt.Fprintf(v.w, " -> %s\n", p.Verdict)
		}
	case o.TC != nil && (len(o.TC.Programs) > 0 || o.TC.Dropped != "" || o.TC.Err != ""):
		line := TCHookLine(o.TC)
		if d := tcDecider(o.TC); d != "" && o.TC.Err == "" && o.TC.Dropped == "" {
			line += " (" + d + ")"
		}
		fmt.Fprintf(v.w, " -> %s%s -> tc ingress: %s\n", p.Verdict, slotDecider(o), line)
	default:
		fmt.Fprintf(v.w, " -> %s%s\n", p.Verdict, slotDecider(o))
	}
	for _, line := range p.Outcome.Printk {
		fmt.Fprintf(v.w, "      printk: %s\n", line)
	}
	return v.w.Flush()
}

// WritePcap writes frames as a pcap trace xdpsim run and diff replay (nanosecond times from start,
// one microsecond apart; tcpdump's snap length), for example a fuzzer's crashing input. The file
// appears whole or not at all, as File describes.
func WritePcap(path string, start time.Time, frames ...[]byte) error {
	pf, err := newPcapFile(path)
	if err != nil {
		return err
	}
	rec := Record{}
	for i, f := range frames {
		rec.Time = start.Add(time.Duration(i) * time.Microsecond)
		if err := pf.write(&rec, f); err != nil {
			pf.out.Abort()
			return err
		}
	}
	return pf.out.Commit()
}
