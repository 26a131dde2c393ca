package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/kfuncs/conntrack"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/syncookie"
)

// packetLines reads the data and return value of each packet from --jsonl output.
func packetLines(t *testing.T, out string) (rets []int, data [][]byte) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Ret  int    `json:"ret"`
			Data string `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		d, err := hex.DecodeString(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		rets, data = append(rets, m.Ret), append(data, d)
	}
	return rets, data
}

// The README's session: corpus/synproxy.pcap holds a SYN, a packet of the connection
// corpus/synproxy.conntrack.json preloads, and an ACK with a bad cookie, one second apart. The SYN
// is answered with the cookie of --seed 1's secret; the preloaded connection passes, and the dump
// after the run shows it with the time it has left.
func TestConntrackPreloadAndDump(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "out.json")
	rc, stdout, stderr := runCmd(t, "run", objectOf(t, "synproxy"), filepath.Join(corpus.Dir(), "synproxy.pcap"),
		"--conntrack-in", filepath.Join(corpus.Dir(), "synproxy.conntrack.json"), "--conntrack", dump, "--jsonl", "-")
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	rets, data := packetLines(t, stdout)
	if len(rets) != 3 || rets[0] != 3 || rets[1] != 2 || rets[2] != 1 {
		t.Fatalf("verdicts %v, want XDP_TX, XDP_PASS, XDP_DROP", rets)
	}
	if len(data[0]) < 58 || binary.BigEndian.Uint32(data[0][38:]) != 2386724722 {
		t.Errorf("the SYN-ACK is not the one the README shows (seq 2386724722): % x", data[0])
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	var recs []conntrack.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	// 300 s from the first packet, dumped at the last, 2 s later.
	want := conntrack.Record{Proto: "tcp", Orig: conntrack.Endpoints{Src: "192.0.2.1", Sport: 40001, Dst: "198.51.100.7", Dport: 80},
		Status: 0x2 | 0x4 | 0x8, Timeout: 298}
	if len(recs) != 1 || recs[0].Reply != nil || recs[0].Proto != want.Proto || recs[0].Orig != want.Orig ||
		recs[0].Status != want.Status || recs[0].Timeout != want.Timeout {
		t.Errorf("dump %s, want %+v", b, want)
	}
}

// The SYN-ACK carries the cookie of the secret --syncookie-secret names, or --seed derives; the
// same flags give the same cookies.
func TestSyncookieSecretAndSeed(t *testing.T) {
	dir := t.TempDir()
	syn := corpus.SynproxyFrame(40000, 1000, 0, 0x02)
	trace := writePcap(t, filepath.Join(dir, "t.pcap"), syn)
	cookieOf := func(args ...string) uint32 {
		t.Helper()
		rc, stdout, stderr := runCmd(t, append([]string{"run", objectOf(t, "synproxy"), trace, "--jsonl", "-"}, args...)...)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		rets, data := packetLines(t, stdout)
		if len(rets) != 1 || rets[0] != 3 || len(data[0]) < 58 {
			t.Fatalf("no SYN-ACK: %s", stdout)
		}
		return binary.BigEndian.Uint32(data[0][38:])
	}
	secretHex := strings.Repeat("0123456789abcdef", 8)
	sec, err := syncookie.ParseSecret(secretHex)
	if err != nil {
		t.Fatal(err)
	}
	jiffies := uint64(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()) / 4_000_000 // HZ 250
	want, _ := sec.Generate(syncookie.Conn{Src: syn[26:30], Dst: syn[30:34], SrcPort: [2]byte(syn[34:36]), DstPort: [2]byte(syn[36:38])},
		1000, 1460, syncookie.Counter(jiffies, 250))
	t.Run("--syncookie-secret gives the cookie the kernel's algorithm makes with that secret", func(t *testing.T) {
		if got := cookieOf("--syncookie-secret", secretHex); got != want {
			t.Errorf("cookie %#x, want %#x", got, want)
		}
	})
	t.Run("--seed derives the secret: the same seed, the same cookie; another, another", func(t *testing.T) {
		a, b, c := cookieOf("--seed", "7"), cookieOf("--seed", "7"), cookieOf("--seed", "8")
		if a != b || a == c {
			t.Errorf("seed 7: %#x and %#x, seed 8: %#x", a, b, c)
		}
	})
	t.Run("a secret of the wrong length is bad usage", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "run", objectOf(t, "synproxy"), trace, "--syncookie-secret", "abcd")
		if rc != 2 || !strings.Contains(stderr, "--syncookie-secret") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
}

func TestHelperFlagsRejectBadValues(t *testing.T) {
	dir := t.TempDir()
	trace := writePcap(t, filepath.Join(dir, "t.pcap"), corpus.SynproxyFrame(1, 1, 0, 0x02))
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"proto": "tcp", "orig": {"src": "192.0.2.1"}, "status": "SEEN_REPLY|NOPE"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"an unknown key in --task", []string{"--task", "pid=1,colour=blue"}, "--task"},
		{"a conntrack entry with an unknown status flag", []string{"--conntrack-in", bad}, "NOPE"},
		{"a conntrack file that does not exist", []string{"--conntrack-in", filepath.Join(dir, "none.json")}, "none.json"},
	} {
		t.Run(c.name+" exits 2 naming it", func(t *testing.T) {
			rc, _, stderr := runCmd(t, append([]string{"run", objectOf(t, "synproxy"), trace}, c.args...)...)
			if rc != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d: %s", rc, stderr)
			}
		})
	}
	if err := kernel.Available(); err != nil {
		t.Logf("kernel cases skipped: %v", err)
		return
	}
	t.Run("--task with diff exits 2: the kernel's test runs have their own task", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "diff", objectOf(t, "synproxy"), trace, "--task", "pid=5")
		if rc != 2 || !strings.Contains(stderr, "--task") {
			t.Errorf("exit %d: %s", rc, stderr)
		}
	})
}

// diff warns that a program making SYN cookies cannot agree with the kernel on them.
func TestDiffWarnsAboutSynCookies(t *testing.T) {
	for name, want := range map[string]string{
		"synproxy": "program xdp_synproxy makes SYN cookies (bpf_tcp_raw_gen_syncookie_ipv6, bpf_tcp_raw_gen_syncookie_ipv4)",
		"udp_echo": "",
	} {
		o, err := sim.Load(objectOf(t, name), sim.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.FindProgram("")
		if err != nil {
			t.Fatal(err)
		}
		if got := cookieNotice(p); !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("%s: notice %q, want %q...", name, got, want)
		}
	}
}
