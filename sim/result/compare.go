package result

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// ComparePackets describes how the simulator's result s differs from the kernel's k.
func ComparePackets(n int, s, k Packet) []string {
	var out []string
	switch {
	case (s.Err != "") != (k.Err != ""):
		return []string{fmt.Sprintf("packet %d: run: simulator %s; kernel %s", n, orOK(s.Err), orOK(k.Err))}
	case s.Err != "":
		return nil // both refused it
	}
	if s.Ret != k.Ret {
		if s.Type == TypeTC {
			out = append(out, fmt.Sprintf("packet %d: return value: simulator %d (%s), kernel %d (%s)", n, int32(s.Ret), s.Verdict(), int32(k.Ret), k.Verdict()))
		} else {
			out = append(out, fmt.Sprintf("packet %d: return value: simulator %d (%s), kernel %d (%s)", n, s.Ret, VerdictName(s.Ret), k.Ret, VerdictName(k.Ret)))
		}
	}
	if !bytes.Equal(s.Data, k.Data) {
		out = append(out, fmt.Sprintf("packet %d: data: %s", n, byteDiff(s.Data, k.Data, true)))
	}
	if !bytes.Equal(s.Meta, k.Meta) {
		out = append(out, fmt.Sprintf("packet %d: metadata: %s", n, byteDiff(s.Meta, k.Meta, false)))
	}
	return append(out, compareSkbCtx(n, s.Ctx, k.Ctx)...)
}

// skbCtxFields names the fields of struct __sk_buff that BPF_PROG_TEST_RUN gives back, by offset
// and size.
var skbCtxFields = []struct {
	name      string
	off, size int
}{
	{"mark", 8, 4}, {"priority", 32, 4}, {"ingress_ifindex", 36, 4}, {"ifindex", 40, 4},
	{"cb[0]", 48, 4}, {"cb[1]", 52, 4}, {"cb[2]", 56, 4}, {"cb[3]", 60, 4}, {"cb[4]", 64, 4},
	{"tstamp", 152, 8}, {"wire_len", 160, 4}, {"gso_segs", 164, 4}, {"gso_size", 176, 4}, {"hwtstamp", 184, 8},
}

// compareSkbCtx describes how two __sk_buff contexts a tc test run gave back differ, field by field.
func compareSkbCtx(n int, s, k []byte) []string {
	if bytes.Equal(s, k) {
		return nil
	}
	if len(s) != len(k) {
		return []string{fmt.Sprintf("packet %d: __sk_buff: simulator gave %d bytes back, kernel %d", n, len(s), len(k))}
	}
	var out []string
	for _, f := range skbCtxFields {
		if f.off+f.size > len(s) {
			continue
		}
		a, b := s[f.off:f.off+f.size], k[f.off:f.off+f.size]
		if !bytes.Equal(a, b) {
			out = append(out, fmt.Sprintf("packet %d: __sk_buff %s: simulator %s, kernel %s", n, f.name, Hex(a), Hex(b)))
		}
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("packet %d: __sk_buff: %s", n, byteDiff(s, k, false)))
	}
	return out
}

func orOK(e string) string {
	if e == "" {
		return "ran it"
	}
	return e
}

// byteDiff describes where two byte strings first differ, naming the protocol layer of a frame.
func byteDiff(s, k []byte, frame bool) string {
	i := 0
	for i < len(s) && i < len(k) && s[i] == k[i] {
		i++
	}
	where := ""
	if frame {
		ref := k
		if i >= len(k) {
			ref = s
		}
		where = " (" + layerAt(ref, i) + ")"
	}
	lo := max(0, i-4)
	show := func(b []byte) string {
		hi := min(len(b), i+12)
		if lo >= hi {
			return "(ends)"
		}
		return fmt.Sprintf("% x", b[lo:hi])
	}
	msg := fmt.Sprintf("first difference at byte %d%s; lengths simulator %d, kernel %d\n    simulator [%d:]: %s\n    kernel    [%d:]: %s",
		i, where, len(s), len(k), lo, show(s), lo, show(k))
	return msg
}

// layerAt names the protocol layer byte off of an Ethernet frame falls in, with the offset in it.
func layerAt(frame []byte, off int) string {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	pos := 0
	for _, l := range p.Layers() {
		n := len(l.LayerContents())
		if off < pos+n {
			return fmt.Sprintf("%s header, byte %d", l.LayerType(), off-pos)
		}
		pos += n
		if pl := l.LayerPayload(); len(l.LayerContents()) == 0 && len(pl) == 0 {
			break
		}
	}
	if off < len(frame) {
		return fmt.Sprintf("payload, byte %d", off-pos)
	}
	return "past the end"
}

// CompareMaps describes every difference between two map dumps (the simulator's and the kernel's).
func CompareMaps(sm, km Maps) []string {
	var out []string
	names := map[string]bool{}
	for n := range sm {
		names[n] = true
	}
	for n := range km {
		names[n] = true
	}
	for _, name := range sortedKeys(names) {
		se, sok := sm[name]
		ke, kok := km[name]
		if !sok || !kok {
			out = append(out, fmt.Sprintf("map %s: dumped by %s only", name, map[bool]string{true: "the simulator", false: "the kernel"}[sok]))
			continue
		}
		sk := map[string]MapEntry{}
		for _, e := range se {
			sk[e.Key] = e
		}
		kk := map[string]MapEntry{}
		for _, e := range ke {
			kk[e.Key] = e
		}
		keys := map[string]bool{}
		for k := range sk {
			keys[k] = true
		}
		for k := range kk {
			keys[k] = true
		}
		for _, key := range sortedKeys(keys) {
			a, aok := sk[key]
			b, bok := kk[key]
			switch {
			case !aok:
				out = append(out, fmt.Sprintf("map %s key %s: only the kernel has it (%s)", name, key, entryValue(b)))
			case !bok:
				out = append(out, fmt.Sprintf("map %s key %s: only the simulator has it (%s)", name, key, entryValue(a)))
			case entryValue(a) != entryValue(b):
				out = append(out, fmt.Sprintf("map %s key %s: simulator %s, kernel %s", name, key, entryValue(a), entryValue(b)))
			}
		}
	}
	return out
}

func entryValue(e MapEntry) string {
	if e.Values != nil {
		return "[" + strings.Join(e.Values, " ") + "]"
	}
	return e.Value
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
