package kernel_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kernel"
)

// TestDispatcherDumpsEverySlotsMapsUnderItsSlot: Dispatcher.DumpMaps is every slot's SlotMaps,
// keyed slot<i>/<name> as the simulator keys them, without the constant sections.
func TestDispatcherDumpsEverySlotsMapsUnderItsSlot(t *testing.T) {
	requireLibxdp(t)
	set, _ := corpus.LookupDispatcher("pipeline")
	slots, config := dispatcherFor(t, set, "v4")
	kd, err := kernel.LoadDispatcher(kernel.DispatcherObject, slots, config)
	if err != nil {
		t.Fatal(err)
	}
	defer kd.Close()
	for _, p := range readTrace(t, corpus.TracePath("mixed.pcap"))[:200] {
		kd.Run(p.data, nil, kernel.Context{IngressIfindex: 1})
	}
	all, err := kd.DumpMaps()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range slots {
		m, err := kd.SlotMaps(i)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			t.Errorf("slot %d (%s) has no maps", i, slots[i].Program)
		}
		for name, entries := range m {
			n++
			if got := all[fmt.Sprintf("slot%d/%s", i, name)]; !reflect.DeepEqual(got, entries) {
				t.Errorf("slot%d/%s: DumpMaps %v, SlotMaps %v", i, name, got, entries)
			}
		}
	}
	keys := slices.Sorted(maps.Keys(all))
	if len(all) != n || slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, ".rodata") }) {
		t.Errorf("DumpMaps has %d maps (%q), the slots %d", len(all), keys, n)
	}
}
