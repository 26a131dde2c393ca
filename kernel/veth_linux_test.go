//go:build linux

package kernel

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/sim/result"
)

// udp4 builds an Ethernet/IPv4/UDP frame with a 18-byte payload (60 bytes in all). The IPv4
// checksum is left 0: nothing on the way checks it.
func udp4() []byte {
	b := frame(0x0800, 60)
	ip := b[14:]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], 46) // total length: 20 + 8 + 18
	binary.BigEndian.PutUint16(ip[4:], 1)  // id
	binary.BigEndian.PutUint16(ip[6:], 0)  // no fragmentation
	ip[8], ip[9] = 64, 17                  // ttl, UDP
	binary.BigEndian.PutUint16(ip[10:], 0) // checksum
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 1234)
	binary.BigEndian.PutUint16(udp[2:], 5678)
	binary.BigEndian.PutUint16(udp[4:], 26)
	binary.BigEndian.PutUint16(udp[6:], 0)
	return b
}

// seenRecord is struct seen of testdata/xdp_hints.c.
type seenRecord struct {
	tsRet, hashRet, vlanRet int32
	rssType                 uint32
	ts                      uint64
	ifindex, rxQueue, len   uint32
	hashNonzero             uint32
}

func parseSeen(t *testing.T, e result.MapEntry) seenRecord {
	t.Helper()
	b, err := hex.DecodeString(e.Value)
	if err != nil || len(b) != 40 {
		t.Fatalf("seen value %q: %v", e.Value, err)
	}
	u := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	return seenRecord{
		tsRet: int32(u(0)), hashRet: int32(u(4)), vlanRet: int32(u(8)), rssType: u(12),
		ts: binary.LittleEndian.Uint64(b[16:]), ifindex: u(24), rxQueue: u(28), len: u(32), hashNonzero: u(36),
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func netnsOfThisThread(t *testing.T) string {
	t.Helper()
	s, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunOnVethRunsADeviceBoundProgram(t *testing.T) {
	requireKernel(t)
	ns := netnsOfThisThread(t)
	fds := openFDs(t)
	pkts := [][]byte{udp4(), frame(0x86dd, 80), frame(0x0806, 42), frame(0x1234, 50), udp4()}
	var devBoundRun result.Packet
	var devBoundErrno string
	res, err := runOnVeth("testdata/xdp_hints.o", Options{}, pkts, VethOptions{Maps: []string{"seen", ".bss"}}, func(p *Program) error {
		// Measured on 6.18: a device-bound program cannot be test-run.
		devBoundRun = p.Run(frame(0x0800, 60), nil, Context{})
		_, _, _, err := p.run(frame(0x0800, 60), nil, Context{})
		devBoundErrno = errnoName(err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a device-bound program is refused by BPF_PROG_TEST_RUN with EINVAL", func(t *testing.T) {
		if devBoundErrno != "EINVAL" || devBoundRun.Err != "kernel refused the packet: invalid argument (device-bound programs cannot be test-run; use RunOnVeth)" {
			t.Errorf("errno %s, Err %q", devBoundErrno, devBoundRun.Err)
		}
	})
	t.Run("every packet's verdict comes back in order", func(t *testing.T) {
		want := []uint32{result.XDPPass, result.XDPDrop, result.XDPTX, result.XDPAborted, result.XDPPass}
		if len(res.Rets) != len(want) {
			t.Fatalf("rets %v (%s), want %v", res.Rets, res.VerdictNote, want)
		}
		for i := range want {
			if res.Rets[i] != want[i] {
				t.Errorf("packet %d: ret %d, want %d", i+1, res.Rets[i], want[i])
			}
		}
		wantCounts := map[string]int{"XDP_PASS": 2, "XDP_DROP": 1, "XDP_TX": 1, "XDP_ABORTED": 1}
		for k, v := range wantCounts {
			if res.Verdicts[k] != v {
				t.Errorf("verdicts %v, want %v", res.Verdicts, wantCounts)
				break
			}
		}
	})
	t.Run("only the chosen maps are dumped", func(t *testing.T) {
		if len(res.Maps) != 2 || res.Maps[".bss"][0].Value != le32(5) {
			t.Errorf("maps %v, want seen and .bss with packets = 5", res.Maps)
		}
	})
	t.Run("the hints are those of a veth skb", func(t *testing.T) {
		seen := res.Maps["seen"]
		for i, pkt := range pkts {
			s := parseSeen(t, seen[i])
			// veth: no hardware timestamp (0, ts 0), the skb's hash (0), no VLAN tag (-ENODATA).
			if s.tsRet != 0 || s.ts != 0 || s.hashRet != 0 || s.hashNonzero != 1 || s.vlanRet != -61 {
				t.Errorf("packet %d: %+v, want timestamp 0/0, a non-zero hash and vlan -61", i+1, s)
			}
			if s.ifindex != uint32(res.Ifindex) || s.rxQueue != 0 || s.len != uint32(len(pkt)) {
				t.Errorf("packet %d: ifindex %d queue %d len %d, want %d, 0, %d", i+1, s.ifindex, s.rxQueue, s.len, res.Ifindex, len(pkt))
			}
		}
		// A UDP packet has an L4 hash (XDP_RSS_TYPE_L4_ANY); an ARP packet has none.
		if s := parseSeen(t, seen[0]); s.rssType != 8 {
			t.Errorf("UDP rss_type %#x, want 0x8", s.rssType)
		}
		if s := parseSeen(t, seen[2]); s.rssType != 0 {
			t.Errorf("ARP rss_type %#x, want 0", s.rssType)
		}
	})
	t.Run("nothing is left behind", func(t *testing.T) {
		if got := openFDs(t); got != fds {
			t.Errorf("%d open file descriptors before, %d after", fds, got)
		}
		if got := netnsOfThisThread(t); got != ns {
			t.Errorf("network namespace %s before, %s after", ns, got)
		}
	})
}

func TestRunOnVethCleansUpOnErrors(t *testing.T) {
	requireKernel(t)
	fds := openFDs(t)
	t.Run("a panic inside the namespace becomes an error", func(t *testing.T) {
		_, err := runOnVeth("testdata/xdp_hints.o", Options{}, [][]byte{udp4()}, VethOptions{}, func(*Program) error { panic("boom") })
		if err == nil || !strings.Contains(err.Error(), "panic: boom") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an error inside the namespace is returned", func(t *testing.T) {
		_, err := runOnVeth("testdata/xdp_hints.o", Options{}, [][]byte{udp4()}, VethOptions{}, func(*Program) error { return errors.New("stop here") })
		if err == nil || err.Error() != "stop here" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a runt is refused before anything is set up", func(t *testing.T) {
		_, err := RunOnVeth("testdata/xdp_hints.o", Options{}, [][]byte{make([]byte, 13)}, VethOptions{})
		if err == nil || !strings.Contains(err.Error(), "fewer than 14") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a jumbo packet for a program without frags support cannot be attached", func(t *testing.T) {
		_, err := RunOnVeth("testdata/xdp_hints.o", Options{}, [][]byte{frame(0x0800, 9000)}, VethOptions{})
		// Measured on 6.18: the veth driver refuses the program with ERANGE.
		if err == nil || !strings.Contains(err.Error(), "too large for a program without frags support") || errnoName(err) != "ERANGE" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a map that is not there is an error", func(t *testing.T) {
		_, err := RunOnVeth("testdata/xdp_hints.o", Options{}, [][]byte{udp4()}, VethOptions{Maps: []string{"nope"}})
		if err == nil || !strings.Contains(err.Error(), `no map "nope"`) {
			t.Fatalf("got %v", err)
		}
	})
	if got := openFDs(t); got != fds {
		t.Errorf("%d open file descriptors before, %d after", fds, got)
	}
}

func TestRunOnVethPreloadsMaps(t *testing.T) {
	requireKernel(t)
	pre := result.Maps{".bss": {{Key: "00000000", Value: le32(3)}}}
	// packets starts at 3, so the only packet is recorded in slot 3.
	res, err := RunOnVeth("testdata/xdp_hints.o", Options{}, [][]byte{udp4()}, VethOptions{Preload: pre})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Maps[".bss"][0].Value; got != le32(4) {
		t.Errorf(".bss %s, want packets = 4", got)
	}
	if s := parseSeen(t, res.Maps["seen"][3]); s.len != 60 {
		t.Errorf("slot 3: %+v, want the packet recorded there", s)
	}
	if s := parseSeen(t, res.Maps["seen"][0]); s.len != 0 {
		t.Errorf("slot 0: %+v, want empty", s)
	}
}

func TestRunOnVethPassesJumboFramesToAFragsProgram(t *testing.T) {
	requireKernel(t)
	res, err := RunOnVeth("testdata/xdp_frags.o", Options{Program: "xdp_with_frags"}, [][]byte{frame(0x0800, 100), frame(0x0800, 9000)}, VethOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rets) != 2 || res.Rets[0] != result.XDPPass || res.Rets[1] != result.XDPPass {
		t.Errorf("rets %v, want two XDP_PASS", res.Rets)
	}
	// .bss holds linear_len and buff_len of the last packet: 9000 bytes in all, not all linear.
	b, _ := hex.DecodeString(res.Maps[".bss"][0].Value)
	linear, total := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	if total != 9000 || linear >= 9000 {
		t.Errorf("linear %d, total %d: want 9000 bytes in all, split into fragments", linear, total)
	}
}
