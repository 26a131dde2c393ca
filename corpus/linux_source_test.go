package corpus_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/kernel"
)

// linuxSource is the tarball Debian's linux-source-6.12 package installs: the kernel's BPF
// selftests and samples, read at test time (nothing of them is copied into the project).
const (
	linuxSource        = "/usr/src/linux-source-6.12.tar.xz"
	linuxSourcePackage = "linux-source-6.12"
)

// linuxSourceMembers are the parts of the tarball the test extracts (tar member patterns, below
// the tarball's top directory): the selftests' programs and headers, the samples, libbpf's
// headers of that release with what makes its bpf_helper_defs.h, and the UAPI headers.
var linuxSourceMembers = []string{
	"tools/testing/selftests/bpf/progs/*",
	"tools/testing/selftests/bpf/*.h",
	"samples/bpf/*",
	"tools/lib/bpf/*.h",
	"tools/include/uapi/*",
	"tools/include/linux/filter.h",
	"scripts/bpf_doc.py",
	"include/uapi/linux/bpf.h",
}

// xdpOrTCSection finds a source that defines an XDP or tc program.
var xdpOrTCSection = regexp.MustCompile(`SEC\("\??(xdp|tcx?|classifier)["/.]`)

// linuxSourceKnown are the programs on which xdpsim's verifier is known to part from Linux's,
// with the reason (what xdpsim does not model). A new disagreement fails the test; so does an
// entry that no longer disagrees.
var linuxSourceKnown = []knownDisagreement{}

// TestLinuxSourceXDPAndTCProgramsGetTheKernelsVerdict holds xdpsim's verifier to the kernel's on
// the XDP and tc programs of the kernel's own BPF selftests and samples, as Debian's
// linux-source-6.12 package ships them: katran's balancer as the selftests keep it
// (test_xdp_noinline.c, test_l4lb*.c), xdp_synproxy_kern.c, the test_xdp*.c and xdp_*.c programs,
// the verifier_*.c suites (programs written to be accepted and to be refused), and the samples'
// XDP programs. Each source is compiled here with clang-19 against a vmlinux.h of the running
// kernel and the headers of the tarball; every XDP and SCHED_CLS program the kernel gives a
// verdict on must get the same from xdpsim (and the same blamed instruction on a refusal), but
// for the known disagreements listed in linuxSourceKnown. Sources that do not compile here and
// programs the kernel cannot load before its verifier speaks (a test module's kfunc, say) are
// listed with the reason.
func TestLinuxSourceXDPAndTCProgramsGetTheKernelsVerdict(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(linuxSource); err != nil {
		t.Skipf("SKIP: no %s: install %s (apt-get install --no-install-recommends %s) for the kernel's BPF selftests and samples", linuxSource, linuxSourcePackage, linuxSourcePackage)
	}
	for _, tool := range []string{"clang-19", "bpftool", "tar", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s not found: the kernel's selftests are compiled here", tool)
		}
	}
	ncpu, err := kernel.PossibleCPUs()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	src, inc := extractLinuxSource(t)
	extracted := time.Since(start)

	var candidates []string
	for _, glob := range []string{"tools/testing/selftests/bpf/progs/*.c", "samples/bpf/*.c"} {
		paths, _ := filepath.Glob(filepath.Join(src, glob))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if xdpOrTCSection.Match(b) {
				candidates = append(candidates, p)
			}
		}
	}
	if len(candidates) == 0 {
		t.Fatalf("no XDP or tc program source in %s", linuxSource)
	}
	objs, failed := compileLinuxSources(t, src, inc, candidates)
	compiled := time.Since(start) - extracted
	t.Logf("%d of %d sources with XDP or tc programs compiled (extraction %v, compilation %v)", len(objs), len(candidates), extracted.Round(time.Second), compiled.Round(time.Second))
	for _, f := range failed {
		t.Log("not compiled: " + f)
	}
	var objects []verifiedObject
	for _, o := range objs {
		objects = append(objects, verifiedObject{path: o, foreign: true})
	}
	tl := compareVerdicts(t, ncpu, objects, linuxSourceKnown...)
	tl.log(t)
	t.Logf("verification by both took %v", (time.Since(start) - extracted - compiled).Round(time.Second))
}

// extractLinuxSource extracts linuxSourceMembers of the tarball into a directory of the test
// and makes the headers the programs need beside it: a vmlinux.h of the running kernel and
// libbpf's bpf_helper_defs.h generated from the tarball's UAPI header (when python3 is at hand;
// else libbpf-dev's headers are used). It returns the source tree and the include directory.
func extractLinuxSource(t *testing.T) (src, inc string) {
	t.Helper()
	dir := t.TempDir()
	src = filepath.Join(dir, "linux")
	inc = filepath.Join(dir, "include")
	for _, d := range []string{src, filepath.Join(inc, "bpf")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	top := strings.TrimSuffix(filepath.Base(linuxSource), ".tar.xz")
	args := []string{"-xJf", linuxSource, "-C", src, "--strip-components=1", "--wildcards"}
	for _, m := range linuxSourceMembers {
		args = append(args, top+"/"+m)
	}
	if out, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		t.Fatalf("tar %s: %v\n%s", linuxSource, err, out)
	}
	vmlinux, err := exec.Command("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
	if err != nil {
		t.Fatalf("bpftool btf dump of /sys/kernel/btf/vmlinux: %v", err)
	}
	if err := os.WriteFile(filepath.Join(inc, "vmlinux.h"), vmlinux, 0o644); err != nil {
		t.Fatal(err)
	}
	// libbpf's headers of the same release as the selftests, which use its newer macros.
	cmd := exec.Command("python3", filepath.Join(src, "scripts", "bpf_doc.py"), "--header", "--file", filepath.Join(src, "include", "uapi", "linux", "bpf.h"))
	defs, err := cmd.Output()
	if err != nil {
		t.Logf("bpf_helper_defs.h not generated (%v): libbpf-dev's headers are used", err)
		return src, inc
	}
	headers, _ := filepath.Glob(filepath.Join(src, "tools", "lib", "bpf", "*.h"))
	for _, h := range headers {
		b, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(inc, "bpf", filepath.Base(h)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(inc, "bpf", "bpf_helper_defs.h"), defs, 0o644); err != nil {
		t.Fatal(err)
	}
	return src, inc
}

// compileLinuxSources compiles the sources with clang-19 as the selftests' Makefile does (-O2
// -g -target bpf -mcpu=v3), on as many workers as there are CPUs, into the directory of inc. It
// returns the objects and, for the sources that failed, "name: first error line".
func compileLinuxSources(t *testing.T, src, inc string, sources []string) (objs, failed []string) {
	t.Helper()
	out := filepath.Join(filepath.Dir(inc), "obj")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	selftests := filepath.Join(src, "tools", "testing", "selftests", "bpf")
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				name := strings.TrimSuffix(filepath.Base(s), ".c")
				obj := filepath.Join(out, name+".o")
				cmd := exec.Command("clang-19", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86",
					"-Wno-compare-distinct-pointer-types", "-I"+inc, "-I"+filepath.Dir(s), "-I"+selftests,
					// for <../../../tools/include/linux/filter.h>, as some verifier_*.c include it
					"-I"+filepath.Dir(selftests),
					"-I"+filepath.Join(src, "tools", "include", "uapi"), "-I/usr/include/x86_64-linux-gnu",
					"-c", s, "-o", obj)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				mu.Lock()
				if err != nil {
					failed = append(failed, fmt.Sprintf("%s: %s", relTo(src, s), firstError(stderr.String(), err)))
				} else {
					objs = append(objs, obj)
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range sources {
		work <- s
	}
	close(work)
	wg.Wait()
	sort.Strings(objs)
	sort.Strings(failed)
	return objs, failed
}

// firstError is the first "error:" line of clang's output, without the path before it.
func firstError(out string, err error) string {
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "error: "); i >= 0 {
			return l[i:]
		}
	}
	return err.Error()
}

// relTo is path relative to dir.
func relTo(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil {
		return r
	}
	return path
}
