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
	tests := []struct {
		name, program, trace string
		packet               int
		// colours that must fill whole areas of the screenshot: the layers and areas drawn
		colours map[string]string
	}{
		{"an IPIP push shows the new outer header in every column after it", "encap", "mixed.pcap", 7,
			map[string]string{"Ethernet": "#64b5f6", "IPv4": "#81c784", "TCP": "#fff176", "xdp_frame": "#9e9e9e", "skb_shared_info": "#b0bec5", "a changed area's border": "#d32f2f"}},
		{"metadata in front of the packet shows in orange", "meta_tail", "mixed.pcap", 1,
			map[string]string{"metadata": "#ffb74d", "UDP": "#ffd54f", "Ethernet": "#64b5f6"}},
		{"a jumbo frame shows its fragments", "frags", "jumbo.pcap", 3,
			map[string]string{"fragment": "#cfd8dc", "payload": "#e0e0e0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record(t, tt.program, tt.trace, tt.packet)
			r.Title = fmt.Sprintf("%s, packet %d of %s", tt.program, tt.packet, tt.trace)
			page := filepath.Join(dir, fmt.Sprintf("frame-%s-%d.html", tt.program, tt.packet))
			f, err := os.Create(page)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.HTML(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			shot := filepath.Join(dir, fmt.Sprintf("frame-%s-%d.png", tt.program, tt.packet))
			count := pixels(screenshot(t, browser, page, shot))
			t.Logf("screenshot kept at %s", shot)
			if count["#ffffff"] == 0 {
				t.Fatal("the screenshot has no white page background: chromium drew nothing")
			}
			for what, c := range tt.colours {
				// A box is at least 150 pixels wide and 14 high: far more than text antialiasing
				// could give a colour by chance.
				if count[c] < 150*10 {
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
