package result

import (
	"strings"
	"testing"
)

func TestParseTask(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Task
		err      string
	}{
		{"idle is the CPU's idle task", "idle", IdleTask, ""},
		{"pairs change the default task", "pid=77,tgid=70,comm=nginx", Task{Pid: 77, Tgid: 70, Comm: "nginx", CgroupID: 1}, ""},
		{"ids and the cgroup take hex", "uid=0x3e8,gid=1000,cgroup=0x100000001,classid=0x10001", Task{Pid: 1000, Tgid: 1000, Uid: 1000, Gid: 1000, Comm: "xdpsim", CgroupID: 1<<32 + 1, ClassID: 0x10001}, ""},
		{"an unknown key is refused", "ppid=1", Task{}, "unknown key"},
		{"a pid over 32 bits is refused", "pid=0x100000000", Task{}, "does not fit"},
		{"a name over 15 bytes is refused", "comm=sixteen-bytes-xx", Task{}, "at most 15 bytes"},
		{"a word without = is refused", "root", Task{}, "KEY=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTask(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	t.Run("the idle task's name names the CPU", func(t *testing.T) {
		if got := IdleTask.CommOn(3); got != "swapper/3" {
			t.Errorf("got %q", got)
		}
	})
}
