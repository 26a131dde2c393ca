package device

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// uintMember is what __uint(name, n) from bpf_helpers.h declares: a pointer to an int[n].
func uintMember(name string, n uint32) btf.Member {
	i := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	return btf.Member{Name: name, Type: &btf.Pointer{Target: &btf.Array{Type: i, Index: &btf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4}, Nelems: n}}}
}

// runConfigSpec builds the BTF of an object declaring XDP_RUN_CONFIG(fn) with the given members.
func runConfigSpec(t *testing.T, section, varName string, linkage btf.VarLinkage, members ...btf.Member) *btf.Spec {
	t.Helper()
	s := &btf.Struct{Size: uint32(8 * len(members)), Members: members}
	for i := range s.Members {
		s.Members[i].Offset = btf.Bits(64 * i)
	}
	v := &btf.Var{Name: varName, Type: s, Linkage: linkage}
	ds := &btf.Datasec{Name: section, Size: s.Size, Vars: []btf.VarSecinfo{{Type: v, Size: s.Size}}}
	b, err := btf.NewBuilder([]btf.Type{ds}, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestParseRunConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    func(t *testing.T) *btf.Spec
		want    RunConfig
		found   bool
		wantErr string // the errno libxdp answers, "" for none
	}{
		{"no BTF leaves the defaults", func(*testing.T) *btf.Spec { return nil }, DefaultRunConfig(), false, ""},
		{"a priority and a second action add to XDP_PASS", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.GlobalVar, uintMember("priority", 10), uintMember("XDP_DROP", 1))
		}, RunConfig{10, 1<<Pass | 1<<Drop}, true, ""},
		{"an action set to 0 removes it, XDP_PASS included", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.GlobalVar, uintMember("XDP_PASS", 0), uintMember("XDP_TX", 1))
		}, RunConfig{DefaultPriority, 1 << TX}, true, ""},
		{"members apply in order: the last word on an action wins", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.GlobalVar, uintMember("XDP_ABORTED", 1), uintMember("XDP_ABORTED", 0), uintMember("priority", 0))
		}, RunConfig{0, DefaultActions}, true, ""},
		{"any non-zero value enables an action", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.GlobalVar, uintMember("XDP_REDIRECT", 7))
		}, RunConfig{DefaultPriority, 1<<Pass | 1<<Redirect}, true, ""},
		{"a static variable is read too", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.StaticVar, uintMember("priority", 3))
		}, RunConfig{3, DefaultActions}, true, ""},
		{"another function's struct leaves the defaults", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_b", btf.GlobalVar, uintMember("priority", 3))
		}, DefaultRunConfig(), false, ""},
		{"a struct in another section is not a run config", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, ".maps", "_xdp_a", btf.GlobalVar, uintMember("priority", 3))
		}, DefaultRunConfig(), false, ""},
		{"an unknown member makes the program unloadable", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.GlobalVar, uintMember("XDP_pass", 1))
		}, RunConfig{}, false, "ENOTSUP"},
		{"an action that is not declared with __uint is refused", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.GlobalVar, btf.Member{Name: "XDP_DROP", Type: &btf.Int{Name: "int", Size: 4}})
		}, RunConfig{}, false, "EINVAL"},
		{"an extern variable is refused", func(t *testing.T) *btf.Spec {
			return runConfigSpec(t, RunConfigSection, "_xdp_a", btf.ExternVar, uintMember("priority", 3))
		}, RunConfig{}, false, "EOPNOTSUPP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found, err := ParseRunConfig(tc.spec(t), "xdp_a")
			if tc.wantErr != "" {
				var rce *RunConfigError
				if !errors.As(err, &rce) || rce.Errno != tc.wantErr {
					t.Fatalf("got %v, want a %s error", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || found != tc.found {
				t.Errorf("got %+v found %v err %v, want %+v found %v", got, found, err, tc.want, tc.found)
			}
		})
	}
}

func TestActions(t *testing.T) {
	t.Run("they print in action order as xdp-loader status does", func(t *testing.T) {
		s := Actions(0).With(Redirect).With(Pass).With(Drop) | 1<<ContinueRetval
		if got := s.String(); got != "XDP_DROP,XDP_PASS,XDP_REDIRECT" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("they parse as xdp-loader's --actions takes them, and leniently", func(t *testing.T) {
		s, err := ParseActions("XDP_PASS,drop, tx")
		if err != nil || s != 1<<Pass|1<<Drop|1<<TX {
			t.Errorf("got %v, %v", s, err)
		}
		if s, err := ParseActions(""); err != nil || s != 0 {
			t.Errorf("empty: got %v, %v", s, err)
		}
	})
	t.Run("an unknown name is an error naming the choices", func(t *testing.T) {
		if _, err := ParseActions("XDP_PASS,XDP_BOUNCE"); err == nil || err.Error() != `unknown XDP action "XDP_BOUNCE" (XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX or XDP_REDIRECT)` {
			t.Errorf("got %v", err)
		}
	})
	t.Run("values beyond XDP_REDIRECT print as numbers", func(t *testing.T) {
		if got := Action(7).String(); got != "action 7" {
			t.Errorf("got %q", got)
		}
	})
}
