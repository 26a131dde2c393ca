// Command gennetkit writes the traces of the netkit setups into corpus/netkit (pcap, Ethernet,
// nanosecond timestamps). It is deterministic.
//
//	go run ./cmd/gennetkit -out netkit
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/xdpsim/xdpsim/corpus/internal/gentrace"
)

func main() {
	out := flag.String("out", "netkit", "directory to write the traces into")
	flag.Parse()
	if err := gentrace.WriteNetkit(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gennetkit:", err)
		os.Exit(1)
	}
	for _, t := range gentrace.NetkitTraces() {
		fmt.Printf("%s: %d packets\n", t.Name, len(t.Frames))
	}
}
