package kernel

import "testing"

func TestCPUListsGiveTheHighestCPUPlusOne(t *testing.T) {
	for _, tc := range []struct {
		list string
		want int
	}{{"0", 1}, {"0-1", 2}, {"0-3,8", 9}, {"0,2-5", 6}} {
		t.Run(tc.list, func(t *testing.T) {
			got, err := parseCPUList(tc.list)
			if err != nil || got != tc.want {
				t.Errorf("parseCPUList(%q) = %d, %v; want %d", tc.list, got, err, tc.want)
			}
		})
	}
	if _, err := parseCPUList("x"); err == nil {
		t.Error("a list that is no number is accepted")
	}
}
