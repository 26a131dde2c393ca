package verifier_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// A control map (BPF_MAP_TYPE_CONTROL, the proposal behind --feature control-map) goes to
// bpf_map_lookup_elem and bpf_map_update_elem only; the verifier refuses every other helper
// given one, as the kernel refuses helpers a map type does not support.
func TestControlMapsGoToLookupAndUpdateOnly(t *testing.T) {
	const controlType = 0x58430001 // sim/maps.Control
	ctl := verifier.Map{Name: "devices", Type: controlType, KeySize: 4, ValueSize: 64, MaxEntries: 1, SpinLock: -1, Timer: -1, Control: true}
	hash := ctl
	hash.Type, hash.Control = ebpf.Hash, false
	for _, tc := range []struct {
		name   string
		helper string
		m      verifier.Map
		ok     bool
	}{
		{"lookup is allowed", "call 1", ctl, true},
		{"update is allowed", "call 2", ctl, true},
		{"delete is refused", "call 3", ctl, false},
		{"for_each_map_elem is refused", "call 164", ctl, false},
		{"delete from a hash map is still allowed", "call 3", hash, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// r1 = the map, r2 = a key on the stack, r3 = a value on the stack, r4 = 0.
			src := `stdw [%r10-8], 0
stdw [%r10-16], 0
stdw [%r10-24], 0
stdw [%r10-32], 0
stdw [%r10-40], 0
stdw [%r10-48], 0
stdw [%r10-56], 0
stdw [%r10-64], 0
stdw [%r10-72], 0
lddw %r1, map_fd 0
mov64 %r2, %r10
add %r2, -8
mov64 %r3, %r10
add %r3, -72
mov %r4, 0
` + tc.helper + `
mov %r0, 2
exit`
			if tc.helper == "call 164" {
				// bpf_for_each_map_elem(map, callback, ctx, flags) with a callback that returns 0.
				src = `lddw %r1, map_fd 0
lddw %r2, func cb
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 2
exit
cb:
mov %r0, 0
exit`
			}
			insns, err := assembly.Assemble(src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifier.Verify(&verifier.Program{Name: "ctl", Insns: insns, Type: ebpf.XDP, GPL: true, Maps: []verifier.Map{tc.m}}, verifier.Options{})
			var ve *verifier.Error
			if err != nil && !errors.As(err, &ve) {
				t.Fatal(err)
			}
			if tc.ok && ve != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				want := fmt.Sprintf("cannot pass map_type %d into func", controlType)
				if ve == nil || len(ve.Msg) < len(want) || ve.Msg[:len(want)] != want {
					t.Fatalf("got %v, want a refusal %q", err, want)
				}
			}
		})
	}
}
