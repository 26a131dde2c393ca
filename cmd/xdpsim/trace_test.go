package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
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

// TestTraceNumbersInstructionsAsTheKernelDoes: the trace's instruction numbers and jump offsets
// are those of the kernel's verifier log for the same object loaded by cilium/ebpf (bpf-to-bpf
// calls make the layout matter: libbpf orders subprograms differently, so bpftool's log of the same
// object numbers them otherwise).
func TestTraceNumbersInstructionsAsTheKernelDoes(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("SKIP: %v", err)
	}
	obj := objectOf(t, "calls")
	spec, err := ebpf.LoadCollectionSpec(obj)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelInstruction, LogSizeStart: 1 << 24}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	callRE := regexp.MustCompile(`(?m)^\s*(\d+): .*?\((85)\) (call pc[+-]\d+)`)
	kernelCalls := map[string]bool{}
	for _, m := range callRE.FindAllStringSubmatch(coll.Programs["xdp_calls"].VerifierLog, -1) {
		kernelCalls[m[1]+": "+m[3]] = true
	}
	_, stdout, _ := runCmd(t, "run", "--trace", "--packet", "1-20", obj, corpus.TracePath("mixed.pcap"))
	ours := callRE.FindAllStringSubmatch(stdout, -1)
	if len(ours) == 0 || len(kernelCalls) == 0 {
		t.Fatalf("no calls traced (%d) or logged (%d)", len(ours), len(kernelCalls))
	}
	for _, m := range ours {
		if !kernelCalls[m[1]+": "+m[3]] {
			t.Errorf("traced %s: %s, which the kernel's log numbers otherwise (%v)", m[1], m[3], kernelCalls)
		}
	}
}
