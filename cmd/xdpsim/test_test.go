package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/vm"
)

// TestCorpusExpectationsHoldOnEveryEngine runs the corpus's expectation files, whose values come
// from each program's C logic and from the kernel's run of the traces, on every simulator engine
// and, where there is one, on the real kernel.
func TestCorpusExpectationsHoldOnEveryEngine(t *testing.T) {
	for _, engine := range engineNames() {
		t.Run("on "+engine, func(t *testing.T) {
			if engine == "kernel" {
				if err := kernel.Available(); err != nil {
					t.Skipf("SKIP: %v", err)
				}
			}
			rc, stdout, stderr := runCmd(t, "test", "--engine", engine, corpus.Dir())
			if rc != 0 {
				t.Fatalf("exit %d: %s\n%s", rc, stderr, stdout)
			}
			if n := strings.Count(stdout, " ... Passed"); n < 20 {
				t.Errorf("%d tests passed, want every one of the corpus's (at least 20):\n%s", n, stdout)
			}
		})
	}
}

func TestTestReportsEveryFailure(t *testing.T) {
	dir := t.TempDir()
	obj, err := filepath.Abs(objectOf(t, "icmp_echo"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "wrong.expect.json")
	// A reply TTL of 63 and data of a request are wrong: icmp_echo answers with reply_ttl (64).
	writeFile(t, file, `{"object": "`+obj+`", "tests": [
	  {"name": "right", "packets": [{"fields": {"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"},
	    "ipv4": {"src": "10.0.0.2", "dst": "10.0.0.1"}, "icmp": {"type": 8}}, "expect": {"verdict": "XDP_TX"}}]},
	  {"name": "wrong", "packets": [{"fields": {"eth": {"src": "02:00:00:00:00:02", "dst": "02:00:00:00:00:01"},
	    "ipv4": {"src": "10.0.0.2", "dst": "10.0.0.1"}, "icmp": {"type": 8}},
	    "expect": {"verdict": "XDP_PASS", "fields": {"ipv4.ttl": 63}, "data": "00"}}],
	    "maps": {"replies": [{"key": "u32:0", "value": "u64:2"}]}}
	]}`)
	junit := filepath.Join(dir, "junit.xml")
	rc, stdout, stderr := runCmd(t, "test", "--junit", junit, file)
	if rc != 1 {
		t.Fatalf("exit %d, want 1: %s\n%s", rc, stderr, stdout)
	}
	for _, want := range []string{
		"Test #1 " + file + ": right ... Passed\n",
		"Test #2 " + file + ": wrong ... FAILED\n",
		"    packet 1: verdict: got XDP_TX, want XDP_PASS\n",
		"    packet 1: field ipv4.ttl: got 64 (0x40), want 63 (0x3f)\n",
		"    packet 1: data differs:\n        lengths: want 1, got 60\n        -0000  00\n        +0000  02 00 00 00 00 02",
		"    map replies key 00000000 (u32:0): value 0100000000000000, want 0200000000000000 (u64:2)\n",
		"2 tests on " + vm.DefaultEngine().Name() + ": 1 passed, 1 failed\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Fails  int `xml:"failures,attr"`
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("--junit wrote no XML: %v\n%s", err, b)
	}
	if doc.Tests != 2 || doc.Fails != 1 || len(doc.Suites) != 1 || doc.Suites[0].Cases[0].Failure != nil ||
		doc.Suites[0].Cases[1].Failure == nil || !strings.Contains(doc.Suites[0].Cases[1].Failure.Body, "field ipv4.ttl") {
		t.Errorf("JUnit report:\n%s", b)
	}
}

func TestTestRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, want string
		code             int
	}{
		{"malformed JSON exits 2 naming the file", `{"object": `, "bad.expect.json", 2},
		{"an unknown key exits 2", `{"object": "x.o", "tests": [{"name": "a", "trace": "t.pcap", "verdict": "XDP_PASS"}]}`, `unknown field "verdict"`, 2},
		{"a test with neither packets nor a trace exits 2", `{"object": "x.o", "tests": [{"name": "a"}]}`, "give either packets or a trace", 2},
		{"bad packet fields exit 2 naming the test and packet", `{"object": "x.o", "tests": [{"name": "a", "packets": [{"fields": {"eth": {"src": "nope", "dst": "02:00:00:00:00:01"}}}]}]}`, `test 1 ("a"): packet 1: fields: eth`, 2},
		{"a missing object is a test that could not run: exit 2", `{"object": "none.o", "tests": [{"name": "a", "packets": [{"hex": "020000000001020000000002 0800"}]}]}`, "1 tests could not run", 2},
		{"an output flag in a file exits 2", `{"object": "none.o", "flags": ["--jsonl", "x"], "tests": [{"name": "a", "packets": [{"hex": "00"}]}]}`, "--jsonl is not for expectation files", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.expect.json")
			writeFile(t, path, tc.body)
			rc, stdout, stderr := runCmd(t, "test", path)
			if rc != tc.code || !strings.Contains(stderr+stdout, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", rc, stdout, stderr, tc.code, tc.want)
			}
		})
	}
	t.Run("a directory without expectation files exits 2", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "test", t.TempDir())
		if rc != 2 || !strings.Contains(stderr, "no *.expect.json files") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
