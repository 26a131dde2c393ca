package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

// viewCase is a way packets run that every view must handle: a tc program alone, tc programs
// behind an XDP program, or a dispatcher set; flags go before the objects, and sep says the
// objects are attached through libxdp's dispatcher (PROG.o... -- TRACE...).
type viewCase struct {
	name  string
	flags []string
	objs  []string
	sep   bool
	trace string
	// tc says packets reach tc programs (the views draw an sk_buff).
	tc bool
}

// args is the command line of a view command over the case with extra flags.
func (c viewCase) args(cmd string, extra ...string) []string {
	out := append(append(append([]string{cmd}, extra...), c.flags...), c.objs...)
	if c.sep {
		out = append(out, "--")
	}
	return append(out, c.trace)
}

// viewCases are every corpus tc program alone and behind the XDP program it is meant to follow,
// and every dispatcher set, over its first trace.
func viewCases(t *testing.T) []viewCase {
	var out []viewCase
	for _, p := range corpus.TCPrograms() {
		out = append(out, viewCase{name: p.Name + " alone", objs: []string{p.Object("v4")}, flags: []string{"--prog", p.Entry},
			trace: corpus.TracePath(p.Traces[0]), tc: true})
		if p.XDP == "" {
			continue
		}
		flags := []string{"--prog", p.XDP}
		chain := p.Chain
		if chain == nil {
			chain = []string{p.Entry}
		}
		for _, n := range chain {
			flags = append(flags, "--tc", p.Object("v4")+":"+n)
		}
		out = append(out, viewCase{name: p.Name + " behind " + p.XDP, objs: []string{p.Object("v4")}, flags: flags,
			trace: corpus.TracePath(p.Traces[0]), tc: true})
	}
	for _, set := range corpus.Dispatchers() {
		c := viewCase{name: "dispatcher set " + set.Name, sep: true, trace: corpus.TracePath(set.Traces[0])}
		c.objs = dispObjects(t, set.Programs...)
		if set.Priority != 0 {
			c.flags = append(c.flags, "--run-prio", fmt.Sprint(set.Priority))
		}
		if set.Actions != "" {
			c.flags = append(c.flags, "--chain-actions", set.Actions)
		}
		if set.SetFrags {
			c.flags = append(c.flags, "--frags-aware")
		}
		if set.PacketChangingStubs {
			c.flags = append(c.flags, "--libxdp", "1.5.5")
		}
		out = append(out, c)
	}
	return out
}

// runIn runs the command line with stdin.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(args, strings.NewReader(stdin), &out, &errb)
	return rc, out.String(), errb.String()
}

// Every view works on every tc program of the corpus (alone, and behind its XDP program) and on
// every dispatcher set: the trace of selected packets ending with the pictures, -v's lines, the
// maps as C types and back, show's text and page, and the debugger.
func TestEveryViewWorksOnEveryTCProgramAndDispatcherSet(t *testing.T) {
	for _, c := range viewCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rc, out, stderr := runCmd(t, c.args("run", "--trace", "--packet", "1-2")...)
			if rc != 0 {
				t.Fatalf("run --trace: exit %d: %s", rc, stderr)
			}
			if strings.Count(out, "--- packet ") != 2 || strings.Count(out, "\n; returned ")+strings.Count(out, "\n; XDP returned ")+strings.Count(out, "; not run: ") != 2 {
				t.Errorf("run --trace --packet 1-2 traced otherwise:\n%s", tail(out, 30))
			}
			picture := "before the program ran:"
			switch {
			case c.sep:
				picture = "before the dispatcher ran:"
				if !strings.Contains(out, "; program ") || !strings.Contains(out, "(slot 0 of libxdp's dispatcher)") {
					t.Errorf("the trace does not say which slot runs:\n%s", tail(out, 30))
				}
			case c.tc:
				picture = "the sk_buff "
			}
			if !strings.Contains(out, picture) && !strings.Contains(out, "no frame to draw") {
				t.Errorf("the trace does not end with the picture (%q):\n%s", picture, tail(out, 30))
			}

			rc, out, stderr = runCmd(t, c.args("run", "-v", "--packet", "1-5")...)
			if rc != 0 || len(packetLine.FindAllString(out, -1)) != 5 {
				t.Errorf("run -v --packet 1-5: exit %d, %s\n%s", rc, stderr, out)
			}

			maps := filepath.Join(dir, "maps.json")
			if rc, _, stderr = runCmd(t, c.args("run", "--maps", maps, "--maps-format", "btf")...); rc != 0 {
				t.Fatalf("run --maps-format btf: exit %d: %s", rc, stderr)
			}
			b, err := os.ReadFile(maps)
			var dump map[string]any
			if err != nil || json.Unmarshal(b, &dump) != nil || len(dump) == 0 {
				t.Fatalf("--maps wrote %d bytes of %v: %s", len(b), err, b)
			}
			again := filepath.Join(dir, "again.json")
			if rc, _, stderr = runCmd(t, c.args("run", "--maps-in", maps, "--maps", again, "--maps-format", "btf", "--packet", "1")...); rc != 0 {
				t.Fatalf("--maps-in the btf dump: exit %d: %s", rc, stderr)
			}

			page := filepath.Join(dir, "frame.html")
			rc, out, stderr = runCmd(t, c.args("show", "--packet", "1", "--html", page)...)
			if rc != 0 {
				t.Fatalf("show: exit %d: %s", rc, stderr)
			}
			html, err := os.ReadFile(page)
			if err != nil || !bytes.Contains(html, []byte("</svg>")) {
				t.Errorf("show --html wrote no picture: %v", err)
			}
			if c.tc && !strings.Contains(out, "no frame to draw") && (!strings.Contains(out, "<- head (skb->head)") || !bytes.Contains(html, []byte(`aria-label="the sk_buff"`))) {
				t.Errorf("show draws no sk_buff:\n%s", out)
			}

			rc, out, stderr = runIn(t, "next 3\nregs\nframe\nmaps\ncontinue\ncontinue\nquit\n", c.args("debug")...)
			if rc != 0 || !strings.Contains(out, "xdpsim debugger: ") || !strings.Contains(out, "packet 1, ") || !strings.Contains(out, "ended: ") {
				t.Errorf("debug: exit %d, %s\n%s", rc, stderr, out)
			}
			if strings.Contains(out, "unknown command") || strings.Contains(out, "no packet is running") {
				t.Errorf("debug refused a command:\n%s", out)
			}
		})
	}
}

// packetLine is a -v line: the packet's number and time.
var packetLine = regexp.MustCompile(`(?m)^ +\d+ \d\d:\d\d:\d\d\.\d{9} `)
