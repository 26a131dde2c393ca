package cover_test

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestTheHTMLPageRendersInABrowser draws the page of the parser after an ARP frame in headless
// chromium (when there is one): lines that ran (green), ran one way only (yellow) and never ran
// (red) must each fill whole rows of the screenshot.
func TestTheHTMLPageRendersInABrowser(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
		}
	}
	if browser == "" {
		t.Skip("no chromium on PATH: the coverage page is not checked in a browser (apt-get install chromium)")
	}
	dir := t.TempDir()
	page, shot := filepath.Join(dir, "cover.html"), filepath.Join(dir, "cover.png")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := profileOf(t, arpFrame).WriteHTML(f, "parser"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1200,1400", "--screenshot="+shot, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	r, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	count := map[[3]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			count[[3]uint32{cr >> 8, cg >> 8, cb >> 8}]++
		}
	}
	for what, c := range map[string][3]uint32{"a line that ran (#dfd)": {0xdd, 0xff, 0xdd}, "a line that went one way only (#ffc)": {0xff, 0xff, 0xcc},
		"a line that never ran (#fcc)": {0xff, 0xcc, 0xcc}} {
		// A row's background is ~1000 pixels wide and 15 high: far more than antialiasing gives.
		if count[c] < 5000 {
			t.Errorf("%s covers %d pixels of the screenshot; the rows are not drawn", what, count[c])
		}
	}
}
