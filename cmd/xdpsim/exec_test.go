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

// TestExecPassesConformance drives every conformance case through the plugin protocol, as the
// upstream runner would.
func TestExecPassesConformance(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/conformance/*.data")
	if len(files) == 0 {
		t.Skip("SKIP: no conformance cases at ../../../shared/conformance")
	}
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
		var out, errb bytes.Buffer
		rc := run([]string{"exec", "--program", spaced(vm.Encode(insns)), strings.Join(strings.Fields(sec["mem"]), " ")}, strings.NewReader(""), &out, &errb)
		if rc != 0 {
			t.Errorf("%s: exit %d: %s", filepath.Base(f), rc, errb.String())
			continue
		}
		want, err := parseResult(strings.TrimSpace(sec["result"]))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := strings.TrimSpace(out.String()); got != fmt.Sprintf("%x", want) {
			t.Errorf("%s: printed %s, want %x", filepath.Base(f), got, want)
		}
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
