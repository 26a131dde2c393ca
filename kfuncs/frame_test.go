package kfuncs

import (
	"testing"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/traits"
	"github.com/xdpsim/xdpsim/vm"
)

// testFrame is a small xdp_buff with the semantics the Frame interface asks of the simulator: a
// 40-byte xdp_frame at offset 0, traits after it, metadata before data.
type testFrame struct {
	buf      []byte
	meta     int // data_meta
	data     int
	metaOK   bool
	traitsOK bool // v2's XDP_FLAGS_TRAITS_SUPPORTED
	v1       bool // traits follow the first RFC
	exported bool
	hints    *RxHints
	used     int // TraitsUsed calls
}

// newTestFrame makes a frame with 256 bytes of headroom and metalen bytes of metadata, traits
// initialised, metadata and traits supported.
func newTestFrame(t testing.TB, metalen int, hints *RxHints) *testFrame {
	f := &testFrame{buf: make([]byte, 256+64), data: 256, meta: 256 - metalen, metaOK: true, traitsOK: true, hints: hints}
	if err := traits.Init(f.buf[40:f.meta]); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *testFrame) Hints() *RxHints { return f.hints }

func (f *testFrame) UseTraits() []byte {
	if (f.v1 && !f.metaOK) || (!f.v1 && !f.traitsOK) {
		return nil
	}
	f.used++
	if !f.v1 {
		f.metaOK = false
	}
	return f.buf[40:f.meta]
}

func (f *testFrame) GrowMeta(n int) ([]byte, error) {
	switch {
	case !f.metaOK:
		return nil, errno.EOPNOTSUPP
	case f.exported:
		return nil, errno.EEXIST
	case f.meta-n < 40 || f.data-(f.meta-n) > 252:
		return nil, errno.ENOSPC
	}
	f.meta -= n
	f.exported = true
	f.traitsOK = false
	return f.buf[f.meta : f.meta+n], nil
}

// testMachine is a machine whose host is f, with a read-only region for bad-pointer tests.
type testMachine struct {
	m  *vm.Machine
	ro uint64 // a pointer into a read-only region of 16 bytes
}

func newTestMachine(host any) *testMachine {
	m := vm.NewMachine(nil)
	m.Host = host
	id := m.AddRegion(vm.NewRegion("rodata", make([]byte, 16), true))
	return &testMachine{m: m, ro: vm.Address(id, 0)}
}

// stack gives the address of byte off of the machine's stack, and the bytes there.
func (tm *testMachine) stack(off int) (uint64, []byte) {
	addr := vm.Address(vm.RegionStack, uint32(off))
	b, err := tm.m.Bytes(addr, 64, true)
	if err != nil {
		panic(err)
	}
	return addr, b
}

// call runs kfunc name (with every feature on, traits v2 unless v1) with the given arguments after
// r1 (the context, which the kfuncs ignore).
func (tm *testMachine) call(t testing.TB, name string, v1 bool, args ...uint64) (int64, error) {
	t.Helper()
	k, err := Lookup(name, Features{Traits: true, TraitsV1: v1, ExportToSkb: true})
	if err != nil {
		t.Fatal(err)
	}
	var r [5]uint64
	copy(r[1:], args)
	r0, err := k.Impl(tm.m, r[0], r[1], r[2], r[3], r[4])
	return int64(r0), err
}
