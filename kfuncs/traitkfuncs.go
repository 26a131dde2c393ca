package kfuncs

import (
	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/traits"
	"github.com/xdpsim/xdpsim/vm"
)

// The packet-traits kfuncs of the "traits: Per packet metadata KV store" RFC (Arthur Fabre; v1 March
// 2025, v2 April 2025, patch "trait: XDP support"), behind --feature traits. They never merged into
// Linux. Each returns -EOPNOTSUPP when the frame does not support traits ([Frame.UseTraits] gives nil);
// otherwise it returns what the store returns: a length or 0/1 on success, a negative errno from
// package traits on failure.

func init() {
	xdp := Arg{Name: "xdp", Type: "struct xdp_buff *", Kind: ArgCtx}
	key := Arg{Name: "key", Type: "u64", Kind: ArgScalar}
	register(Kfunc{
		Types: xdpOnly,
		Name:  "bpf_xdp_trait_set",
		Proto: "int bpf_xdp_trait_set(struct xdp_buff *xdp, u64 key, const void *val, u64 val__sz, u64 flags)",
		Doc:   "stores val__sz bytes under key (0..63): 0, -EINVAL, -EBUSY (set with another length), -ENOSPC or -EOPNOTSUPP",
		Args: []Arg{xdp, key,
			{Name: "val", Type: "const void *", Kind: ArgMem},
			{Name: "val__sz", Type: "u64", Kind: ArgMemSize},
			{Name: "flags", Type: "u64", Kind: ArgScalar}},
		Feature: FeatureTraits,
	}, traitImpl(setV1, setV2))
	register(Kfunc{
		Types:   xdpOnly,
		Name:    "bpf_xdp_trait_is_set",
		Proto:   "int bpf_xdp_trait_is_set(struct xdp_buff *xdp, u64 key)",
		Doc:     "reports whether key is set: 1, 0, -EINVAL or -EOPNOTSUPP",
		Args:    []Arg{xdp, key},
		Feature: FeatureTraits,
	}, traitImpl(isSetV1, isSetV2))
	register(Kfunc{
		Types: xdpOnly,
		Name:  "bpf_xdp_trait_get",
		Proto: "int bpf_xdp_trait_get(struct xdp_buff *xdp, u64 key, void *val, u64 val__sz)",
		Doc:   "copies the value of key to val and returns its length, or -EINVAL, -ENOENT, -ENOSPC (val too small), -EOPNOTSUPP",
		Args: []Arg{xdp, key,
			{Name: "val", Type: "void *", Kind: ArgMem, Write: true},
			{Name: "val__sz", Type: "u64", Kind: ArgMemSize}},
		Feature: FeatureTraits,
	}, traitImpl(getV1, getV2))
	register(Kfunc{
		Types:   xdpOnly,
		Name:    "bpf_xdp_trait_del",
		Proto:   "int bpf_xdp_trait_del(struct xdp_buff *xdp, u64 key)",
		Doc:     "removes key: 0, -EINVAL, -ENOENT or -EOPNOTSUPP",
		Args:    []Arg{xdp, key},
		Feature: FeatureTraits,
	}, traitImpl(delV1, delV2))
}

// traitImpl makes the kfunc for the layout the features choose, from one specialised for each.
func traitImpl(v1, v2 vm.Helper) func(Features) vm.Helper {
	return func(f Features) vm.Helper {
		if f.TraitsV1 {
			return v1
		}
		return v2
	}
}

// traitArea finds the frame's store; nil when the frame does not support traits.
func traitArea(m *vm.Machine) ([]byte, error) {
	f, err := frameOf(m)
	if err != nil {
		return nil, err
	}
	return f.UseTraits(), nil
}

// traitRet turns the store's result into r0.
func traitRet(n int, err error) (uint64, error) {
	if err == nil {
		return uint64(int64(n)), nil
	}
	if e, ok := err.(errno.Errno); ok { // the store never wraps its errors
		return e.Return(), nil
	}
	return 0, err
}

func traitSet(l traits.Layout, m *vm.Machine, key, valp, size, flags uint64) (uint64, error) {
	val, err := memArg(m, valp, size, false)
	if err != nil {
		return 0, err
	}
	area, err := traitArea(m)
	if area == nil {
		return errno.EOPNOTSUPP.Return(), err
	}
	return traitRet(0, l.Set(area, key, val, flags))
}

func traitIsSet(l traits.Layout, m *vm.Machine, key uint64) (uint64, error) {
	area, err := traitArea(m)
	if area == nil {
		return errno.EOPNOTSUPP.Return(), err
	}
	set, err := l.IsSet(area, key)
	if set {
		return 1, nil
	}
	return traitRet(0, err)
}

func traitGet(l traits.Layout, m *vm.Machine, key, valp, size uint64) (uint64, error) {
	val, err := memArg(m, valp, size, true)
	if err != nil {
		return 0, err
	}
	area, err := traitArea(m)
	if area == nil {
		return errno.EOPNOTSUPP.Return(), err
	}
	return traitRet(l.Get(area, key, val))
}

func traitDel(l traits.Layout, m *vm.Machine, key uint64) (uint64, error) {
	area, err := traitArea(m)
	if area == nil {
		return errno.EOPNOTSUPP.Return(), err
	}
	return traitRet(0, l.Del(area, key))
}

// The kfuncs, one per layout, so that each calls its operation directly.
func setV1(m *vm.Machine, _, k, v, n, fl uint64) (uint64, error) {
	return traitSet(traits.V1, m, k, v, n, fl)
}
func setV2(m *vm.Machine, _, k, v, n, fl uint64) (uint64, error) {
	return traitSet(traits.V2, m, k, v, n, fl)
}
func isSetV1(m *vm.Machine, _, k, _, _, _ uint64) (uint64, error) { return traitIsSet(traits.V1, m, k) }
func isSetV2(m *vm.Machine, _, k, _, _, _ uint64) (uint64, error) { return traitIsSet(traits.V2, m, k) }
func getV1(m *vm.Machine, _, k, v, n, _ uint64) (uint64, error) {
	return traitGet(traits.V1, m, k, v, n)
}
func getV2(m *vm.Machine, _, k, v, n, _ uint64) (uint64, error) {
	return traitGet(traits.V2, m, k, v, n)
}
func delV1(m *vm.Machine, _, k, _, _, _ uint64) (uint64, error) { return traitDel(traits.V1, m, k) }
func delV2(m *vm.Machine, _, k, _, _, _ uint64) (uint64, error) { return traitDel(traits.V2, m, k) }
