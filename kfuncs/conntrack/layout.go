package conntrack

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Layout says where the fields a program can read through a struct nf_conn pointer lie, as the
// kernel's BTF lays the struct out: programs compiled with CO-RE find the fields at the offsets of
// the BTF the simulator resolves their relocations against, so the simulated nf_conn must put
// them there too.
type Layout struct {
	// Size is sizeof(struct nf_conn).
	Size int
	// Offsets of nf_conn's timeout (u32, jiffies), zone (struct nf_conntrack_zone: u16 id, u8
	// flags, u8 dir), status (unsigned long) and mark (u32).
	Timeout, Zone, Status, Mark int
	// Tuple holds the offsets of tuplehash[IP_CT_DIR_ORIGINAL].tuple and
	// tuplehash[IP_CT_DIR_REPLY].tuple.
	Tuple [2]int
	// Offsets inside struct nf_conntrack_tuple: src.u3 (16 bytes), src.u.all (__be16),
	// src.l3num (u16), dst.u3, dst.u.all, dst.protonum (u8), dst.dir (u8).
	SrcAddr, SrcPort, L3Num, DstAddr, DstPort, Proto, Dir int
}

// LayoutFromBTF finds the layout of struct nf_conn in a kernel's BTF.
func LayoutFromBTF(spec *btf.Spec) (Layout, error) {
	var conn *btf.Struct
	if err := spec.TypeByName("nf_conn", &conn); err != nil {
		return Layout{}, fmt.Errorf("struct nf_conn in the kernel BTF: %w", err)
	}
	var tuple *btf.Struct
	if err := spec.TypeByName("nf_conntrack_tuple", &tuple); err != nil {
		return Layout{}, fmt.Errorf("struct nf_conntrack_tuple in the kernel BTF: %w", err)
	}
	size, err := btf.Sizeof(conn)
	if err != nil {
		return Layout{}, err
	}
	l := Layout{Size: size}
	var errs []error
	at := func(t btf.Type, path string) int {
		off, err := offsetOf(t, path)
		if err != nil {
			errs = append(errs, err)
		}
		return off
	}
	l.Timeout = at(conn, "timeout")
	l.Zone = at(conn, "zone")
	l.Status = at(conn, "status")
	l.Mark = at(conn, "mark")
	hash := at(conn, "tuplehash")
	elem := mustMember(conn, "tuplehash") // struct nf_conntrack_tuple_hash
	inHash, hashSize := 0, 0
	if elem != nil {
		inHash = at(elem, "tuple")
		if hashSize, err = btf.Sizeof(elem); err != nil {
			errs = append(errs, fmt.Errorf("tuplehash: %w", err))
		}
	}
	l.Tuple = [2]int{hash + inHash, hash + hashSize + inHash}
	l.SrcAddr = at(tuple, "src.u3")
	l.SrcPort = at(tuple, "src.u")
	l.L3Num = at(tuple, "src.l3num")
	l.DstAddr = at(tuple, "dst.u3")
	l.DstPort = at(tuple, "dst.u")
	l.Proto = at(tuple, "dst.protonum")
	l.Dir = at(tuple, "dst.dir")
	if err := errors.Join(errs...); err != nil {
		return Layout{}, fmt.Errorf("layout of struct nf_conn: %w", err)
	}
	return l, nil
}

// mustMember is the type of member name of s (the element type of an array member), or nil.
func mustMember(s *btf.Struct, name string) btf.Type {
	for _, m := range s.Members {
		if m.Name == name {
			t := btf.UnderlyingType(m.Type)
			if a, ok := t.(*btf.Array); ok {
				return btf.UnderlyingType(a.Type)
			}
			return t
		}
	}
	return nil
}

// offsetOf is the byte offset of a dotted member path in a struct or union, looking through
// anonymous members as C does.
func offsetOf(t btf.Type, path string) (int, error) {
	off := 0
	for _, name := range strings.Split(path, ".") {
		m, o, ok := findMember(btf.UnderlyingType(t), name)
		if !ok {
			return 0, fmt.Errorf("no member %q in %s", path, t)
		}
		off += o
		t = m
	}
	return off, nil
}

func findMember(t btf.Type, name string) (btf.Type, int, bool) {
	var members []btf.Member
	switch c := t.(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return nil, 0, false
	}
	for _, m := range members {
		off := int(m.Offset.Bytes())
		if m.Name == name {
			return m.Type, off, true
		}
		if m.Name == "" {
			if mt, o, ok := findMember(btf.UnderlyingType(m.Type), name); ok {
				return mt, off + o, true
			}
		}
	}
	return nil, 0, false
}
