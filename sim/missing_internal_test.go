package sim

import "testing"

// The simulator's Linux 6.18 BTF knows the kernel's kfuncs by their bpf_kfunc tag.
func TestLinuxKfuncsAreKnownFromTheBuiltInBTF(t *testing.T) {
	for name, want := range map[string]bool{
		"bpf_strlen":            true,  // offered to XDP, not simulated
		"bbr_init":              true,  // a kfunc for struct_ops programs only
		"bpf_dynptr_from_skb":   true,  // a tc kfunc
		"bpf_xdpsim_test_kfunc": false, // nobody's
		"bpf_map_lookup_elem":   false, // a helper's kernel function, no kfunc
	} {
		if got := linuxKfunc(name); got != want {
			t.Errorf("linuxKfunc(%s) = %v, want %v", name, got, want)
		}
	}
}
