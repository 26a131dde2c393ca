// Command genheader writes include/xdpsim_control.h from package device's layout, so that the C
// declaration BPF programs include and the simulated kernel's BTF come from one description.
package main

import (
	"fmt"
	"os"

	"github.com/xdpsim/xdpsim/sim/device"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genheader OUT.h")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(device.Latest().CHeader()), 0o666); err != nil {
		fmt.Fprintln(os.Stderr, "genheader:", err)
		os.Exit(1)
	}
}
