package kfuncs

import (
	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// Open-coded numeric iterators (kernel/bpf/bpf_iter.c, Linux 6.18), the kfuncs behind libbpf's
// bpf_for() and bpf_repeat(): struct bpf_iter_num is 8 bytes on the program's stack, laid out as
// the kernel's bpf_iter_num_kern { int cur; int end; }, so the pointer bpf_iter_num_next returns
// points at its first 4 bytes.

// maxIterLoops is BPF_MAX_LOOPS: the most values one iterator may give.
const maxIterLoops = 8 * 1024 * 1024

func init() {
	it := Arg{Name: "it", Type: "struct bpf_iter_num *", Kind: ArgIter}
	register(Kfunc{
		Name:  "bpf_iter_num_new",
		Proto: "int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end)",
		Doc:   "starts an iterator over [start, end): 0, -EINVAL when start > end, -E2BIG for more than BPF_MAX_LOOPS values (the iterator is then empty)",
		Args:  []Arg{it, {Name: "start", Type: "int", Kind: ArgScalar}, {Name: "end", Type: "int", Kind: ArgScalar}},
		Flags: KFIterNew,
	}, func(Features) vm.Helper { return iterNumNew })
	register(Kfunc{
		Name:  "bpf_iter_num_next",
		Proto: "int *bpf_iter_num_next(struct bpf_iter_num *it)",
		Doc:   "the next value (a pointer into the iterator), or NULL when the range is done (the iterator is then empty)",
		Args:  []Arg{it},
		Flags: KFIterNext | KFRetNull, Ret: RetMem, RetType: "int",
	}, func(Features) vm.Helper { return iterNumNext })
	register(Kfunc{
		Name:  "bpf_iter_num_destroy",
		Proto: "void bpf_iter_num_destroy(struct bpf_iter_num *it)",
		Doc:   "empties the iterator",
		Args:  []Arg{it},
		Flags: KFIterDestroy,
	}, func(Features) vm.Helper { return iterNumDestroy })
}

func iterNum(m *vm.Machine, it uint64) ([]byte, error) { return m.Bytes(it, 8, true) }

func iterNumNew(m *vm.Machine, it, start, end, _, _ uint64) (uint64, error) {
	b, err := iterNum(m, it)
	if err != nil {
		return 0, err
	}
	s, e := int32(start), int32(end)
	switch {
	case s > e:
		clear(b)
		return errno.EINVAL.Return(), nil
	case int64(e)-int64(s) > maxIterLoops:
		clear(b)
		return errno.E2BIG.Return(), nil
	}
	le.PutUint32(b, uint32(s-1)) // next() moves to start first; start-1 may wrap, as in C
	le.PutUint32(b[4:], uint32(e))
	return 0, nil
}

func iterNumNext(m *vm.Machine, it, _, _, _, _ uint64) (uint64, error) {
	b, err := iterNum(m, it)
	if err != nil {
		return 0, err
	}
	cur, end := int32(le.Uint32(b)), int32(le.Uint32(b[4:]))
	next := cur + 1 // int arithmetic, wrapping as the kernel's (built with -fno-strict-overflow)
	if int64(next) >= int64(end) {
		clear(b)
		return 0, nil
	}
	le.PutUint32(b, uint32(next))
	return it, nil
}

func iterNumDestroy(m *vm.Machine, it, _, _, _, _ uint64) (uint64, error) {
	b, err := iterNum(m, it)
	if err != nil {
		return 0, err
	}
	clear(b)
	return 0, nil
}
