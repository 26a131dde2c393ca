package conntrack

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// layout618 is struct nf_conn of Linux 6.18 x86_64, as `bpftool btf dump file
// /sys/kernel/btf/vmlinux` prints it (bits_offset / 8).
var layout618 = Layout{Size: 248, Timeout: 8, Zone: 12, Status: 128, Mark: 168, Tuple: [2]int{32, 88},
	SrcAddr: 0, SrcPort: 16, L3Num: 18, DstAddr: 20, DstPort: 36, Proto: 38, Dir: 39}

const hz = 250

func tuple(src string, sport uint16, dst string, dport uint16) Tuple {
	return Tuple{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), SrcPort: sport, DstPort: dport, Proto: TCP}
}

func TestTableLookupInsertAndExpiry(t *testing.T) {
	tb := NewTable(layout618, hz)
	tb.BeginRun(1000)
	orig := tuple("192.0.2.1", 40000, "198.51.100.7", 80)
	e, err := tb.Alloc(orig, orig.Reverse(), Zone{}, 10*hz)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a fresh allocation is not in the table", func(t *testing.T) {
		if _, _, ok := tb.Lookup(orig, Zone{}); ok {
			t.Error("found before insertion")
		}
		if e.Status() != 0 || e.Timeout() != 10*hz {
			t.Errorf("status %#x timeout %d, want 0 and %d (relative)", e.Status(), e.Timeout(), 10*hz)
		}
	})
	t.Run("insertion confirms the entry and starts its timeout", func(t *testing.T) {
		if !tb.Insert(e) {
			t.Fatal("insert failed")
		}
		if e.Status() != Confirmed || e.Timeout() != 1000+10*hz {
			t.Errorf("status %#x timeout %d, want CONFIRMED and %d", e.Status(), e.Timeout(), 1000+10*hz)
		}
	})
	t.Run("both directions find it, saying which matched", func(t *testing.T) {
		if got, dir, ok := tb.Lookup(orig, Zone{}); !ok || got != e || dir != 0 {
			t.Errorf("original: %v %d %v", got, dir, ok)
		}
		if got, dir, ok := tb.Lookup(orig.Reverse(), Zone{}); !ok || got != e || dir != 1 {
			t.Errorf("reply: %v %d %v", got, dir, ok)
		}
	})
	t.Run("another zone does not find it", func(t *testing.T) {
		if _, _, ok := tb.Lookup(orig, Zone{ID: 7, Dir: DefaultZoneDir}); ok {
			t.Error("found in zone 7")
		}
	})
	t.Run("a second entry with either tuple is not inserted", func(t *testing.T) {
		dup, _ := tb.Alloc(orig.Reverse(), orig, Zone{}, hz)
		if tb.Insert(dup) {
			t.Error("duplicate inserted")
		}
	})
	t.Run("the image holds the tuples where the kernel's struct has them", func(t *testing.T) {
		img := e.Image()
		if img[32+18] != afInet || img[32+38] != TCP || img[88+39] != 1 {
			t.Errorf("l3num %d proto %d reply dir %d", img[32+18], img[32+38], img[88+39])
		}
		if got := netip.AddrFrom4([4]byte(img[32:36])); got != orig.Src {
			t.Errorf("original source %s", got)
		}
		if img[32+16] != 0x9c || img[32+17] != 0x40 { // 40000, big-endian
			t.Errorf("original source port bytes %x", img[32+16:32+18])
		}
	})
	t.Run("the entry expires when its timeout passes", func(t *testing.T) {
		tb.BeginRun(1000 + 10*hz - 1)
		if _, _, ok := tb.Lookup(orig, Zone{}); !ok {
			t.Fatal("gone a jiffy early")
		}
		tb.BeginRun(1000 + 10*hz)
		if _, _, ok := tb.Lookup(orig, Zone{}); ok {
			t.Error("found at its timeout")
		}
		if tb.Len() != 0 {
			t.Errorf("%d entries left", tb.Len())
		}
	})
}

func TestChangeStatusAndTimeout(t *testing.T) {
	tb := NewTable(layout618, hz)
	tb.BeginRun(0)
	orig := tuple("10.0.0.1", 1, "10.0.0.2", 2)
	e, _ := tb.Alloc(orig, orig.Reverse(), Zone{}, hz)
	for _, tc := range []struct {
		name   string
		status uint32
		want   int
		after  uint64
	}{
		{"SEEN_REPLY and ASSURED may be set", SeenReply | Assured, 0, SeenReply | Assured},
		{"unchangeable bits are ignored", SeenReply | Assured | SrcNAT | Template, 0, SeenReply | Assured},
		{"omitting a bit clears nothing", SeenReply | Assured | FixedTimeout, 0, SeenReply | Assured | FixedTimeout},
		{"clearing ASSURED is refused", SeenReply | FixedTimeout, -16, SeenReply | Assured | FixedTimeout},
		{"setting CONFIRMED is refused", SeenReply | Assured | Confirmed, -16, SeenReply | Assured | FixedTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tb.ChangeStatus(e, tc.status); got != tc.want {
				t.Errorf("returned %d, want %d", got, tc.want)
			}
			if e.Status() != tc.after {
				t.Errorf("status %v, want %v", Status(e.Status()), Status(tc.after))
			}
		})
	}
	t.Run("a fixed timeout cannot change", func(t *testing.T) {
		if got := tb.ChangeTimeout(e, 5); got != -1 {
			t.Errorf("returned %d", got)
		}
	})
	t.Run("milliseconds round up to jiffies", func(t *testing.T) {
		if got := tb.MsecsToJiffies(1001); got != 251 {
			t.Errorf("1001 ms = %d jiffies", got)
		}
	})
}

func TestSetNAT(t *testing.T) {
	tb := NewTable(layout618, hz)
	orig := tuple("10.0.0.1", 1000, "192.0.2.9", 53)
	e, _ := tb.Alloc(orig, orig.Reverse(), Zone{}, hz)
	if got := tb.SetNAT(e, netip.MustParseAddr("203.0.113.1"), 4000, ManipSrc); got != 0 {
		t.Fatalf("returned %d", got)
	}
	want := tuple("192.0.2.9", 53, "203.0.113.1", 4000)
	if e.Reply() != want || e.Status() != SrcNAT|SrcNATDone {
		t.Errorf("reply %s status %v, want %s and SRC_NAT|SRC_NAT_DONE", e.Reply(), Status(e.Status()), want)
	}
	d, _ := tb.Alloc(orig, orig.Reverse(), Zone{}, hz)
	tb.SetNAT(d, orig.Dst, 0, ManipDst)
	if d.Reply() != orig.Reverse() || d.Status() != DstNATDone {
		t.Errorf("a destination NAT to the same address: reply %s status %v", d.Reply(), Status(d.Status()))
	}
}

func TestPreloadAndDump(t *testing.T) {
	in := `[{"proto":"tcp","orig":{"src":"192.0.2.1","sport":40000,"dst":"198.51.100.7","dport":80},"status":"SEEN_REPLY|ASSURED","timeout":120,"mark":7},
	        {"proto":"udp","orig":{"src":"2001:db8::1","sport":5353,"dst":"2001:db8::2","dport":53},"reply":{"src":"2001:db8::2","sport":53,"dst":"2001:db8::99","dport":5353},"status":0,"timeout":30,"zone":4}]`
	var recs []Record
	if err := json.Unmarshal([]byte(in), &recs); err != nil {
		t.Fatal(err)
	}
	tb := NewTable(layout618, hz)
	if err := tb.Preload(recs); err != nil {
		t.Fatal(err)
	}
	tb.BeginRun(5000)
	tb.BeginRun(5000 + 20*hz) // 20 s later
	out, err := json.Marshal(tb.Dump())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"proto":"tcp","orig":{"src":"192.0.2.1","sport":40000,"dst":"198.51.100.7","dport":80},"status":"SEEN_REPLY|ASSURED|CONFIRMED","timeout":100,"mark":7},` +
		`{"proto":"udp","orig":{"src":"2001:db8::1","sport":5353,"dst":"2001:db8::2","dport":53},"reply":{"src":"2001:db8::2","sport":53,"dst":"2001:db8::99","dport":5353},"status":"CONFIRMED","timeout":10,"zone":4}]`
	if string(out) != want {
		t.Errorf("dump\n%s\nwant\n%s", out, want)
	}
	t.Run("a preloaded entry is found from the first run on", func(t *testing.T) {
		if _, _, ok := tb.Lookup(tuple("198.51.100.7", 80, "192.0.2.1", 40000), Zone{}); !ok {
			t.Error("reply direction not found")
		}
	})
	for _, tc := range []struct{ name, in, err string }{
		{"an entry without a timeout is refused", `[{"proto":"tcp","orig":{"src":"10.0.0.1","sport":1,"dst":"10.0.0.2","dport":2}}]`, "timeout"},
		{"an unknown protocol is refused", `[{"proto":"sctp","orig":{"src":"10.0.0.1","sport":1,"dst":"10.0.0.2","dport":2},"timeout":1}]`, "tcp and udp"},
		{"mixed families are refused", `[{"proto":"tcp","orig":{"src":"10.0.0.1","sport":1,"dst":"::1","dport":2},"timeout":1}]`, "different families"},
		{"two entries of one connection are refused", `[{"proto":"tcp","orig":{"src":"10.0.0.1","sport":1,"dst":"10.0.0.2","dport":2},"timeout":1},{"proto":"tcp","orig":{"src":"10.0.0.2","sport":2,"dst":"10.0.0.1","dport":1},"timeout":1}]`, "entry 1"},
		{"an unknown status flag is refused", `[{"proto":"tcp","orig":{"src":"10.0.0.1","sport":1,"dst":"10.0.0.2","dport":2},"status":"ESTABLISHED","timeout":1}]`, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recs []Record
			err := json.Unmarshal([]byte(tc.in), &recs)
			if err == nil {
				err = NewTable(layout618, hz).Preload(recs)
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("got %v, want an error saying %q", err, tc.err)
			}
		})
	}
}
