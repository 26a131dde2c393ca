package kfuncs_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/kfuncs"
)

// TestRSSHashIsTheHashOfTheHints holds RSSHash, which picks a packet's RX queue before it runs, to
// the hash ComputeHints gives the program, for every device profile over every packet of the
// corpus traces (VLAN-tagged, with IPv6 extension headers, malformed) and frames with one to three
// tags, under the profile's key and another.
func TestRSSHashIsTheHashOfTheHints(t *testing.T) {
	var frames [][]byte
	for _, name := range []string{"mixed.pcap", "vlan.pcap", "ipv6ext.pcap", "malformed.pcap"} {
		f, err := os.Open(corpus.TracePath(name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, _, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, data)
		}
		f.Close()
	}
	// A UDP/IPv4 frame behind one, two and three tags.
	udp := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x01, 0xbb, 0, 8, 0, 0}
	for tags := 1; tags <= 3; tags++ {
		b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
		for range tags {
			b = append(b, 0x81, 0x00, 0x00, 0x07)
		}
		frames = append(frames, append(append(b, 0x08, 0x00), udp...))
	}
	otherKey := make([]byte, 40)
	for i := range otherKey {
		otherKey[i] = byte(i*37 + 11)
	}
	for _, name := range kfuncs.ProfileNames() {
		p, err := kfuncs.Profile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the "+name+" profile", func(t *testing.T) {
			for _, key := range [][]byte{nil, otherKey} {
				differ := 0
				for i, f := range frames {
					h, _ := kfuncs.ComputeHints(p, f, 0, key)
					if got := kfuncs.RSSHash(p, f, key); got != h.Hash {
						t.Errorf("frame %d: RSSHash %#x, the hints' hash %#x", i, got, h.Hash)
					}
					if h.Hash != 0 {
						differ++
					}
				}
				if p.RSS != 0 && differ == 0 {
					t.Errorf("no frame hashed at all")
				}
			}
		})
	}
}
