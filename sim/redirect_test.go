package sim_test

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/xdpsim/xdpsim/sim"
	"github.com/xdpsim/xdpsim/sim/result"
)

// devmapVal is struct bpf_devmap_val as hex: the target ifindex and the ID of the program to run.
func devmapVal(ifindex, progID uint32) string {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, ifindex)
	binary.LittleEndian.PutUint32(b[4:], progID)
	return hex.EncodeToString(b)
}

func TestProgramsAttachedToDevmapEntriesRun(t *testing.T) {
	obj, err := sim.Load("testdata/devmap_prog.o", sim.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := obj.ProgramIDs()
	// Program IDs follow the function names: bad_action, drop_all, tag_egress, xdp_redirect.
	if ids["bad_action"] != 1 || ids["drop_all"] != 2 || ids["tag_egress"] != 3 || ids["xdp_redirect"] != 4 {
		t.Fatalf("program IDs %v", ids)
	}
	err = obj.LoadMaps(result.Maps{"ports": {
		{Key: "00000000", Value: devmapVal(5, ids["tag_egress"])},
		{Key: "01000000", Value: devmapVal(6, ids["drop_all"])},
		{Key: "02000000", Value: devmapVal(7, ids["bad_action"])},
		{Key: "03000000", Value: devmapVal(8, 0)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := obj.FindProgram("xdp_redirect")
	if err != nil {
		t.Fatal(err)
	}
	x, err := sim.NewXDP(p)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(last byte) []byte {
		b := make([]byte, 60)
		for i := range b {
			b[i] = 0xee
		}
		b[59] = last
		return b
	}
	tests := []struct {
		name      string
		slot      byte
		ifindex   uint32
		program   string
		progRet   uint32
		dropped   bool
		exception bool
	}{
		{"a devmap program that passes sends the frame it rewrote to the entry's device", 0, 5, "tag_egress", 2, false, false},
		{"a devmap program that drops stops the frame without an exception", 1, 6, "drop_all", 1, true, false},
		{"a devmap program returning XDP_TX drops the frame as an exception", 2, 7, "bad_action", 3, true, true},
		{"an entry without a program sends the frame as it is", 3, 8, "", 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := x.Run(frame(tt.slot), nil, sim.Conditions{IngressIfindex: 1})
			if o.Err != "" || o.Ret != 4 || o.Redirect == nil {
				t.Fatalf("ret %d, err %q, redirect %+v; want XDP_REDIRECT", o.Ret, o.Err, o.Redirect)
			}
			r := o.Redirect
			if r.Map != "ports" || r.Key != uint32(tt.slot) || r.Ifindex != tt.ifindex || r.Program != tt.program || r.ProgramRet != tt.progRet || r.Dropped != tt.dropped {
				t.Errorf("redirect %+v", *r)
			}
			if (o.Exception != "") != tt.exception {
				t.Errorf("exception %q", o.Exception)
			}
			if tt.program == "tag_egress" {
				if o.Data[0] != byte(tt.ifindex) {
					t.Errorf("frame starts with %#x, want the egress ifindex %d written by the devmap program", o.Data[0], tt.ifindex)
				}
				bss, err := obj.Maps[".bss"].Lookup(make([]byte, 4), 0)
				if err != nil {
					t.Fatal(err)
				}
				if eg, in := binary.LittleEndian.Uint32(bss), binary.LittleEndian.Uint32(bss[4:]); eg != tt.ifindex || in != 1 {
					t.Errorf("the devmap program saw egress %d ingress %d, want %d and 1", eg, in, tt.ifindex)
				}
			} else if o.Data[0] != 0xee {
				t.Errorf("frame was rewritten without a program that rewrites it")
			}
		})
	}
	t.Run("a slot without an entry falls back to the flags' action", func(t *testing.T) {
		if err := obj.Maps["ports"].Delete([]byte{0, 0, 0, 0}); err != nil {
			t.Fatal(err)
		}
		o := x.Run(frame(0), nil, sim.Conditions{IngressIfindex: 1})
		if o.Ret != 2 || o.Redirect != nil {
			t.Errorf("ret %d redirect %+v, want XDP_PASS and no redirect", o.Ret, o.Redirect)
		}
	})
}
