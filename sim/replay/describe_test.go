package replay_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim/replay"
)

// tcpdumpLines reads testdata/tcpdump/TRACE.txt: what tcpdump 4.99.3 printed for each packet of a
// corpus trace with tcpdump -n -S -r TRACE (first line of each packet, the time cut off).
func tcpdumpLines(t *testing.T, trace string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "tcpdump", strings.TrimSuffix(trace, ".pcap")+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// agrees says whether our line says what tcpdump's says, down to the transport layer: the same
// line, or tcpdump's line going on where it decodes an application protocol.
func agrees(ours, td string) bool {
	if ours == td {
		return true
	}
	if strings.HasPrefix(td, ours+": ") || strings.HasPrefix(td, ours+" ") {
		return true // TCP payload decoded (": HTTP", ": SMTP", ...)
	}
	if head, ok := strings.CutSuffix(ours, ": UDP, length "+lastField(ours)); ok {
		return strings.HasPrefix(td, head+": ") && !strings.Contains(td, "UDP, ")
	}
	return false
}

func lastField(s string) string {
	i := strings.LastIndexByte(s, ' ')
	return s[i+1:]
}

// TestDescribeSaysWhatTcpdumpSays compares Describe with tcpdump's own lines for every packet of
// the corpus traces: the lines must agree down to the transport layer for nearly every packet.
// What is left are protocols tcpdump decodes and Describe does not (LLC, STP, LLDP, SNMP inside
// UDP, the quoted packet of ICMPv6 errors) and the partial fields tcpdump prints of some truncated
// headers; the bound per trace holds what is reached.
func TestDescribeSaysWhatTcpdumpSays(t *testing.T) {
	for _, tc := range []struct {
		trace    string
		atLeast  float64
		mustShow []string
	}{
		{"mixed.pcap", 0.98, nil},
		{"vlan.pcap", 0.95, []string{"vlan 100, p 4, IP 10.0.0.8 > 172.16.5.26: ICMP echo request, id 19360, seq 1, length 40"}},
		{"ipv6ext.pcap", 0.94, []string{"IP6 2001:db8:1::2 > 2001:db8:2::20: HBH 40000 > 443: Flags [S], seq 1301775012, win 65535, options [mss 536], length 0"}},
		{"malformed.pcap", 0.93, []string{" [|ether]", " [|ip6]"}},
	} {
		t.Run(tc.trace, func(t *testing.T) {
			want := tcpdumpLines(t, tc.trace)
			r, err := replay.Open(corpus.TracePath(tc.trace))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []string
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, replay.Describe(rec.Data, rec.OrigLen))
			}
			if len(got) != len(want) {
				t.Fatalf("%d packets, tcpdump printed %d", len(got), len(want))
			}
			agree, shown := 0, 0
			for i := range got {
				td := want[i]
				// tcpdump -e shows VLAN tags; without -e it leaves them out: compare the rest.
				ours := got[i]
				for strings.HasPrefix(ours, "vlan ") {
					_, ours, _ = strings.Cut(strings.SplitN(ours, ", ", 3)[2], "")
				}
				if agrees(ours, td) {
					agree++
				} else if shown < 8 {
					shown++
					t.Logf("packet %d:\n  ours    %s\n  tcpdump %s", i+1, got[i], td)
				}
			}
			t.Logf("%d of %d lines agree with tcpdump -n -S", agree, len(got))
			if frac := float64(agree) / float64(len(got)); frac < tc.atLeast {
				t.Errorf("%d of %d lines agree with tcpdump (%.1f%%), want at least %.0f%%", agree, len(got), 100*frac, 100*tc.atLeast)
			}
			for _, w := range tc.mustShow {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("no packet described as %q", w)
				}
			}
		})
	}
}
