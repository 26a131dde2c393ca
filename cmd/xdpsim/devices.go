package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xdpsim/xdpsim/sim/device"
)

// cmdDevices lists the simulated device profiles and what each supplies.
func cmdDevices(args []string, stdout io.Writer) error {
	fs := newFlagSet("devices", "[--json]", stdout)
	asJSON := fs.Bool("json", false, "print the profiles as JSON")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("devices takes no arguments, not %q (see xdpsim devices --help)", fs.Args()))
	}
	profiles := device.Profiles()
	if *asJSON {
		b, err := json.MarshalIndent(profiles, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	for _, p := range profiles {
		fmt.Fprintf(stdout, "%s\t%s\n", p.Name, p.Description)
		fmt.Fprintf(stdout, "\thints: %s\n", orNone(p.Hints))
		fmt.Fprintf(stdout, "\tRSS hashes: %s\n", orNone(p.RSSFields))
		fmt.Fprintf(stdout, "\tVLAN offload strips: %s\n", orNone(p.VLANStrip))
		fmt.Fprintf(stdout, "\tRX queues: 1 to %d (--queues)\n", p.MaxQueues)
		for _, n := range p.Notes {
			fmt.Fprintf(stdout, "\tnote: %s\n", n)
		}
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
