package main

import (
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
)

// Flags a command registers must do what their help says there, or be refused: a flag that is
// silently ignored makes a script believe a check ran.
func TestFlagsAreHonouredOrRefused(t *testing.T) {
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	// show runs the whole trace as run does, so it must count what run counts.
	_, _, runSays := runCmd(t, "run", "--fail-on", "tx", obj, trace)
	runSays = strings.TrimPrefix(strings.TrimSpace(runSays), "xdpsim run: ")
	if !strings.HasPrefix(runSays, "--fail-on tx: ") {
		t.Fatalf("run --fail-on tx says %q", runSays)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"show --fail-on that matches exits 1, as run does", []string{"show", "--fail-on", "tx", "--packet", "1", obj, trace}, 1, "xdpsim show: " + runSays},
		{"show --fail-on that does not match exits 0", []string{"show", "--fail-on", "fault", "--packet", "1", obj, trace}, 0, ""},
		{"show with a bad --fail-on exits 2", []string{"show", "--fail-on", "faults", "--packet", "1", obj, trace}, 2, "--fail-on"},
		{"debug refuses --fail-on, which it cannot check", []string{"debug", "--fail-on", "tx", obj, trace}, 2, "--fail-on: debug runs the packets you step through"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", rc, stderr, tt.code, tt.want)
			}
		})
	}
}
