package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tourStep is one command of TOUR.md with what the tour shows it printing.
type tourStep struct {
	line  int // in TOUR.md
	args  []string
	input string // the commands typed at the debugger's prompts
	want  string
}

// tourSteps reads the console blocks of TOUR.md: "$ xdpsim ARGS" and the output below it; typed
// debugger commands follow the prompt on its line, as a terminal shows them.
func tourSteps(t *testing.T, text string) []tourStep {
	var steps []tourStep
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```console" {
			continue
		}
		i++
		cmd, ok := strings.CutPrefix(lines[i], "$ xdpsim ")
		if !ok {
			t.Fatalf("TOUR.md:%d: a console block starts with %q, not $ xdpsim", i+1, lines[i])
		}
		st := tourStep{line: i + 1, args: strings.Fields(cmd)}
		var want, input strings.Builder
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			l := lines[i]
			if typed, ok := strings.CutPrefix(l, "(xdpsim) "); ok {
				input.WriteString(typed + "\n")
				want.WriteString("(xdpsim) ")
				continue
			}
			want.WriteString(l + "\n")
		}
		st.want, st.input = want.String(), input.String()
		steps = append(steps, st)
	}
	return steps
}

func TestTourOutputsStayTrue(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(root, "TOUR.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root) // the tour's paths are relative to the repository
	steps := tourSteps(t, string(text))
	if len(steps) < 5 {
		t.Fatalf("TOUR.md has %d commands", len(steps))
	}
	programs := map[string]bool{}
	for _, st := range steps {
		t.Run(strings.Join(st.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if rc := run(st.args, strings.NewReader(st.input), &out, &errb); rc != 0 {
				t.Fatalf("TOUR.md:%d: exit %d: %s", st.line, rc, errb.String())
			}
			got, want := strings.TrimRight(out.String(), "\n "), strings.TrimRight(st.want, "\n ")
			if got != want {
				gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					g, w := "(ends)", "(ends)"
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("TOUR.md:%d: output line %d differs:\n tour: %s\n now:  %s", st.line, i+1, w, g)
					}
				}
			}
		})
		for _, a := range st.args {
			if strings.HasPrefix(a, "corpus/") && strings.HasSuffix(a, ".o") {
				programs[a] = true
			}
		}
	}
	if len(programs) < 4 {
		t.Errorf("the tour visits %d corpus programs, want 4 or more", len(programs))
	}
}
