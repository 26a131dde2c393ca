package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

func TestShow(t *testing.T) {
	trace := corpus.TracePath("mixed.pcap")
	t.Run("draws the packet asked for after running the ones before it", func(t *testing.T) {
		rc, out, stderr := runCmd(t, "show", objectOf(t, "encap"), trace, "--packet", "7")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		for _, want := range []string{"packet 7 (", "XDP_TX (3)", "step 1: bpf_xdp_adjust_head(ctx, -20) = 0", "before the program ran:", "after the program ran:"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("writes an HTML page with --html and still prints the text", func(t *testing.T) {
		page := filepath.Join(t.TempDir(), "frame.html")
		rc, out, stderr := runCmd(t, "show", objectOf(t, "meta_tail"), trace, "--packet", "1", "--html", page)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), "<svg") || !strings.Contains(out, "metadata") {
			t.Errorf("page of %d bytes, text %q", len(b), out)
		}
	})
	t.Run("a packet past the traces' end is an error naming the count", func(t *testing.T) {
		page := filepath.Join(t.TempDir(), "frame.html")
		rc, _, stderr := runCmd(t, "show", objectOf(t, "encap"), corpus.TracePath("vlan.pcap"), "--packet", "401", "--html", page)
		if rc != 2 || !strings.Contains(stderr, "hold 400 packets") {
			t.Errorf("exit %d, stderr %q", rc, stderr)
		}
		if _, err := os.Stat(page); !os.IsNotExist(err) {
			t.Errorf("a page was written for a packet that does not exist")
		}
	})
	t.Run("a packet the kernel refuses says why", func(t *testing.T) {
		// malformed.pcap starts with runts shorter than an Ethernet header.
		rc, out, stderr := runCmd(t, "show", objectOf(t, "encap"), corpus.TracePath("malformed.pcap"), "--packet", "1-20")
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if !strings.Contains(out, "no frame to draw: ") || !strings.Contains(out, "refuses") {
			t.Errorf("no refused packet among the first 20 of malformed.pcap is said so:\n%s", out)
		}
	})
	t.Run("--trace ends each packet's trace with its frame", func(t *testing.T) {
		rc, out, stderr := runCmd(t, "run", "--trace", "--packet", "7", objectOf(t, "encap"), trace)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		i := strings.Index(out, "; returned 3 (XDP_TX)\n")
		j := strings.Index(out, "step 1: bpf_xdp_adjust_head(ctx, -20) = 0")
		if i < 0 || j < i || !strings.Contains(out[i:], "after the program ran: XDP_TX (3)") {
			t.Errorf("the trace does not end with the frame picture:\n%s", tail(out, 40))
		}
	})
	t.Run("--html draws one packet only", func(t *testing.T) {
		page := filepath.Join(t.TempDir(), "frame.html")
		rc, _, stderr := runCmd(t, "show", objectOf(t, "encap"), trace, "--packet", "1-2", "--html", page)
		if rc != 2 || !strings.Contains(stderr, "--html draws one packet") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
		if _, err := os.Stat(page); !os.IsNotExist(err) {
			t.Error("a page was left behind")
		}
	})
}
