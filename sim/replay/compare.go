package replay

import (
	"fmt"

	"github.com/xdpsim/xdpsim/sim/result"
)

// Compare is a Sink that runs every packet on a second target under the same conditions and
// reports every difference from the loop's target (return value, data, metadata), then compares
// the maps after the run. xdpsim diff is a Loop over the simulator with a Compare against the
// kernel.
type Compare struct {
	Other Target
	// Report receives each difference as a line ("packet 7: return value: ...").
	Report func(line string) error
	// PacketDiffs counts packets' differences; MapDiffs counts the maps'.
	PacketDiffs, MapDiffs int
}

func (c *Compare) Packet(p *Packet) error {
	if p.Verdict == VerdictSnapped {
		return nil // neither side runs a snapped record
	}
	k := c.Other.Run(p.Record.Data, nil, p.Cond)
	for _, msg := range result.ComparePackets(p.N, p.Outcome.Packet, k.Packet) {
		c.PacketDiffs++
		if err := c.Report(msg); err != nil {
			return err
		}
	}
	return nil
}

func (c *Compare) Finish(l *Loop) error {
	a, err := l.Target.DumpMaps()
	if err != nil {
		return fmt.Errorf("dumping maps: %w", err)
	}
	b, err := c.Other.DumpMaps()
	if err != nil {
		return fmt.Errorf("dumping maps of the other side: %w", err)
	}
	for _, msg := range result.CompareMaps(a, b) {
		c.MapDiffs++
		if err := c.Report(msg); err != nil {
			return err
		}
	}
	return nil
}
