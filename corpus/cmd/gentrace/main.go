// Command gentrace writes the corpus traces (pcap, Ethernet, nanosecond timestamps). It is
// deterministic: the same version writes the same bytes everywhere.
//
//	go run ./cmd/gentrace -out traces
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/xdpsim/xdpsim/corpus/internal/gentrace"
)

func main() {
	out := flag.String("out", "traces", "directory to write the traces into")
	flag.Parse()
	if err := gentrace.WriteAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gentrace:", err)
		os.Exit(1)
	}
	for _, t := range gentrace.Traces() {
		fmt.Printf("%s: %d packets\n", t.Name, t.Packets)
	}
}
