package corpus_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
)

var update = flag.Bool("update", false, "relabel corpus/verifier (labels.json and logs/) by asking this kernel (needs root)")

// sourceCase is a program as its source declares it: the comment right above its SEC() line says
// whether the kernel is meant to accept or reject it, and what it shows.
type sourceCase struct {
	category, program, section, intent, description string
	devBound                                        bool
}

// caseRE finds "/* accept: what it shows */ SEC("xdp") [__naked] type name(", or with "accept
// (dev-bound):" for a program to load bound to a device.
var caseRE = regexp.MustCompile(`(?s)/\*\s*(accept|reject)( \(dev-bound\))?:\s*(.*?)\s*\*/\s*\nSEC\("([^"]+)"\)\s*\n[\w\s\*]*?(\w+)\s*\(`)

// secRE finds every SEC() line of a program, to catch programs without their comment.
var secRE = regexp.MustCompile(`(?m)^SEC\("([^"]+)"\)`)

// verifierSources reads the cases of every source of the verifier corpus, in file and source
// order.
func verifierSources(t *testing.T) []sourceCase {
	t.Helper()
	srcs, err := filepath.Glob(filepath.Join(corpus.VerifierDir(), "*.c"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(srcs)
	var out []sourceCase
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		cat := strings.TrimSuffix(filepath.Base(src), ".c")
		ms := caseRE.FindAllStringSubmatch(string(b), -1)
		secs := 0
		for _, m := range secRE.FindAllStringSubmatch(string(b), -1) {
			if m[1] != ".maps" && m[1] != "license" {
				secs++
			}
		}
		if secs != len(ms) {
			t.Errorf("%s: %d programs but %d of them have an /* accept: ... */ or /* reject: ... */ comment right above SEC()", src, secs, len(ms))
		}
		for _, m := range ms {
			out = append(out, sourceCase{category: cat, program: m[5], section: m[4], intent: m[1],
				devBound: m[2] != "", description: strings.Join(strings.Fields(m[3]), " ")})
		}
	}
	return out
}

func TestEveryVerifierCaseIsInItsSourceItsObjectAndTheLabels(t *testing.T) {
	cases, err := corpus.VerifierCases()
	if err != nil {
		t.Fatal(err)
	}
	labelled := map[string]corpus.VerifierCase{}
	for _, c := range cases {
		if _, dup := labelled[c.Name()]; dup {
			t.Errorf("%s is labelled twice", c.Name())
		}
		labelled[c.Name()] = c
	}
	srcs := verifierSources(t)
	specs := map[string]*ebpf.CollectionSpec{}
	for _, s := range srcs {
		name := s.category + "/" + s.program
		spec := specs[s.category]
		if spec == nil {
			if spec, err = ebpf.LoadCollectionSpec(filepath.Join(corpus.VerifierDir(), s.category+".o")); err != nil {
				t.Fatal(err)
			}
			specs[s.category] = spec
		}
		ps, ok := spec.Programs[s.program]
		if !ok {
			t.Errorf("%s: no program %s in %s.o (rebuild with corpus/verifier/build.sh)", name, s.program, s.category)
		} else if ps.SectionName != s.section {
			t.Errorf("%s: section %q in the object, %q in the source", name, ps.SectionName, s.section)
		}
		c, ok := labelled[name]
		if !ok {
			t.Errorf("%s is not labelled (run the labelling test with -update as root)", name)
			continue
		}
		delete(labelled, name)
		if c.Verdict != s.intent {
			t.Errorf("%s: the source says %s, the kernel's label says %s", name, s.intent, c.Verdict)
		}
		if c.Description != s.description || c.Section != s.section || c.Object != s.category+".o" || c.DevBound != s.devBound {
			t.Errorf("%s: the labels' description, section or object differ from the source's (relabel)", name)
		}
		if _, err := os.Stat(c.LogPath()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name := range labelled {
		t.Errorf("%s is labelled but in no source", name)
	}
	if len(cases) < 150 {
		t.Errorf("the verifier corpus has %d cases, want at least 150", len(cases))
	}
}

func TestVerifierObjectsAreRebuiltByteForByte(t *testing.T) {
	if _, err := exec.LookPath("clang-19"); err != nil {
		t.Skip("clang-19 is not installed:", err)
	}
	if _, err := exec.LookPath("llvm-strip-19"); err != nil {
		t.Skip("llvm-strip-19 is not installed:", err)
	}
	tmp := t.TempDir()
	srcs, _ := filepath.Glob(filepath.Join(corpus.VerifierDir(), "*.c"))
	cmd := exec.Command("sh", "build.sh")
	cmd.Dir = corpus.VerifierDir()
	cmd.Env = append(os.Environ(), "OUT="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	for _, src := range srcs {
		if !strings.HasSuffix(src, ".c") {
			continue
		}
		obj := strings.TrimSuffix(filepath.Base(src), ".c") + ".o"
		fresh, err := os.ReadFile(filepath.Join(tmp, obj))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(corpus.VerifierDir(), obj))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s differs from a fresh build of its source (run corpus/verifier/build.sh %s)", obj, filepath.Base(src))
		}
	}
}

// kernelRelease is the running kernel's release, "6.18.44-...".
func kernelRelease(t *testing.T) string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	return unix.ByteSliceToString(u.Release[:])
}

// majorMinor is "6.18" of "6.18.44-fc".
func majorMinor(release string) string {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return release
	}
	return parts[0] + "." + parts[1]
}

// TestVerifierLabels asks the kernel about every case of the verifier corpus, twice, and checks
// that it says the same both times and what labels.json and logs/ recorded. With -update it
// writes them instead. Accepted programs are also run once.
func TestVerifierLabels(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skip(err)
	}
	old, err := corpus.ParseVerifierLabels(mustRead(t, filepath.Join(corpus.VerifierDir(), "labels.json")))
	if err != nil && !*update {
		t.Fatal(err)
	}
	release := kernelRelease(t)
	if !*update && majorMinor(release) != majorMinor(old.Kernel) {
		t.Skipf("the labels were made on Linux %s, this is %s: its verifier may differ", old.Kernel, release)
	}
	start := time.Now()
	srcs := verifierSources(t)
	specs := map[string]*ebpf.CollectionSpec{}
	for _, s := range srcs {
		if specs[s.category] == nil {
			if specs[s.category], err = ebpf.LoadCollectionSpec(filepath.Join(corpus.VerifierDir(), s.category+".o")); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The cases are independent: ask the kernel about several at once.
	type outcome struct {
		c   corpus.VerifierCase
		log string
		err error
		d   time.Duration
	}
	results := make([]outcome, len(srcs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				c, log, err := labelCase(specs[srcs[i].category], srcs[i])
				results[i] = outcome{c, log, err, time.Since(t0)}
			}
		}()
	}
	for i := range srcs {
		next <- i
	}
	close(next)
	wg.Wait()

	fresh := &corpus.VerifierLabels{Kernel: release, LogLevel: 1}
	logs := map[string]string{}
	for i, s := range srcs {
		r := results[i]
		if r.d > 2*time.Second {
			t.Logf("%s/%s took the kernel %v", s.category, s.program, r.d.Round(time.Millisecond))
		}
		if r.err != nil {
			t.Errorf("%s/%s: %v", s.category, s.program, r.err)
			continue
		}
		if r.c.Verdict != s.intent {
			t.Errorf("%s: the source says %s, the kernel says %s: %s", r.c.Name(), s.intent, r.c.Verdict, r.c.Message)
		}
		fresh.Cases = append(fresh.Cases, r.c)
		logs[r.c.LogPath()] = r.log
	}
	t.Logf("%d cases labelled by Linux %s in %v", len(fresh.Cases), release, time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		return
	}
	if *update {
		writeLabels(t, fresh, logs)
		return
	}
	compareLabels(t, old, fresh, logs)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !*update {
		t.Fatal(err)
	}
	return b
}

// labelCase asks the kernel about one case: at log level 1 twice (the verdict must be stable)
// with one test run of an accepted program, and, unless the walk is long (10,000 instructions
// processed or more: its level-2 log runs to megabytes), at level 2 to check that the blamed
// instruction and message read the same off the longer log.
func labelCase(spec *ebpf.CollectionSpec, s sourceCase) (corpus.VerifierCase, string, error) {
	obj := s.category + ".o"
	c := corpus.VerifierCase{Object: obj, Program: s.program, Category: s.category, Section: s.section,
		DevBound: s.devBound, Description: s.description}
	v, err := kernel.VerifySpec(obj, spec, kernel.VerifyOptions{Program: s.program, DevBound: s.devBound, TestRun: true})
	if err != nil {
		return c, "", err
	}
	again, err := kernel.VerifySpec(obj, spec, kernel.VerifyOptions{Program: s.program, DevBound: s.devBound})
	if err != nil {
		return c, "", err
	}
	log := normaliseLog(v.Log)
	if again.Accepted != v.Accepted || again.Insn != v.Insn || again.Message != v.Message || again.Errno != v.Errno ||
		again.Stats != v.Stats || normaliseLog(again.Log) != log {
		return c, "", fmt.Errorf("the kernel said different things on two loads:\n%s\nthen\n%s", v.Log, again.Log)
	}
	if v.Stats.Processed < 10000 {
		v2, err := kernel.VerifySpec(obj, spec, kernel.VerifyOptions{Program: s.program, DevBound: s.devBound, LogLevel: 2})
		if err != nil {
			return c, "", err
		}
		if v2.Accepted != v.Accepted || v2.Insn != v.Insn || v2.Message != v.Message {
			return c, "", fmt.Errorf("level 2 reads %v insn %d %q, level 1 %v insn %d %q:\n%s", v2.Accepted, v2.Insn, v2.Message, v.Accepted, v.Insn, v.Message, v2.Log)
		}
	}
	c.Verdict, c.Insn, c.Message, c.Errno = "reject", v.Insn, v.Message, v.Errno
	if v.Accepted {
		c.Verdict = "accept"
	}
	c.Processed, c.MaxStatesPerInsn, c.TotalStates, c.PeakStates, c.MarkRead = -1, -1, -1, -1, -1
	if st := v.Stats; st.Found {
		c.Processed, c.MaxStatesPerInsn, c.TotalStates, c.PeakStates, c.MarkRead = st.Processed, st.MaxStatesPerInsn, st.TotalStates, st.PeakStates, st.MarkRead
	}
	if r := v.Run; r != nil {
		if r.Err != "" {
			c.RunError = r.Err
		} else {
			ret := r.Ret
			c.RunRet = &ret
		}
	}
	return c, log, nil
}

var (
	kernelAddrRE = regexp.MustCompile(`0xffff[0-9a-f]{12}\b`)
	// kfuncIDRE is a kfunc call, which the log prints with its BTF id ("call
	// bpf_dynptr_from_xdp#63308"): an id that depends on the kernel's build, unlike a helper's
	// number (below 1000).
	kfuncIDRE = regexp.MustCompile(`(call \w+)#\d{4,}\b`)
)

// logKeep is how many lines a kept log holds at each end when it is longer than twice that.
const logKeep = 150

// normaliseLog makes a log fit to keep: kernel addresses (an lddw of a map prints one) become
// "<kaddr>", kfunc BTF ids "<btf_id>", and a log longer than 2*logKeep lines keeps its first and
// last logKeep lines.
func normaliseLog(log string) string {
	log = kernelAddrRE.ReplaceAllString(log, "<kaddr>")
	log = kfuncIDRE.ReplaceAllString(log, "$1#<btf_id>")
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 2*logKeep {
		cut := fmt.Sprintf("[... %d lines left out ...]", len(lines)-2*logKeep)
		lines = slices.Concat(lines[:logKeep], []string{cut}, lines[len(lines)-logKeep:])
	}
	return strings.Join(lines, "\n") + "\n"
}

// marshalLabels writes one case per line, so that diffs of relabelling read case by case.
func marshalLabels(l *corpus.VerifierLabels) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n\"kernel\": %q,\n\"log_level\": %d,\n\"cases\": [\n", l.Kernel, l.LogLevel)
	for i, c := range l.Cases {
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimSuffix(line.Bytes(), []byte("\n")))
		if i < len(l.Cases)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n}\n")
	return b.Bytes(), nil
}

func writeLabels(t *testing.T, l *corpus.VerifierLabels, logs map[string]string) {
	b, err := marshalLabels(l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := corpus.ParseVerifierLabels(b); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(corpus.VerifierDir(), "logs")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, log := range logs {
		if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(corpus.VerifierDir(), "labels.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote labels.json and %d logs", len(logs))
}

func compareLabels(t *testing.T, old, fresh *corpus.VerifierLabels, logs map[string]string) {
	want := map[string]corpus.VerifierCase{}
	for _, c := range old.Cases {
		want[c.Name()] = c
	}
	for _, c := range fresh.Cases {
		w, ok := want[c.Name()]
		if !ok {
			t.Errorf("%s: not in labels.json (relabel with -update)", c.Name())
			continue
		}
		delete(want, c.Name())
		got, _ := json.Marshal(c)
		exp, _ := json.Marshal(w)
		if !bytes.Equal(got, exp) {
			t.Errorf("%s: Linux %s now says\n  %s\nlabels.json (Linux %s) says\n  %s", c.Name(), fresh.Kernel, got, old.Kernel, exp)
		}
		kept, err := os.ReadFile(c.LogPath())
		if err != nil {
			t.Errorf("%s: %v", c.Name(), err)
		} else if string(kept) != logs[c.LogPath()] {
			t.Errorf("%s: the kernel's log differs from %s:\n%s", c.Name(), c.LogPath(), logs[c.LogPath()])
		}
	}
	for name := range want {
		t.Errorf("%s: labelled but no longer in the sources", name)
	}
}

func TestTheVerifierREADMECountsTheCases(t *testing.T) {
	cases, err := corpus.VerifierCases()
	if err != nil {
		t.Fatal(err)
	}
	type count struct{ accept, reject int }
	want := map[string]*count{"**total**": {}}
	for _, c := range cases {
		n := want["`"+c.Category+"`"]
		if n == nil {
			n = &count{}
			want["`"+c.Category+"`"] = n
		}
		for _, n := range []*count{n, want["**total**"]} {
			if c.Accepted() {
				n.accept++
			} else {
				n.reject++
			}
		}
	}
	readme := string(mustRead(t, filepath.Join(corpus.VerifierDir(), "README.md")))
	_, table, ok := strings.Cut(readme, "| category | accept | reject |")
	if !ok {
		t.Fatal("README.md has no category table")
	}
	rowRE := regexp.MustCompile(`(?m)^\| (\S+) \| \**(\d+)\** \| \**(\d+)\** \|`)
	seen := map[string]bool{}
	for _, m := range rowRE.FindAllStringSubmatch(table, -1) {
		seen[m[1]] = true
		n := want[m[1]]
		if n == nil {
			t.Errorf("README.md lists %s, which has no cases", m[1])
			continue
		}
		if got := m[2] + "/" + m[3]; got != fmt.Sprintf("%d/%d", n.accept, n.reject) {
			t.Errorf("README.md counts %s as %s accepted/rejected, labels.json %d/%d", m[1], got, n.accept, n.reject)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("README.md's table lacks %s", k)
		}
	}
}
