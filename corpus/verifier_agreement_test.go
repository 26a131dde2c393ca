package corpus_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kfuncs"
	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/verifier"
)

// The agreement of xdpsim's verifier with the labels Linux 6.18 gave the verifier corpus
// (corpus/verifier): the verdict of every program, and for rejections the instruction blamed
// and the message. The floors below are the figures reached; the test fails when a change
// lowers them, and logs every disagreement.
const (
	verdictFloor = 0.99 // share of the cases the verifier can load whose verdict agrees
	insnFloor    = 0.99 // share of the rejections both refuse where the blamed instruction agrees
	messageFloor = 0.99 // share of the rejections both refuse where the message agrees
)

// verifyCase runs xdpsim's verifier over one case as the kernel loaded it.
func verifyCase(c corpus.VerifierCase) (*verifier.Result, error, error) {
	obj, err := sim.Load(c.Path(), sim.LoadOptions{NoVerify: true, Features: kfuncs.Features{Traits: true, ExportToSkb: true}})
	if err != nil {
		return nil, nil, err
	}
	in, err := obj.VerifierInput(c.Program)
	if err != nil {
		return nil, nil, err
	}
	if !verifier.Supported(in.Type) {
		return nil, nil, fmt.Errorf("xdpsim's verifier has no rules for program type %s yet", in.Type)
	}
	in.DevBound = c.DevBound
	res, verr := verifier.Verify(in, verifier.Options{})
	return res, verr, nil
}

func TestVerifierAgreesWithTheKernelsLabels(t *testing.T) {
	cases, err := corpus.VerifierCases()
	if err != nil {
		t.Fatal(err)
	}
	var loaded, verdicts, bothReject, insns, messages int
	unloadable := map[string]int{}
	var disagree []string
	for _, c := range cases {
		res, verr, lerr := verifyCase(c)
		if lerr != nil {
			reason := lerr.Error()
			if i := strings.LastIndex(reason, ": "); i >= 0 {
				reason = reason[i+2:]
			}
			unloadable[reason]++
			continue
		}
		loaded++
		var ve *verifier.Error
		if verr != nil && !errors.As(verr, &ve) {
			t.Errorf("%s: %v", c.Name(), verr)
			continue
		}
		rejected := ve != nil
		if rejected != !c.Accepted() {
			what := "accepts"
			if rejected {
				what = fmt.Sprintf("rejects at %d: %s", ve.PC, firstLine(ve.Msg))
			}
			disagree = append(disagree, fmt.Sprintf("%s: the kernel %ss (%d: %s), xdpsim %s", c.Name(), c.Verdict, c.Insn, firstLine(c.Message), what))
			continue
		}
		verdicts++
		if !rejected {
			_ = res
			continue
		}
		bothReject++
		if ve.PC == c.Insn {
			insns++
		} else {
			disagree = append(disagree, fmt.Sprintf("%s: both reject; the kernel at %d (%s), xdpsim at %d (%s)", c.Name(), c.Insn, firstLine(c.Message), ve.PC, firstLine(ve.Msg)))
		}
		if ve.Msg == c.Message {
			messages++
		} else if ve.PC == c.Insn {
			disagree = append(disagree, fmt.Sprintf("%s: both reject at %d; the kernel says %q, xdpsim %q", c.Name(), c.Insn, c.Message, ve.Msg))
		}
	}
	sort.Strings(disagree)
	for _, d := range disagree {
		t.Log(d)
	}
	var reasons []string
	for r, n := range unloadable {
		reasons = append(reasons, fmt.Sprintf("%d: %s", n, r))
	}
	sort.Strings(reasons)
	t.Logf("%d cases; %d the simulator cannot load (%s)", len(cases), len(cases)-loaded, strings.Join(reasons, "; "))
	vshare := float64(verdicts) / float64(max(loaded, 1))
	ishare := float64(insns) / float64(max(bothReject, 1))
	mshare := float64(messages) / float64(max(bothReject, 1))
	t.Logf("verdicts agree on %d of %d (%.1f%%); of %d rejections both make, the blamed instruction agrees on %d (%.1f%%) and the message on %d",
		verdicts, loaded, 100*vshare, bothReject, insns, 100*ishare, messages)
	if vshare < verdictFloor {
		t.Errorf("verdict agreement %.1f%% is below the floor of %.0f%%", 100*vshare, 100*verdictFloor)
	}
	if ishare < insnFloor {
		t.Errorf("blamed-instruction agreement %.1f%% is below the floor of %.0f%%", 100*ishare, 100*insnFloor)
	}
	if mshare < messageFloor {
		t.Errorf("message agreement %.1f%% is below the floor of %.0f%%", 100*mshare, 100*messageFloor)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// exactCase says which cases the verifier must agree on one by one (verdict, blamed instruction
// and message), beyond the floors: the dynptrs (clones and their shared references, writes that
// change the sk_buff's data), the calls of global functions that change packet data, the
// local-interrupt sections, and the kfuncs (their prototypes' flags and arguments).
func exactCase(c corpus.VerifierCase) bool {
	switch c.Category {
	case "dynptr", "irq", "kfuncs":
		return true
	}
	return c.Category == "calls" && strings.HasPrefix(c.Program, "pkt_after_")
}

func TestVerifierAgreesExactlyOnDynptrsSectionsPacketChangersAndKfuncs(t *testing.T) {
	cases, err := corpus.VerifierCases()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		if !exactCase(c) {
			continue
		}
		n++
		t.Run(c.Name(), func(t *testing.T) {
			_, verr, lerr := verifyCase(c)
			if lerr != nil {
				t.Skipf("the simulator cannot load it: %v", lerr)
			}
			var ve *verifier.Error
			if verr != nil && !errors.As(verr, &ve) {
				t.Fatal(verr)
			}
			switch {
			case c.Accepted() && ve != nil:
				t.Errorf("xdpsim refuses it at %d: %s; the kernel accepts it", ve.PC, ve.Msg)
			case !c.Accepted() && ve == nil:
				t.Errorf("xdpsim accepts it; the kernel refuses it at %d: %s", c.Insn, c.Message)
			case !c.Accepted() && (ve.PC != c.Insn || ve.Msg != c.Message):
				t.Errorf("xdpsim refuses it at %d: %q; the kernel at %d: %q", ve.PC, ve.Msg, c.Insn, c.Message)
			}
		})
	}
	if n == 0 {
		t.Fatal("no such case in the labels")
	}
}
