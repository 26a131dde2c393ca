package picture_test

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xdpsim/xdpsim/sim/picture"
)

// artefactDir is where tests keep what a person should be able to look at afterwards (the
// browser's screenshots): $XDPSIM_ARTEFACTS, or artefacts/ at the top of the repository.
func artefactDir(t *testing.T) string {
	dir := os.Getenv("XDPSIM_ARTEFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium finds Debian's chromium, or skips saying why.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: the HTML picture is not checked in a browser (apt-get install chromium)")
	return ""
}

// screenshot renders an HTML file in headless chromium and returns the PNG's path.
func screenshot(t *testing.T, browser, page, shot string) image.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--window-size=1700,1300", "--screenshot="+shot, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot %s: %v", shot, err)
	}
	return img
}

// pixels counts the pixels of each colour ("#rrggbb") in an image.
func pixels(img image.Image) map[string]int {
	n := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			n[fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, bl>>8)]++
		}
	}
	return n
}

func TestTheHTMLPictureRendersInABrowser(t *testing.T) {
	browser := chromium(t)
	dir := artefactDir(t)
	xdp := func(program, trace string, n int) func(*testing.T) *picture.Run {
		return func(t *testing.T) *picture.Run {
			r := record(t, program, trace, n)
			r.Title = fmt.Sprintf("%s, packet %d of %s", program, n, trace)
			return r
		}
	}
	tests := []struct {
		name, file string
		run        func(*testing.T) *picture.Run
		// colours that must fill whole areas of the screenshot: the layers and areas drawn
		colours map[string]string
	}{
		{"an IPIP push shows the new outer header in every column after it", "frame-encap-7", xdp("encap", "mixed.pcap", 7),
			map[string]string{"Ethernet": "#64b5f6", "IPv4": "#81c784", "TCP": "#fff176", "xdp_frame": "#9e9e9e", "skb_shared_info": "#b0bec5", "a changed area's border": "#d32f2f"}},
		{"metadata in front of the packet shows in orange", "frame-meta_tail-1", xdp("meta_tail", "mixed.pcap", 1),
			map[string]string{"metadata": "#ffb74d", "UDP": "#ffd54f", "Ethernet": "#64b5f6"}},
		{"a jumbo frame shows its fragments", "frame-frags-3", xdp("frags", "jumbo.pcap", 3),
			map[string]string{"fragment": "#cfd8dc", "payload": "#e0e0e0"}},
		// The skb's pictures: a tc program alone, and the skb at tc ingress drawn on a page of its
		// own (the frame before it has the same colours).
		{"a tc program's new Ethernet header in front of the packet", "skb-tc_resize-3699", func(t *testing.T) *picture.Run {
			r := recordTC(t, "tc_resize", "mixed.pcap", 3699)
			r.Title = "tc_resize, packet 3699 of mixed.pcap"
			return r
		}, map[string]string{"Ethernet": "#64b5f6", "skb_shared_info": "#b0bec5", "a changed area's border": "#d32f2f"}},
		{"the skb at tc ingress keeps the XDP metadata in front of the MAC header", "skb-tc_meta-1", func(t *testing.T) *picture.Run {
			r := recordIngress(t, "tc_meta", "mixed.pcap", 1)
			return &picture.Run{Title: "tc_meta_reader at tc ingress, packet 1 of mixed.pcap", Skb: r.Skb}
		}, map[string]string{"metadata": "#ffb74d", "IPv4": "#81c784", "UDP": "#ffd54f"}},
		{"a dispatcher's frame after each slot", "frame-dispatcher-meta-1", func(t *testing.T) *picture.Run {
			r := recordSet(t, "meta", "vlan.pcap", 1)
			r.Title = "the meta set through libxdp's dispatcher, packet 1 of vlan.pcap"
			return r
		}, map[string]string{"metadata": "#ffb74d", "ICMPv4": "#f06292", "xdp_frame": "#9e9e9e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run(t)
			page := filepath.Join(dir, tt.file+".html")
			f, err := os.Create(page)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.HTML(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			shot := filepath.Join(dir, tt.file+".png")
			count := pixels(screenshot(t, browser, page, shot))
			t.Logf("screenshot kept at %s", shot)
			if count["#ffffff"] == 0 {
				t.Fatal("the screenshot has no white page background: chromium drew nothing")
			}
			for what, c := range tt.colours {
				// A box is at least 150 pixels wide and 14 high, a changed box's border 3 pixels
				// wide around it: far more than text antialiasing could give a colour by chance.
				least := 150 * 10
				if strings.Contains(what, "border") {
					least = 150 * 4
				}
				if count[c] < least {
					t.Errorf("%s (%s) covers %d pixels of the screenshot; the area is not drawn", what, c, count[c])
				}
			}
		})
	}
	// The layer colours the test looks for are the ones the picture uses.
	for name, c := range map[string]string{"Ethernet": "#64b5f6", "IPv4": "#81c784"} {
		if got := picture.Colour(picture.Area{Kind: picture.KindLayer, Name: name}); got != c {
			t.Errorf("the picture colours %s %s, the test looks for %s", name, got, c)
		}
	}
}
