package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/verifier"
)

// cmdVerify is `xdpsim verify PROG.o`: run every XDP and tc program of the object (or the chosen one)
// through the verifier as the kernel would load it, and say which are accepted; a rejection
// prints the kernel-style error, its instruction and source line. Exit status 0 when all are
// accepted, 1 when one is rejected, 2 for unusable input.
func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "[flags] PROG.o", stdout)
	var lf loadFlags
	lf.register(fs, "verify only this program, by function or section name")
	prog := &lf.prog
	level := fs.Int("log-level", 0, "print the verifier log: 1 the path to an error and the statistics, 2 every instruction with its registers")
	asJSON := fs.Bool("json", false, `one JSON object per program: {"program","verdict","insn","message","processed",...}`)
	if err := parseFlags(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		return usageErr(errors.New("need exactly one object (see xdpsim verify --help)"))
	}
	if *level < 0 || *level > 2 {
		return usageErr(fmt.Errorf("--log-level %d: want 0, 1 or 2", *level))
	}
	path := fs.Arg(0)
	opts := sim.LoadOptions{NoVerify: true, Features: kfuncs.Features{Traits: true, ExportToSkb: true, ControlMap: true}}
	if err := lf.options(&opts); err != nil {
		return usageErr(err)
	}
	obj, err := sim.Load(path, opts)
	if err != nil {
		return usageErr(err)
	}
	var names []string
	if *prog != "" {
		name, err := obj.ProgramName(*prog)
		if err != nil {
			return usageErr(err)
		}
		if err := lf.checkType(obj, name); err != nil {
			return usageErr(err)
		}
		names = []string{name}
	} else {
		names = append(obj.XDPPrograms(), obj.TCPrograms()...)
		if len(names) == 0 {
			return usageErr(fmt.Errorf("%s: no program the verifier knows the rules of (XDP, tc); programs: %s", path, strings.Join(obj.ProgramNames(), ", ")))
		}
	}
	rejected := 0
	enc := json.NewEncoder(stdout)
	for _, name := range names {
		in, err := obj.VerifierInput(name)
		if err != nil {
			return usageErr(err)
		}
		res, err := verifier.Verify(in, verifier.Options{LogLevel: *level})
		var verr *verifier.Error
		if err != nil && !errors.As(err, &verr) {
			return usageErr(fmt.Errorf("%s: %s: %w", path, name, err))
		}
		if verr != nil {
			rejected++
		}
		if *asJSON {
			if err := enc.Encode(verifyRecord(name, res, verr, *level)); err != nil {
				return err
			}
			continue
		}
		printVerdict(stdout, path, name, res, verr, *level)
	}
	if rejected > 0 {
		return &exitError{exitFailed, nil}
	}
	return nil
}

// verifyJSON is one program's verdict; the first five keys are fixed.
type verifyJSON struct {
	Program   string `json:"program"`
	Verdict   string `json:"verdict"`
	Insn      int    `json:"insn"`
	Message   string `json:"message"`
	Processed int    `json:"processed"`
	Line      string `json:"line,omitempty"`
	States    int    `json:"total_states"`
	Peak      int    `json:"peak_states"`
	MaxStates int    `json:"max_states_per_insn"`
	Log       string `json:"log,omitempty"`
}

func verifyRecord(name string, res *verifier.Result, verr *verifier.Error, level int) verifyJSON {
	r := verifyJSON{Program: name, Verdict: "accept", Insn: -1}
	if res != nil {
		r.Processed = res.Stats.Processed
		r.States, r.Peak, r.MaxStates = res.Stats.TotalStates, res.Stats.PeakStates, res.Stats.MaxStatesPerInsn
		if level > 0 {
			r.Log = res.Log
		}
	}
	if verr != nil {
		r.Verdict, r.Insn, r.Message, r.Line = "reject", verr.PC, verr.Msg, verr.Line
	}
	return r
}

func printVerdict(w io.Writer, path, name string, res *verifier.Result, verr *verifier.Error, level int) {
	if level > 0 && res != nil {
		fmt.Fprintf(w, "%s: %s: verifier log:\n%s", path, name, res.Log)
	}
	if verr == nil {
		fmt.Fprintf(w, "%s: %s: accepted; %s\n", path, name, res.Stats.StatsLine())
		return
	}
	fmt.Fprintf(w, "%s: %s: rejected at instruction %d: %s\n", path, name, verr.PC, verr.Msg)
	if verr.Line != "" {
		fmt.Fprintf(w, "  at %s\n", verr.Line)
	}
	if res != nil && level == 0 {
		fmt.Fprintln(w, res.Stats.StatsLine())
	}
}
