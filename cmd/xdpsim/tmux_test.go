package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/corpus"
)

// TestMain lets the test binary stand in for xdpsim: with XDPSIM_TEST_AS_MAIN set it runs the
// command line, so terminal tests drive the real program without building it.
func TestMain(m *testing.M) {
	if os.Getenv("XDPSIM_TEST_AS_MAIN") != "" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// terminal is a tmux session running one command, on a socket of its own.
type terminal struct {
	t      *testing.T
	socket string
}

func newTerminal(t *testing.T, args ...string) *terminal {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("no tmux on PATH: the terminal session is not tested (apt-get install tmux)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	cmd := append([]string{"env", "XDPSIM_TEST_AS_MAIN=1", self}, args...)
	start := exec.Command(tmux, append([]string{"-S", term.socket, "-f", "/dev/null", "new-session", "-d", "-x", "132", "-y", "60"}, cmd...)...)
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(tmux, "-S", term.socket, "kill-server").Run() })
	return term
}

func (term *terminal) tmux(args ...string) string {
	out, err := exec.Command("tmux", append([]string{"-S", term.socket}, args...)...).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is what the terminal shows now, with the scrollback.
func (term *terminal) screen() string { return term.tmux("capture-pane", "-p", "-S", "-2000") }

// waitFor waits until the screen shows want the given number of times, and returns the screen.
func (term *terminal) waitFor(want string, times int) string {
	term.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := term.screen()
		if strings.Count(s, want) >= times {
			return s
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal never showed %q %d times:\n%s", want, times, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// typeLine types a command and Enter, and waits for the next prompt.
func (term *terminal) typeLine(line string, prompts int) string {
	term.tmux("send-keys", "-l", line)
	term.tmux("send-keys", "Enter")
	return term.waitFor("(xdpsim)", prompts)
}

func TestTheDebuggerInATerminal(t *testing.T) {
	term := newTerminal(t, "debug", objectOf(t, "encap"), corpus.TracePath("mixed.pcap"))
	term.waitFor("(xdpsim)", 1)
	term.typeLine("break encap.c:75", 2)
	term.typeLine("packet 7", 3)
	term.typeLine("continue", 4)
	term.typeLine("next", 5)
	term.typeLine("next", 6)
	term.typeLine("regs", 7)
	term.typeLine("frame", 8)
	screen := term.typeLine("continue", 9)
	for _, want := range []string{
		"xdpsim debugger: program xdp_encap, 4000 packets",
		"breakpoint 1 at instruction 115 of xdp_encap (encap.c:75:",
		"breakpoint: ; encap.c:75:",
		"call bpf_xdp_adjust_head",
		"ctx+0 (struct xdp_md)",
		"step 1: bpf_xdp_adjust_head(ctx, -20) = 0",
		"<- data_meta, data",
		"packet 7 ended: XDP_TX (3)",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal does not show %q", want)
		}
	}
	if dir := os.Getenv("XDPSIM_ARTEFACTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "debugger-session.txt"), []byte(screen), 0o644)
	}
	term.tmux("send-keys", "-l", "quit")
	term.tmux("send-keys", "Enter")
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The pane closes when xdpsim exits; the server goes with it.
		if err := exec.Command("tmux", "-S", term.socket, "has-session").Run(); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("xdpsim did not exit after quit:\n%s", term.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTheDebuggerInATerminalOnSkbsAndSlots drives the debugger from a terminal through a tc
// program at tc ingress behind XDP, and through libxdp's dispatcher.
func TestTheDebuggerInATerminalOnSkbsAndSlots(t *testing.T) {
	meta := tcObjectOf(t, "tc_meta")
	for _, c := range []struct {
		name  string
		args  []string
		lines []string
		want  []string
	}{
		{"tc ingress", []string{"debug", meta, "--prog", "xdp_meta_writer", "--tc", meta, corpus.TracePath("mixed.pcap")},
			[]string{"break tc_meta.c:124", "continue", "regs", "frame", "continue", "continue"},
			[]string{"xdpsim debugger: program xdp_meta_writer, then tc ingress (tc_meta_reader), 4000 packets",
				"of tc ingress tc_meta_reader (tc_meta.c:124:", "packet 1, tc ingress tc_meta_reader 6:",
				"pkt_meta (data-8, head offset 248)", "ctx+0 (struct __sk_buff)", "the sk_buff now:", "<- mac_header, data",
				"packet 1 ended: XDP_PASS (2), then at tc ingress: TC_ACT_OK (0), pass"}},
		{"dispatcher", append(append([]string{"debug"}, dispObjects(t, "disp_echo", "disp_fw", "disp_mon")...), "--", corpus.TracePath("mixed.pcap")),
			[]string{"break disp_fw.c:26", "continue", "regs", "continue"},
			[]string{"xdpsim debugger: libxdp's dispatcher (slot 0 xdp_mon, slot 1 xdp_fw, slot 2 xdp_echo), 4000 packets",
				"of slot 1 xdp_fw (disp_fw.c:26:", "packet 1, slot 1 xdp_fw 2:", "pkt(data+0) (page offset 256)", "pkt_end (data+376, page offset 632)",
				"packet 1 ended: XDP_PASS (2) (every slot went on)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			term := newTerminal(t, c.args...)
			term.waitFor("(xdpsim)", 1)
			var screen string
			for i, l := range c.lines {
				screen = term.typeLine(l, i+2)
			}
			for _, want := range c.want {
				if !strings.Contains(screen, want) {
					t.Errorf("the terminal does not show %q:\n%s", want, screen)
				}
			}
			if dir := os.Getenv("XDPSIM_ARTEFACTS"); dir != "" {
				os.WriteFile(filepath.Join(dir, "debugger-session-"+strings.ReplaceAll(c.name, " ", "-")+".txt"), []byte(screen), 0o644)
			}
		})
	}
}
