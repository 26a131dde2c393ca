package device

import (
	"bytes"
	"testing"
)

// FuzzToeplitzTablesMatchTheDefinition checks the table-driven hash against the bit-by-bit
// definition for any key and input.
func FuzzToeplitzTablesMatchTheDefinition(f *testing.F) {
	f.Add(MicrosoftRSSKey[:], msVectors[0].input(true))
	f.Add(MicrosoftRSSKey[:], msVectors[5].input(true))
	f.Add([]byte{1, 2, 3}, []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, key, input []byte) {
		if got, want := NewToeplitzKey(key).Hash(input), toeplitzBits(key, input); got != want {
			t.Errorf("tables give %#08x, the definition %#08x", got, want)
		}
	})
}

// FuzzComputeHints feeds any frame to every profile: no panic, the frame untouched, and a stripped
// frame exactly 4 bytes shorter with the MACs in place.
func FuzzComputeHints(f *testing.F) {
	f.Add(eth(0x0800, ipv4(msVectors[0], protoTCP, 4, 0), 0x8100, 0x6064))
	f.Add(eth(0x86dd, ipv6v(msVectors[5], protoTCP, hopByHop, homeAddrOpts(msVectors[5].src), routing2(msVectors[5].dst))))
	f.Add(eth(0x86dd, ipv6v(msVectors[6], protoUDP, fragHdr(8))))
	var ps []*Profile
	for _, n := range ProfileNames() {
		ps = append(ps, mustProfile(f, n))
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		orig := bytes.Clone(pkt)
		for _, p := range ps {
			h, out := ComputeHints(p, pkt, 1, nil)
			if !bytes.Equal(pkt, orig) {
				t.Fatalf("%s changed the frame", p.Name)
			}
			if h.VLANProto != 0 {
				if len(out) != len(pkt)-4 || !bytes.Equal(out[:12], pkt[:12]) || !bytes.Equal(out[12:], pkt[16:]) {
					t.Fatalf("%s stripped badly", p.Name)
				}
			} else if len(out) != len(pkt) {
				t.Fatalf("%s changed the length without stripping", p.Name)
			}
			if h.Valid&^h.Supported != 0 {
				t.Fatalf("%s: valid %v beyond supported %v", p.Name, h.Valid, h.Supported)
			}
		}
	})
}

// FuzzNetdevUpdate gives every profile's device any value of any length: no panic; a refused
// update changes nothing; an accepted one leaves the device where a second update with what it now
// reads back is a no-op.
func FuzzNetdevUpdate(f *testing.F) {
	f.Add(NewNetdev(mustProfile(f, "mlx5")).Attributes(), false)
	v := NewNetdev(mustProfile(f, "ice")).Attributes()
	le.PutUint32(v[20:], 4) // rx_queues
	f.Add(v, false)
	f.Add(v[:1136], true)
	f.Add(append(v, 0, 0, 0, 0, 0, 0, 0, 0), true)
	f.Fuzz(func(t *testing.T, val []byte, program bool) {
		origin := FromUser
		if program {
			origin = FromProgram
		}
		for _, name := range ProfileNames() {
			a, b := NewVethPair(mustProfile(t, name), "a", "b")
			before := a.Attributes()
			if err := a.Update(Latest(), val, origin); err != nil {
				if !bytes.Equal(a.Attributes(), before) {
					t.Fatalf("%s: refused (%v), yet changed", name, err)
				}
				continue
			}
			after := a.Attributes()
			if err := a.Update(Latest(), after, FromUser); err != nil {
				t.Fatalf("%s: its own value is refused: %v", name, err)
			}
			if !bytes.Equal(a.Attributes(), after) {
				t.Fatalf("%s: writing back what it reads changed it", name)
			}
			_ = b.Attributes()
			a.Receive(eth(0x0800, ipv4(msVectors[0], protoTCP, 0, 0), 0x8100, 1), 1)
		}
	})
}
