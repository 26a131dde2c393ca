package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
	"github.com/xdpsim/xdpsim/vm"
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
		{"show --html with a --packet of several is refused before anything is drawn", []string{"show", "--html", filepath.Join(t.TempDir(), "p.html"), "--packet", "1-3", obj, trace}, 2, "--html draws one packet: --packet 1-3 selects more"},
		{"debug refuses --fail-on, which it cannot check", []string{"debug", "--fail-on", "tx", obj, trace}, 2, "--fail-on: debug runs the packets you step through"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, tt.args...)
			if rc != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", rc, stderr, tt.code, tt.want)
			}
			if rc == 2 && stdout != "" {
				t.Errorf("refused, yet printed %.200q", stdout)
			}
		})
	}
}

func TestSeveralObjectsTakeTheTCAndHelperFlags(t *testing.T) {
	acl, echo := objectOf(t, "disp_acl"), objectOf(t, "disp_echo")
	nat := tcObjectOf(t, "tc_nat44")
	trace := corpus.TracePath("mixed.pcap")
	t.Run("--tc puts the tc program behind the dispatcher: what XDP passes reaches it", func(t *testing.T) {
		rc, stdout, stderr := runCmd(t, "run", acl, echo, "--tc", nat, "--", trace)
		if rc != 0 {
			t.Fatalf("exit %d: %s", rc, stderr)
		}
		passed := summaryCount(t, stdout, "XDP_PASS")
		i := strings.Index(stdout, "at tc ingress (tc_nat44):")
		if i < 0 {
			t.Fatalf("no tc ingress in the summary:\n%s", stdout)
		}
		reached := 0
		for _, line := range strings.Split(strings.TrimSpace(stdout[i:]), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 2 || !strings.HasPrefix(line, "    ") {
				break
			}
			reached += summaryCount(t, line, strings.Join(f[:len(f)-1], " "))
		}
		if reached != passed {
			t.Errorf("tc ingress counts %d packets, XDP passed %d:\n%s", reached, passed, stdout)
		}
	})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--tc naming an object without a tc program lists its programs", []string{"run", acl, echo, "--tc", echo, "--", trace}, "the object holds no tc program; programs: xdp_echo"},
		{"a bad --task is read, not ignored", []string{"run", acl, echo, "--task", "bogus", "--", trace}, `--task "bogus"`},
		{"a bad --syncookie-secret is read, not ignored", []string{"run", acl, echo, "--syncookie-secret", "zz", "--", trace}, "--syncookie-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name+", exit 2", func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
}

// summaryCount reads the number after label in a run summary.
func summaryCount(t *testing.T, summary, label string) int {
	t.Helper()
	for _, line := range strings.Split(summary, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.Join(f[:len(f)-1], " ") == label {
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no %q in the summary:\n%s", label, summary)
	return 0
}

func TestATopologyRefusesTheHelperFlagsItCannotApply(t *testing.T) {
	s := corpus.NetkitSetups()[0]
	for _, flag := range []string{"--task", "--syncookie-secret", "--conntrack-in", "--conntrack"} {
		t.Run(flag+" with --topology exits 2 naming the flag", func(t *testing.T) {
			rc, _, stderr := runCmd(t, "run", "--topology", corpus.NetkitPath(s.Topology), flag, "x", corpus.NetkitPath(s.Traces[0]))
			if rc != 2 || !strings.Contains(stderr, flag+": not available with --topology") {
				t.Errorf("exit %d, stderr %q", rc, stderr)
			}
		})
	}
}

func TestDiffNamesTheKernelOnce(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("no kernel to load into: %v", err)
	}
	rc, _, stderr := runCmd(t, "diff", "-p", "kprobe_open", mixedObject, corpus.TracePath("vlan.pcap"))
	if rc != 2 || !strings.Contains(stderr, "xdpsim diff: kernel: "+mixedObject+": program kprobe_open is of type Kprobe") {
		t.Errorf("exit %d, stderr %q", rc, stderr)
	}
}

func TestEveryHelpListsFlagsAsFlagAndValue(t *testing.T) {
	// pflag takes a help text's first `quoted` words as the flag's value name: a quoted command
	// in a help text turns "--devices FILE" into "--devices xdpsim dev set --devices FILE".
	flagLine := regexp.MustCompile(`^ +(-\w, )?--[a-z0-9-]+( [A-Za-z0-9]+)?  +\S`)
	for _, cmd := range []string{"run", "diff", "test", "dump", "verify", "show", "debug", "devices", "dev", "status", "exec"} {
		t.Run("xdpsim "+cmd+" --help", func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, cmd, "--help")
			if rc != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", rc, stderr)
			}
			flags := 0
			for _, line := range strings.Split(stdout, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "-") {
					continue
				}
				flags++
				if !flagLine.MatchString(line) {
					t.Errorf("flag line %q is not FLAG [VALUE] then help", line)
				}
			}
			if flags == 0 && cmd != "debug" {
				t.Errorf("no flags listed:\n%s", stdout)
			}
		})
	}
}

func TestBadFilesAreNamedAndLeaveNothingBehind(t *testing.T) {
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	write := func(name string, data []byte) string {
		if err := os.WriteFile(in(name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return in(name)
	}
	elf, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	empty := write("empty.o", nil)
	truncated := write("truncated.o", elf[:1000])
	notELF := write("pcap.o", []byte("\xd4\xc3\xb2\xa1 a pcap header, not an ELF one"))
	if err := os.Mkdir(in("dir.o"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Three whole records, then half of a fourth.
	three := writePcap(t, in("three.pcap"), ethFrame(60), ethFrame(60), ethFrame(60))
	whole, err := os.ReadFile(three)
	if err != nil {
		t.Fatal(err)
	}
	midRecord := write("mid-record.pcap", append(whole, whole[24:24+16+30]...))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an empty object", []string{"run", empty, trace}, "empty.o: not a BPF object: the file is empty"},
		{"a truncated object", []string{"dump", truncated}, "truncated.o: not a loadable BPF object: the ELF file ends early (truncated?)"},
		{"a pcap given as the object", []string{"verify", notELF}, "pcap.o: not a BPF object: not an ELF file (build one with clang -target bpf -c)"},
		{"a directory given as the object", []string{"show", "--packet", "1", in("dir.o"), trace}, "dir.o: is a directory, not a BPF object"},
		{"a missing object", []string{"run", in("none.o"), trace}, "none.o: no such file"},
		{"the object given as the trace", []string{"run", obj, obj}, "udp_echo.v4.o: is an ELF object, not a pcap or pcapng trace"},
		{"a directory given as the trace", []string{"run", obj, in("dir.o")}, "dir.o: is a directory, not a trace"},
		{"- given as the trace", []string{"run", obj, "-"}, "-: a trace is a file, not standard input: give /dev/stdin to read a pipe"},
		{"a trace that ends in the middle of a record", []string{"run", obj, midRecord}, "mid-record.pcap: record 4: the file ends in the middle of this record (truncated?)"},
		{"--jsonl in a missing directory", []string{"run", "--jsonl", in("no/dir/out.jsonl"), obj, trace}, "--jsonl: cannot create " + in("no/dir/out.jsonl") + ": directory " + in("no/dir") + " does not exist"},
		{"--maps in a missing directory", []string{"run", "--maps", in("no/maps.json"), obj, trace}, "--maps: cannot create " + in("no/maps.json") + ": directory " + in("no") + " does not exist"},
		{"--html in a missing directory", []string{"show", "--packet", "1", "--html", in("no/x.html"), obj, trace}, "--html: cannot create " + in("no/x.html")},
		{"-w naming a file", []string{"run", "-w", empty, obj, trace}, "-w " + empty + ": exists and is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name+": exit 2 naming it", func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
	t.Run("a trace that ends mid-record writes none of the outputs and leaves no directory it made", func(t *testing.T) {
		out := t.TempDir()
		rc, _, stderr := runCmd(t, "run", obj, midRecord, "-w", filepath.Join(out, "pcaps", "run1"),
			"--jsonl", filepath.Join(out, "out.jsonl"), "--maps", filepath.Join(out, "maps.json"))
		if rc != 2 || !strings.Contains(stderr, "record 4") {
			t.Errorf("exit %d, stderr %q", rc, stderr)
		}
		if left := listDir(t, out); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	t.Run("a trace without packets runs none and still writes every output", func(t *testing.T) {
		out := t.TempDir()
		rc, stdout, stderr := runCmd(t, "run", obj, writePcap(t, in("zero.pcap")), "-w", filepath.Join(out, "pcaps"), "--jsonl", filepath.Join(out, "out.jsonl"))
		if rc != 0 || !strings.Contains(stdout, "0 packets") {
			t.Errorf("exit %d, stdout %q, stderr %q", rc, stdout, stderr)
		}
		if n := countPcap(t, filepath.Join(out, "pcaps", "pass.pcap")); n != 0 {
			t.Errorf("pass.pcap holds %d packets", n)
		}
	})
}

func TestBadJSONInputsSayWhereInTheFile(t *testing.T) {
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	empty := write("empty.json", "")
	cut := write("cut.json", "{\n  \"object\": \"x.o\",\n  \"tests\": [")
	list := write("list.json", "[]\n")
	bad := write("bad.json", "{\n  \"a\": 1,\n  \"b\": ]\n}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an empty expectation file", []string{"test", empty}, "empty.json: the file is empty, want JSON"},
		{"an expectation file cut short", []string{"test", cut}, "cut.json: the JSON ends early (truncated?)"},
		{"a list given as an expectation file", []string{"test", list}, "list.json: line 1, column 1: want an object, not a JSON array"},
		{"a syntax error in --maps-in", []string{"run", "--maps-in", bad, obj, trace}, "--maps-in: " + bad + ": line 3, column 8: invalid character ']' looking for beginning of value"},
		{"an empty --host", []string{"run", "--host", empty, obj, trace}, "empty.json: the file is empty, want JSON"},
		{"an empty --conntrack-in", []string{"run", "--conntrack-in", empty, obj, trace}, "--conntrack-in: " + empty + ": the file is empty, want JSON"},
		{"a list given as --topology", []string{"run", "--topology", list, trace}, "list.json: line 1, column 1: want an object, not a JSON array"},
		{"a syntax error in dump's --maps-in names the flag", []string{"dump", "--maps", "--maps-in", bad, obj}, "xdpsim dump: --maps-in: " + bad + ": line 3, column 8"},
		{"a missing --maps-in of dump names the flag", []string{"dump", "--maps", "--maps-in", filepath.Join(dir, "none.json"), obj}, "xdpsim dump: --maps-in: open " + filepath.Join(dir, "none.json")},
		{"a syntax error in --devices", []string{"run", "--devices", bad, obj, trace}, "bad.json: line 3, column 8: invalid character ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name+": exit 2 with line and column", func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
}

func TestSmallCommandsRefuseWhatTheyWouldIgnore(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"devices with an argument", []string{"devices", "--json", "mlx5"}, `devices takes no arguments, not ["mlx5"]`},
		{"test --junit in a missing directory, before any test runs", []string{"test", "--junit", filepath.Join(t.TempDir(), "no", "j.xml"), filepath.Join("..", "..", "corpus", "icmp_echo.expect.json")}, "--junit: cannot create"},
		{"dev btf -o in a missing directory names the flag", []string{"dev", "btf", "-o", filepath.Join(t.TempDir(), "no", "x.btf")}, "xdpsim dev: -o: cannot create"},
		{"run with a negative --queues", []string{"run", "--device", "mlx5", "--queues", "-3", objectOf(t, "udp_echo"), corpus.TracePath("vlan.pcap")}, "--queues -3: want a number of RX queues"},
		{"run with more --queues than the driver has", []string{"run", "--device", "mlx5", "--queues", "100000", objectOf(t, "udp_echo"), corpus.TracePath("vlan.pcap")}, "--queues: 100000 is outside 1 to 64 (mlx5's most)"},
		{"status with a negative --fixed-slots", []string{"status", "--fixed-slots", "-1", objectOf(t, "disp_acl")}, "--fixed-slots -1: want a number of slots"},
	}
	for _, tt := range tests {
		t.Run(tt.name+": exit 2", func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, stdout %.80q, stderr %q; want 2 and %q", rc, stdout, stderr, tt.want)
			}
		})
	}
}

func TestTheKernelRefusesTypeItCannotGive(t *testing.T) {
	for _, args := range [][]string{
		{"diff", "-p", "custom_section", "--type", "xdp", mixedObject, corpus.TracePath("vlan.pcap")},
		{"run", "--engine", "kernel", "-p", "custom_section", "--type", "xdp", mixedObject, corpus.TracePath("vlan.pcap")},
	} {
		t.Run("xdpsim "+args[0]+" with the kernel refuses --type, exit 2", func(t *testing.T) {
			rc, _, stderr := runCmd(t, args...)
			if rc != 2 || !strings.Contains(stderr, "--type: not available with the kernel yet") {
				t.Errorf("exit %d, stderr %q", rc, stderr)
			}
		})
	}
}

func TestDiffSaysWhatIsWrongWithTheObject(t *testing.T) {
	if err := kernel.Available(); err != nil {
		t.Skipf("no kernel to load into: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.o")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, _, stderr := runCmd(t, "diff", empty, corpus.TracePath("vlan.pcap"))
	if rc != 2 || !strings.Contains(stderr, "xdpsim diff: "+empty+": not a BPF object: the file is empty") {
		t.Errorf("exit %d, stderr %q", rc, stderr)
	}
}

func TestABadMapsFormatNamesItsFlag(t *testing.T) {
	obj := objectOf(t, "udp_echo")
	trace := corpus.TracePath("vlan.pcap")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"run --maps-format", []string{"run", "--maps-format", "yaml", obj, trace}, `--maps-format "yaml": want hex or btf`},
		{"run --maps-in-format", []string{"run", "--maps-in-format", "yaml", obj, trace}, `--maps-in-format "yaml": want hex or btf`},
		{"dump --maps-format", []string{"dump", "--maps", "--maps-format", "yaml", obj}, `--maps-format "yaml": want hex or btf`},
	} {
		t.Run(tt.name+": exit 2", func(t *testing.T) {
			rc, _, stderr := runCmd(t, tt.args...)
			if rc != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", rc, stderr, tt.want)
			}
		})
	}
}

func TestHelpCommandPrintsTheCommandsHelp(t *testing.T) {
	for _, cmd := range []string{"run", "diff", "test", "dump", "verify", "show", "debug", "devices", "dev", "status", "exec"} {
		t.Run("xdpsim help "+cmd+" prints what xdpsim "+cmd+" --help prints", func(t *testing.T) {
			rc, stdout, stderr := runCmd(t, "help", cmd)
			_, want, _ := runCmd(t, cmd, "--help")
			if rc != 0 || stderr != "" || stdout != want || !strings.HasPrefix(stdout, "usage: xdpsim "+cmd) {
				t.Errorf("exit %d, stdout %.80q, stderr %q", rc, stdout, stderr)
			}
		})
	}
	t.Run("xdpsim help of an unknown command exits 2 naming it", func(t *testing.T) {
		rc, _, stderr := runCmd(t, "help", "frob")
		if rc != 2 || !strings.Contains(stderr, `unknown command "frob"`) {
			t.Errorf("exit %d, stderr %q", rc, stderr)
		}
	})
}

func TestEngineHelpNamesEveryEngine(t *testing.T) {
	for _, cmd := range []string{"run", "diff", "show", "debug", "test"} {
		t.Run("xdpsim "+cmd+" --help names every simulator engine and the default", func(t *testing.T) {
			_, stdout, _ := runCmd(t, cmd, "--help")
			var line string
			for _, l := range strings.Split(stdout, "\n") {
				if strings.Contains(l, "--engine") {
					line = l
				}
			}
			for _, name := range vm.EngineNames() {
				if !strings.Contains(line, name) {
					t.Errorf("--engine help lacks %s: %q", name, line)
				}
			}
			if !strings.Contains(line, vm.DefaultEngine().Name()+" (the default") {
				t.Errorf("--engine help does not name the default %s: %q", vm.DefaultEngine().Name(), line)
			}
		})
	}
}
