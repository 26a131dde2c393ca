package kfuncs

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/vm"
)

// Dynamic pointers (kernel/bpf/helpers.c, net/core/filter.c, Linux 6.18): a struct bpf_dynptr on the
// program's stack names memory (a map value or the stack: LOCAL; a ring buffer sample: RINGBUF)
// or the packet (XDP, SKB) with an offset and a size that kfuncs and helpers check every access
// against. The program never reads the 16 bytes itself (the verifier forbids it), so the simulator
// keeps its own encoding there: the data address (0 for a NULL dynptr), the size word (size in the
// low 24 bits, the type in bits 28..30, read-only in bit 31, as the kernel's bpf_dynptr_kern) and
// the offset.

// Dynptr types (enum bpf_dynptr_type).
const (
	DynptrInvalid = 0
	DynptrLocal   = 1
	DynptrRingbuf = 2
	DynptrSKB     = 3
	DynptrXDP     = 4
)

const (
	dynptrMaxSize   = 1<<24 - 1
	dynptrTypeShift = 28
	dynptrSizeMask  = 0xffffff
	dynptrRdonly    = 1 << 31
	// DynptrBytes is sizeof(struct bpf_dynptr).
	DynptrBytes = 16
)

// E2BIG and ERANGE, as the dynptr functions return them.
const (
	E2BIG  errno.Errno = 7
	ERANGE errno.Errno = 34
)

// Dynptr is the state of a struct bpf_dynptr (the kernel's bpf_dynptr_kern).
type Dynptr struct {
	// Data is the machine address of LOCAL and RINGBUF data, the context's for XDP and SKB;
	// 0 for a NULL dynptr.
	Data   uint64
	Size   uint32 // with the type and read-only bits
	Offset uint32
}

// NewDynptr is bpf_dynptr_init.
func NewDynptr(data uint64, typ int, offset, size uint32) Dynptr {
	return Dynptr{Data: data, Size: size | uint32(typ)<<dynptrTypeShift, Offset: offset}
}

// Type is the dynptr's type.
func (d Dynptr) Type() int { return int(d.Size&^dynptrRdonly) >> dynptrTypeShift }

// Len is __bpf_dynptr_size.
func (d Dynptr) Len() uint32 { return d.Size & dynptrSizeMask }

// Rdonly says the dynptr may not be written through.
func (d Dynptr) Rdonly() bool { return d.Size&dynptrRdonly != 0 }

// Null says the dynptr names nothing.
func (d Dynptr) Null() bool { return d.Data == 0 }

// CheckSize is bpf_dynptr_check_size.
func CheckSize(size uint32) errno.Errno {
	if size > dynptrMaxSize {
		return errno.E2BIG
	}
	return 0
}

// checkOffLen is bpf_dynptr_check_off_len.
func (d Dynptr) checkOffLen(off, n uint32) errno.Errno {
	size := d.Len()
	if n > size || off > size-n {
		return errno.E2BIG
	}
	return 0
}

// LoadDynptr reads the dynptr at addr (16 bytes the program points at).
func LoadDynptr(m *vm.Machine, addr uint64) (Dynptr, error) {
	b, err := m.Bytes(addr, DynptrBytes, false)
	if err != nil {
		return Dynptr{}, err
	}
	return Dynptr{Data: le.Uint64(b), Size: le.Uint32(b[8:]), Offset: le.Uint32(b[12:])}, nil
}

// Store writes the dynptr at addr.
func (d Dynptr) Store(m *vm.Machine, addr uint64) error {
	b, err := m.Bytes(addr, DynptrBytes, true)
	if err != nil {
		return err
	}
	le.PutUint64(b, d.Data)
	le.PutUint32(b[8:], d.Size)
	le.PutUint32(b[12:], d.Offset)
	return nil
}

// Packet is what the dynptrs of type XDP (and SKB) need of the program's packet. Package sim
// implements it with its run state.
type Packet interface {
	// PacketLen is xdp_get_buff_len: the linear part and the fragments.
	PacketLen() uint32
	// PacketLoad copies len(buf) bytes at off into buf, as __bpf_xdp_load_bytes does (0,
	// EFAULT for an offset or length above 0xffff, EINVAL past the end) or __bpf_skb_load_bytes
	// (0, EFAULT).
	PacketLoad(off uint32, buf []byte) errno.Errno
	// PacketStore writes buf at off, as __bpf_xdp_store_bytes or __bpf_skb_store_bytes (whose
	// flags it takes) do.
	PacketStore(off uint32, buf []byte, flags uint64) errno.Errno
	// PacketPointer is the machine address of n bytes at off when they lie in one piece (the
	// linear part, or one XDP fragment), else 0 (bpf_xdp_pointer, skb_pointer_if_linear); an
	// errno when they are out of range.
	PacketPointer(m *vm.Machine, off, n uint32) (uint64, errno.Errno)
}

// ErrNoPacket is matched by errors.Is when a dynptr of the packet is used on a machine whose Host
// has no packet.
var ErrNoPacket = fmt.Errorf("the machine's host has no packet")

func packetOf(m *vm.Machine) (Packet, error) {
	p, ok := m.Host.(Packet)
	if !ok {
		return nil, fmt.Errorf("%w (host is %T)", ErrNoPacket, m.Host)
	}
	return p, nil
}

// DynptrRead is __bpf_dynptr_read: dst gets len(dst) bytes at off of the dynptr.
func DynptrRead(m *vm.Machine, d Dynptr, off uint32, dst []byte, flags uint64) (errno.Errno, error) {
	if d.Null() || flags != 0 {
		return errno.EINVAL, nil
	}
	if e := d.checkOffLen(off, uint32(len(dst))); e != 0 {
		return e, nil
	}
	switch d.Type() {
	case DynptrLocal, DynptrRingbuf:
		src, err := m.Bytes(d.Data+uint64(d.Offset)+uint64(off), len(dst), false)
		if err != nil {
			return 0, err
		}
		copy(dst, src)
		return 0, nil
	case DynptrXDP, DynptrSKB:
		p, err := packetOf(m)
		if err != nil {
			return 0, err
		}
		return p.PacketLoad(d.Offset+off, dst), nil
	}
	return errno.EFAULT, nil
}

// DynptrWrite is __bpf_dynptr_write: len(src) bytes at off of the dynptr become src.
func DynptrWrite(m *vm.Machine, d Dynptr, off uint32, src []byte, flags uint64) (errno.Errno, error) {
	if d.Null() || d.Rdonly() {
		return errno.EINVAL, nil
	}
	if e := d.checkOffLen(off, uint32(len(src))); e != 0 {
		return e, nil
	}
	switch d.Type() {
	case DynptrLocal, DynptrRingbuf:
		if flags != 0 {
			return errno.EINVAL, nil
		}
		dst, err := m.Bytes(d.Data+uint64(d.Offset)+uint64(off), len(src), true)
		if err != nil {
			return 0, err
		}
		copy(dst, src)
		return 0, nil
	case DynptrXDP, DynptrSKB:
		if d.Type() == DynptrXDP && flags != 0 {
			return errno.EINVAL, nil
		}
		p, err := packetOf(m)
		if err != nil {
			return 0, err
		}
		return p.PacketStore(d.Offset+off, src, flags), nil
	}
	return errno.EFAULT, nil
}

// DynptrData is bpf_dynptr_data: the address of n bytes at off of a LOCAL or RINGBUF dynptr, 0
// for packets (they take bpf_dynptr_slice), read-only dynptrs and ranges out of bounds.
func DynptrData(d Dynptr, off, n uint32) uint64 {
	if d.Null() || d.checkOffLen(off, n) != 0 || d.Rdonly() {
		return 0
	}
	switch d.Type() {
	case DynptrLocal, DynptrRingbuf:
		return d.Data + uint64(d.Offset) + uint64(off)
	}
	return 0
}

func init() {
	dp := Arg{Name: "p", Type: "const struct bpf_dynptr *", Kind: ArgDynptr}
	u32 := func(name string) Arg { return Arg{Name: name, Type: "u32", Kind: ArgScalar} }
	register(Kfunc{
		Name:  "bpf_dynptr_from_xdp",
		Proto: "int bpf_dynptr_from_xdp(struct xdp_md *x, u64 flags, struct bpf_dynptr *ptr__uninit)",
		Doc:   "makes a dynptr of the whole packet (linear part and fragments): 0, or -EINVAL (flags set; the dynptr is NULL then)",
		Args: []Arg{{Name: "x", Type: "struct xdp_md *", Kind: ArgCtx}, {Name: "flags", Type: "u64", Kind: ArgScalar},
			{Name: "ptr__uninit", Type: "struct bpf_dynptr *", Kind: ArgDynptrUninit}},
		Types: []ebpf.ProgramType{ebpf.XDP},
	}, func(Features) vm.Helper { return dynptrFromXDP })
	register(Kfunc{
		Name:  "bpf_dynptr_from_skb",
		Proto: "int bpf_dynptr_from_skb(struct __sk_buff *s, u64 flags, struct bpf_dynptr *ptr__uninit)",
		Doc:   "makes a dynptr of the whole packet (skb->len bytes): 0, or -EINVAL (flags set; the dynptr is NULL then)",
		Args: []Arg{{Name: "s", Type: "struct __sk_buff *", Kind: ArgCtx}, {Name: "flags", Type: "u64", Kind: ArgScalar},
			{Name: "ptr__uninit", Type: "struct bpf_dynptr *", Kind: ArgDynptrUninit}},
		Types: []ebpf.ProgramType{ebpf.SchedCLS},
	}, func(Features) vm.Helper { return dynptrFromSkb })
	for _, rdwr := range []bool{false, true} {
		name, doc := "bpf_dynptr_slice", "a pointer to buffer__szk bytes at offset: into the data when they lie in one piece, else a copy in buffer__opt; NULL when out of bounds (or no buffer was given)"
		if rdwr {
			name, doc = "bpf_dynptr_slice_rdwr", "as bpf_dynptr_slice, writable; NULL for a read-only dynptr (writes to the buffer need bpf_dynptr_write to reach the packet)"
		}
		refused := ""
		if rdwr {
			refused = name + "() is not allowed" // EPERM, for XDP and tc programs alike
		}
		register(Kfunc{
			Name:    name,
			Proto:   "void *" + name + "(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)",
			Doc:     doc,
			Refused: refused,
			Args: []Arg{dp, u32("offset"), {Name: "buffer__opt", Type: "void *", Kind: ArgMem, Write: true, Nullable: true},
				{Name: "buffer__szk", Type: "u32", Kind: ArgConstSize}},
			Flags: KFRetNull, Ret: RetMem, RetType: "void",
		}, func(Features) vm.Helper { return dynptrSlice(rdwr) })
	}
	register(Kfunc{
		Name:  "bpf_dynptr_adjust",
		Proto: "int bpf_dynptr_adjust(const struct bpf_dynptr *p, u32 start, u32 end)",
		Doc:   "narrows the dynptr to [start, end) of what it names: 0, -EINVAL (NULL, or start after end) or -ERANGE (past its size)",
		Args:  []Arg{dp, u32("start"), u32("end")},
	}, func(Features) vm.Helper { return dynptrAdjust })
	register(Kfunc{
		Name:  "bpf_dynptr_is_null",
		Proto: "bool bpf_dynptr_is_null(const struct bpf_dynptr *p)",
		Doc:   "says whether the dynptr names nothing",
		Args:  []Arg{dp},
	}, func(Features) vm.Helper { return dynptrIsNull })
	register(Kfunc{
		Name:  "bpf_dynptr_is_rdonly",
		Proto: "bool bpf_dynptr_is_rdonly(const struct bpf_dynptr *p)",
		Doc:   "says whether the dynptr is read-only (false for a NULL one)",
		Args:  []Arg{dp},
	}, func(Features) vm.Helper { return dynptrIsRdonly })
	register(Kfunc{
		Name:  "bpf_dynptr_size",
		Proto: "__u32 bpf_dynptr_size(const struct bpf_dynptr *p)",
		Doc:   "the dynptr's size, or (u32)-EINVAL for a NULL one",
		Args:  []Arg{dp},
	}, func(Features) vm.Helper { return dynptrSize })
	register(Kfunc{
		Name:  "bpf_dynptr_clone",
		Proto: "int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit)",
		Doc:   "copies the dynptr: 0, or -EINVAL for a NULL one (the clone is NULL then)",
		Args:  []Arg{dp, {Name: "clone__uninit", Type: "struct bpf_dynptr *", Kind: ArgDynptrUninit}},
	}, func(Features) vm.Helper { return dynptrClone })
	register(Kfunc{
		Name:  "bpf_dynptr_copy",
		Proto: "int bpf_dynptr_copy(struct bpf_dynptr *dst_ptr, u32 dst_off, struct bpf_dynptr *src_ptr, u32 src_off, u32 size)",
		Doc:   "copies size bytes from one dynptr to another: 0, -EINVAL, -E2BIG or what the packet access returns",
		Args: []Arg{{Name: "dst_ptr", Type: "struct bpf_dynptr *", Kind: ArgDynptr}, u32("dst_off"),
			{Name: "src_ptr", Type: "struct bpf_dynptr *", Kind: ArgDynptr}, u32("src_off"), u32("size")},
	}, func(Features) vm.Helper { return dynptrCopy })
	register(Kfunc{
		Name:  "bpf_dynptr_memset",
		Proto: "int bpf_dynptr_memset(struct bpf_dynptr *p, u32 offset, u32 size, u8 val)",
		Doc:   "sets size bytes at offset to val: 0, -EINVAL (NULL or read-only) or -E2BIG (out of bounds)",
		Args:  []Arg{{Name: "p", Type: "struct bpf_dynptr *", Kind: ArgDynptr}, u32("offset"), u32("size"), {Name: "val", Type: "u8", Kind: ArgScalar}},
	}, func(Features) vm.Helper { return dynptrMemset })
}

func dynptrFromXDP(m *vm.Machine, x, flags, ptr, _, _ uint64) (uint64, error) {
	return dynptrFromPacket(m, x, flags, ptr, DynptrXDP)
}

func dynptrFromSkb(m *vm.Machine, skb, flags, ptr, _, _ uint64) (uint64, error) {
	return dynptrFromPacket(m, skb, flags, ptr, DynptrSKB)
}

// dynptrFromPacket is bpf_dynptr_from_xdp and bpf_dynptr_from_skb (for tc programs, which may
// write the packet): a dynptr of the whole packet, or -EINVAL and a NULL dynptr for flags.
func dynptrFromPacket(m *vm.Machine, ctx, flags, ptr uint64, typ int) (uint64, error) {
	if flags != 0 {
		return errno.EINVAL.Return(), Dynptr{}.Store(m, ptr)
	}
	p, err := packetOf(m)
	if err != nil {
		return 0, err
	}
	return 0, NewDynptr(ctx, typ, 0, p.PacketLen()).Store(m, ptr)
}

func dynptrSlice(rdwr bool) vm.Helper {
	return func(m *vm.Machine, dp, off, buf, n, _ uint64) (uint64, error) {
		d, err := LoadDynptr(m, dp)
		if err != nil {
			return 0, err
		}
		o, l := uint32(off), uint32(n)
		if d.Null() || (rdwr && d.Rdonly()) || d.checkOffLen(o, l) != 0 {
			return 0, nil
		}
		switch d.Type() {
		case DynptrLocal, DynptrRingbuf:
			return d.Data + uint64(d.Offset) + uint64(o), nil
		case DynptrXDP, DynptrSKB:
			p, err := packetOf(m)
			if err != nil {
				return 0, err
			}
			addr, e := p.PacketPointer(m, d.Offset+o, l)
			if addr != 0 && e == 0 {
				return addr, nil
			}
			if buf == 0 {
				return 0, nil
			}
			b, err := m.Bytes(buf, int(l), true)
			if err != nil {
				return 0, err
			}
			p.PacketLoad(d.Offset+o, b) // bpf_xdp_copy_buf, skb_header_pointer
			return buf, nil
		}
		return 0, nil
	}
}

func dynptrAdjust(m *vm.Machine, dp, start, end, _, _ uint64) (uint64, error) {
	d, err := LoadDynptr(m, dp)
	if err != nil {
		return 0, err
	}
	s, e := uint32(start), uint32(end)
	if d.Null() || s > e {
		return errno.EINVAL.Return(), nil
	}
	if size := d.Len(); s > size || e > size {
		return errno.ERANGE.Return(), nil
	}
	d.Offset += s
	d.Size = d.Size&^dynptrSizeMask | (e - s)
	return 0, d.Store(m, dp)
}

func dynptrIsNull(m *vm.Machine, dp, _, _, _, _ uint64) (uint64, error) {
	d, err := LoadDynptr(m, dp)
	if err != nil || !d.Null() {
		return 0, err
	}
	return 1, nil
}

func dynptrIsRdonly(m *vm.Machine, dp, _, _, _, _ uint64) (uint64, error) {
	d, err := LoadDynptr(m, dp)
	if err != nil || d.Null() || !d.Rdonly() {
		return 0, err
	}
	return 1, nil
}

func dynptrSize(m *vm.Machine, dp, _, _, _, _ uint64) (uint64, error) {
	d, err := LoadDynptr(m, dp)
	if err != nil {
		return 0, err
	}
	if d.Null() {
		return uint64(uint32(errno.EINVAL.Return())), nil // (__u32)-EINVAL
	}
	return uint64(d.Len()), nil
}

func dynptrClone(m *vm.Machine, dp, clone, _, _, _ uint64) (uint64, error) {
	d, err := LoadDynptr(m, dp)
	if err != nil {
		return 0, err
	}
	if d.Null() {
		return errno.EINVAL.Return(), Dynptr{}.Store(m, clone)
	}
	return 0, d.Store(m, clone)
}

// sliceOf is bpf_dynptr_slice without a buffer, for copy and memset: the address of n bytes at off
// when they lie in one piece, else 0.
func sliceOf(m *vm.Machine, d Dynptr, off, n uint32, rdwr bool) (uint64, error) {
	if d.Null() || (rdwr && d.Rdonly()) || d.checkOffLen(off, n) != 0 {
		return 0, nil
	}
	switch d.Type() {
	case DynptrLocal, DynptrRingbuf:
		return d.Data + uint64(d.Offset) + uint64(off), nil
	case DynptrXDP, DynptrSKB:
		p, err := packetOf(m)
		if err != nil {
			return 0, err
		}
		addr, e := p.PacketPointer(m, d.Offset+off, n)
		if e != 0 {
			return 0, nil
		}
		return addr, nil
	}
	return 0, nil
}

func dynptrCopy(m *vm.Machine, dstp, dstOff, srcp, srcOff, size uint64) (uint64, error) {
	dst, err := LoadDynptr(m, dstp)
	if err != nil {
		return 0, err
	}
	src, err := LoadDynptr(m, srcp)
	if err != nil {
		return 0, err
	}
	do, so, n := uint32(dstOff), uint32(srcOff), uint32(size)
	srcSlice, err := sliceOf(m, src, so, n, false)
	if err != nil {
		return 0, err
	}
	dstSlice, err := sliceOf(m, dst, do, n, true)
	if err != nil {
		return 0, err
	}
	switch {
	case srcSlice != 0 && dstSlice != 0:
		from, err := m.Bytes(srcSlice, int(n), false)
		if err != nil {
			return 0, err
		}
		to, err := m.Bytes(dstSlice, int(n), true)
		if err != nil {
			return 0, err
		}
		copy(to, from)
		return 0, nil
	case srcSlice != 0:
		from, err := m.Bytes(srcSlice, int(n), false)
		if err != nil {
			return 0, err
		}
		e, err := DynptrWrite(m, dst, do, from, 0)
		return e.Return(), err
	case dstSlice != 0:
		to, err := m.Bytes(dstSlice, int(n), true)
		if err != nil {
			return 0, err
		}
		e, err := DynptrRead(m, src, so, to, 0)
		return e.Return(), err
	}
	if dst.checkOffLen(do, n) != 0 || src.checkOffLen(so, n) != 0 {
		return errno.E2BIG.Return(), nil
	}
	// In the kernel's 256-byte chunks, each read before it is written.
	buf := make([]byte, 256)
	for off := uint32(0); off < n; off += 256 {
		chunk := buf[:min(256, n-off)]
		if e, err := DynptrRead(m, src, so+off, chunk, 0); err != nil || e != 0 {
			return e.Return(), err
		}
		if e, err := DynptrWrite(m, dst, do+off, chunk, 0); err != nil || e != 0 {
			return e.Return(), err
		}
	}
	return 0, nil
}

func dynptrMemset(m *vm.Machine, dp, off, size, val, _ uint64) (uint64, error) {
	d, err := LoadDynptr(m, dp)
	if err != nil {
		return 0, err
	}
	o, n := uint32(off), uint32(size)
	if s, err := sliceOf(m, d, o, n, true); err != nil {
		return 0, err
	} else if s != 0 {
		b, err := m.Bytes(s, int(n), true)
		if err != nil {
			return 0, err
		}
		for i := range b {
			b[i] = byte(val)
		}
		return 0, nil
	}
	if d.Rdonly() {
		return errno.EINVAL.Return(), nil
	}
	if e := d.checkOffLen(o, n); e != 0 {
		return e.Return(), nil
	}
	if n == 0 {
		return 0, nil
	}
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(val)
	}
	e, err := DynptrWrite(m, d, o, buf, 0)
	return e.Return(), err
}
