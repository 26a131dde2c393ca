package main

import (
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

func TestTracesThatTeach(t *testing.T) {
	obj := objectOf(t, "udp_filter")
	trace := corpus.TracePath("vlan.pcap")
	t.Run("--packet limits the trace to that packet", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", "--trace", "--packet", "2", obj, trace)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		if got := strings.Count(stdout, "--- packet "); got != 1 || !strings.Contains(stdout, "--- packet 2\n") {
			t.Errorf("%d packets traced, want only packet 2", got)
		}
	})
	t.Run("a list and a range select several packets", func(t *testing.T) {
		_, stdout, _ := runCmd(t, "run", "--trace", "--packet", "1,5-6", obj, trace)
		for _, want := range []string{"--- packet 1\n", "--- packet 5\n", "--- packet 6\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("no %q", want)
			}
		}
		if got := strings.Count(stdout, "--- packet "); got != 3 {
			t.Errorf("%d packets traced, want 3", got)
		}
	})
	t.Run("the trace ends with the verdict's name", func(t *testing.T) {
		_, stdout, _ := runCmd(t, "run", "--trace", "--packet", "2", obj, trace)
		if !strings.Contains(stdout, "177: (95) exit\n; returned 2 (XDP_PASS)\n") {
			t.Errorf("trace ends:\n%s", tail(stdout, 4))
		}
	})
	t.Run("a fault is printed where it happens, on a line of its own", func(t *testing.T) {
		_, stdout, _ := runCmd(t, "run", "--trace", "--budget", "3", "--packet", "1", obj, trace)
		want := "2: (61) r8 = *(u32 *)(r1 +0)\n; FAULT: instruction 3: instruction budget of 3 exhausted (runaway program?)\n  at udp_filter.c:87: if ((void *)(eth + 1) > data_end)\n"
		if !strings.Contains(stdout, want) {
			t.Errorf("want\n%s\ngot\n%s", want, stdout)
		}
	})
	t.Run("-v and --jsonl honour --packet too", func(t *testing.T) {
		_, stdout, _ := runCmd(t, "run", "-v", "--jsonl", "-", "--packet", "3", obj, trace)
		lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "    3 ") || !strings.HasPrefix(lines[1], `{"packet":3,`) {
			t.Errorf("got\n%s", stdout)
		}
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
