package corpus_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/corpus"
)

// The cases a verifier is held to, with what Linux said about each.
func ExampleVerifierCases() {
	cases, err := corpus.VerifierCases()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range cases {
		if c.Name() == "pkt/past_range" {
			fmt.Printf("%s (%s): %s at instruction %d after %d instructions:\n%s\n", c.Name(), c.Object, c.Verdict, c.Insn, c.Processed, c.Message)
		}
	}
	// Output:
	// pkt/past_range (pkt.o): reject at instruction 5 after 6 instructions:
	// invalid access to packet, off=13 size=2, R2(id=0,off=13,r=14)
	// R2 offset is outside of the packet
}
