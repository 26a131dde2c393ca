package device_test

import (
	"errors"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/xdpsim/xdpsim/corpus"
	"github.com/xdpsim/xdpsim/sim/device"
)

// TestSteerIsTheQueueReceivePicks holds Steer, which picks a frame's RX queue before it runs, to
// the queue and hash Receive gives the program, for every device profile with four queues over
// every packet of the corpus traces (VLAN-tagged, with IPv6 extension headers, malformed) and
// frames with one to three tags, under the profile's key and another; and ReceiveHashed, given the
// hash SteerHash computed, to what Receive gives.
func TestSteerIsTheQueueReceivePicks(t *testing.T) {
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
	for _, name := range device.ProfileNames() {
		p, err := device.LookupProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the "+name+" profile steers as it receives", func(t *testing.T) {
			for _, key := range [][]byte{nil, otherKey} {
				d := device.NewNetdev(p)
				d.Queues, d.RSSKey = 4, key
				used := map[int]bool{}
				for i, f := range frames {
					rx := d.Receive(f, 0)
					q, spread := d.Steer(f)
					if q != rx.Queue || spread != rx.Spread {
						t.Errorf("frame %d: Steer says queue %d (spread %v), Receive %d (%v)", i, q, spread, rx.Queue, rx.Spread)
					}
					// What SteerHash hashed, ReceiveHashed does not hash again, to the same end.
					q, hash, spread := d.SteerHash(f)
					if hrx := d.ReceiveHashed(f, 0, hash); q != rx.Queue || spread != rx.Spread || !reflect.DeepEqual(hrx, rx) {
						t.Errorf("frame %d: SteerHash says queue %d hash %#x (spread %v), ReceiveHashed gives %+v, Receive %+v", i, q, hash, spread, hrx, rx)
					}
					used[q] = true
				}
				if p.RSS != 0 && len(used) < 2 {
					t.Errorf("every frame went to one queue")
				}
			}
			d := device.NewNetdev(p)
			if q, spread := d.Steer(frames[0]); q != 0 || spread {
				t.Errorf("one queue: Steer says queue %d (spread %v)", q, spread)
			}
		})
	}
}
