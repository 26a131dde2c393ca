package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

func spaced(b []byte) string {
	h := hex.EncodeToString(b)
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, " ")
}

func TestExecSpeaksThePluginProtocol(t *testing.T) {
	prog, err := assembly.Assemble("ldxw %r0, [%r1+2]\nadd %r0, %r2\nexit\n")
	if err != nil {
		t.Fatal(err)
	}
	code := spaced(vm.Encode(prog))
	t.Run("the program on standard input and memory as the argument give r0 in hex", func(t *testing.T) {
		var out, errb bytes.Buffer
		if rc := run([]string{"exec", "00 01 02 03 04 05"}, strings.NewReader(code), &out, &errb); rc != 0 {
			t.Fatalf("exit %d: %s", rc, errb.String())
		}
		// *(u32 *)(mem+2) = 0x05040302, plus the length 6.
		if got := out.String(); got != "5040308\n" {
			t.Errorf("stdout = %q, want %q", got, "5040308\n")
		}
	})
	t.Run("the program after --program works the same", func(t *testing.T) {
		var out, errb bytes.Buffer
		if rc := run([]string{"exec", "--program", code, "00 01 02 03 04 05"}, strings.NewReader(""), &out, &errb); rc != 0 {
			t.Fatalf("exit %d: %s", rc, errb.String())
		}
		if got := out.String(); got != "5040308\n" {
			t.Errorf("stdout = %q", got)
		}
	})
	t.Run("a fault exits non-zero with the reason on stderr", func(t *testing.T) {
		var out, errb bytes.Buffer
		rc := run([]string{"exec", "--program", code, "00 01 02"}, strings.NewReader(""), &out, &errb)
		if rc == 0 || out.Len() != 0 || !strings.Contains(errb.String(), "invalid load of 4 bytes") {
			t.Errorf("exit %d, stdout %q, stderr %q", rc, out.String(), errb.String())
		}
	})
	t.Run("bad hex exits non-zero", func(t *testing.T) {
		var out, errb bytes.Buffer
		if rc := run([]string{"exec", "--program", "zz"}, strings.NewReader(""), &out, &errb); rc == 0 {
			t.Errorf("exit 0 for a program that is not hex")
		}
	})
}

// runnerHex encodes bytes as the upstream bpf_conformance runner does (_base_16_encode): every
// byte as two hex digits followed by two spaces.
func runnerHex(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "%02x  ", c)
	}
	return sb.String()
}

// TestExecPassesConformance drives every conformance case through xdpsim exactly as the upstream
// runner calls its plugin (bpf_conformance_runner --plugin_path xdpsim --plugin_options "exec
// --engine NAME"): the arguments are [MEMORY-HEX] followed by the plugin options, the program
// arrives on standard input as hex followed by a newline, and the runner reads r0 in hex from
// standard output. It does so on every engine.
func TestExecPassesConformance(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/conformance/*.data")
	if len(files) == 0 {
		t.Skip("SKIP: no conformance cases at ../../../shared/conformance")
	}
	type conformanceCase struct {
		name, program, memory string
		want                  uint64
	}
	var cases []conformanceCase
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sec := map[string]string{}
		cur := ""
		for _, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(line, "-- ") {
				cur = strings.TrimSpace(line[3:])
				continue
			}
			if i := strings.IndexByte(line, '#'); i >= 0 && cur != "asm" {
				line = line[:i]
			}
			sec[cur] += line + "\n"
		}
		insns, err := assembly.Assemble(sec["asm"])
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		mem, err := parseHex(sec["mem"])
		if err != nil {
			t.Fatalf("%s: memory: %v", f, err)
		}
		want, err := parseResult(strings.TrimSpace(sec["result"]))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c := conformanceCase{name: filepath.Base(f), program: runnerHex(vm.Encode(insns)) + "\n", want: want}
		if len(mem) > 0 {
			c.memory = runnerHex(mem)
		}
		cases = append(cases, c)
	}
	for _, e := range vm.EngineNames() {
		t.Run("on the "+e+" engine", func(t *testing.T) {
			passed, withMemory := 0, 0
			for _, c := range cases {
				var args []string
				if c.memory != "" {
					args = append(args, c.memory)
					withMemory++
				}
				args = append(args, "exec", "--engine", e)
				var out, errb bytes.Buffer
				if rc := run(args, strings.NewReader(c.program), &out, &errb); rc != 0 {
					t.Errorf("%s: exit %d: %s", c.name, rc, errb.String())
					continue
				}
				got, err := strconv.ParseUint(strings.TrimSpace(out.String()), 16, 64)
				if err != nil || got != c.want {
					t.Errorf("%s: printed %q, want %x", c.name, out.String(), c.want)
					continue
				}
				passed++
			}
			t.Logf("%d of %d cases pass (%d with memory before the command)", passed, len(cases), withMemory)
		})
	}
}

func TestPluginArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"memory before exec moves after its flags", []string{"01  02  ", "exec", "--engine", "jit"}, []string{"exec", "--engine", "jit", "01  02  "}},
		{"exec without memory stays as it is", []string{"exec", "--engine", "jit"}, []string{"exec", "--engine", "jit"}},
		{"a command stays as it is", []string{"run", "exec"}, []string{"run", "exec"}},
		{"an argument that is not hex stays as it is", []string{"zz", "exec"}, []string{"zz", "exec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pluginArgs(tt.args); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("pluginArgs(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// parseResult reads a case's expected r0: hex with 0x, else decimal.
func parseResult(s string) (uint64, error) {
	if strings.HasPrefix(s, "0x") {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return uint64(v), err
}
