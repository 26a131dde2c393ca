package corpus

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// VerifierCase is one program of the verifier corpus (corpus/verifier/) with what Linux's verifier
// said about it, as recorded by the labelling test (see corpus/verifier/README.md). The first keys
// of its JSON form are those of `xdpsim verify --json`.
type VerifierCase struct {
	// Object is the object file, relative to VerifierDir(): "alu.o".
	Object string `json:"object"`
	// Program is the function name of the program in the object.
	Program string `json:"program"`
	// Verdict is "accept" or "reject".
	Verdict string `json:"verdict"`
	// Insn is the instruction the kernel's log blames (kernel.BlamedInsn: the last instruction
	// line before the error, or the instruction a CFG error names), in the kernel's numbering
	// where an lddw takes two slots; -1 when accepted or when the log blames none.
	Insn int `json:"insn"`
	// Message is the error line(s) of the log (kernel.ErrorMessage), joined with "\n"; empty
	// when accepted.
	Message string `json:"message"`
	// Processed and the four figures after it are those of the log's final "processed N insns
	// (limit 1000000) max_states_per_insn M total_states T peak_states P mark_read R" line; all
	// are -1 when the log has none.
	Processed        int `json:"processed"`
	MaxStatesPerInsn int `json:"max_states_per_insn"`
	TotalStates      int `json:"total_states"`
	PeakStates       int `json:"peak_states"`
	MarkRead         int `json:"mark_read"`
	// Errno is what BPF_PROG_LOAD returned for a rejection: "EACCES", "EINVAL", "E2BIG", ...
	Errno string `json:"errno,omitempty"`
	// Category is the source file the case comes from, without ".c": "alu", "stack", ...
	Category string `json:"category"`
	// Section is the program's ELF section ("xdp", "xdp/devmap", "tc", ...).
	Section string `json:"section"`
	// DevBound says the program was loaded bound to a device (BPF_F_XDP_DEV_BOUND_ONLY,
	// kernel.VerifyOptions.DevBound), as programs calling the RX-metadata kfuncs must be.
	DevBound bool `json:"dev_bound,omitempty"`
	// Description says in a line what the case shows (from the comment above it in the source).
	Description string `json:"description"`
	// RunRet is the return value of one BPF_PROG_TEST_RUN of an accepted program on a zeroed
	// 64-byte frame; RunError says why the kernel could not run it (then RunRet is absent).
	RunRet   *uint32 `json:"run_ret,omitempty"`
	RunError string  `json:"run_error,omitempty"`
}

// Name is "category/program", the case's name in tests.
func (c VerifierCase) Name() string { return c.Category + "/" + c.Program }

// Accepted says the kernel accepted the program.
func (c VerifierCase) Accepted() bool { return c.Verdict == "accept" }

// Path is the absolute path of the case's object file.
func (c VerifierCase) Path() string { return filepath.Join(VerifierDir(), c.Object) }

// Source is the absolute path of the case's C source.
func (c VerifierCase) Source() string { return filepath.Join(VerifierDir(), c.Category+".c") }

// LogPath is the absolute path of the kernel's level-1 verifier log of the case, kept as the
// labelling test wrote it (kernel addresses replaced, very long logs cut in the middle).
func (c VerifierCase) LogPath() string {
	return filepath.Join(VerifierDir(), "logs", c.Category+"."+c.Program+".log")
}

// VerifierLabels is the whole of corpus/verifier/labels.json.
type VerifierLabels struct {
	// Kernel is the release of the kernel that labelled the cases ("6.18.44-...").
	Kernel string `json:"kernel"`
	// LogLevel is the verifier log level the labels were read at.
	LogLevel int `json:"log_level"`
	// Cases are sorted by category, then in source order.
	Cases []VerifierCase `json:"cases"`
}

//go:embed verifier/labels.json
var verifierLabels []byte

// VerifierDir is the absolute path of the verifier corpus, corpus/verifier.
func VerifierDir() string { return filepath.Join(Dir(), "verifier") }

// VerifierCases returns the cases of the verifier corpus with the kernel's labels, sorted by
// category and then in source order. A test that compares a verifier with the kernel loops over
// them:
//
//	for _, c := range cases {
//		t.Run(c.Name(), func(t *testing.T) { ... verify c.Path(), program c.Program ... })
//	}
func VerifierCases() ([]VerifierCase, error) {
	l, err := ParseVerifierLabels(verifierLabels)
	if err != nil {
		return nil, err
	}
	return l.Cases, nil
}

// ParseVerifierLabels reads labels in the form of corpus/verifier/labels.json and checks that
// every case is complete.
func ParseVerifierLabels(b []byte) (*VerifierLabels, error) {
	var l VerifierLabels
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("corpus: verifier/labels.json: %w", err)
	}
	for i, c := range l.Cases {
		switch {
		case c.Object == "" || c.Program == "" || c.Category == "":
			return nil, fmt.Errorf("corpus: verifier/labels.json: case %d lacks its object, program or category", i)
		case c.Verdict != "accept" && c.Verdict != "reject":
			return nil, fmt.Errorf("corpus: verifier/labels.json: %s: verdict %q, want accept or reject", c.Name(), c.Verdict)
		case c.Verdict == "accept" && (c.Insn != -1 || c.Message != ""):
			return nil, fmt.Errorf("corpus: verifier/labels.json: %s: accepted with an instruction or a message", c.Name())
		case c.Verdict == "reject" && c.Message == "":
			return nil, fmt.Errorf("corpus: verifier/labels.json: %s: rejected without a message", c.Name())
		}
	}
	return &l, nil
}
