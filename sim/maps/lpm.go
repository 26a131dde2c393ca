package maps

import (
	"encoding/binary"
	"math/bits"

	"github.com/xdpsim/xdpsim/errno"
)

// lpmNode is struct lpm_trie_node: a prefix, and a value unless it is an intermediate node.
type lpmNode struct {
	child     [2]*lpmNode
	prefixlen uint32
	im        bool // LPM_TREE_NODE_FLAG_IM
	data      []byte
	value     []byte
}

// lpmTrie is kernel/bpf/lpm_trie.c: a binary trie keyed by struct bpf_lpm_trie_key_u8 (a
// little-endian u32 prefix length followed by data bytes in network order). Lookups return the
// value of the longest stored prefix that matches; get_next_key walks the trie in post-order, so
// more specific prefixes come before less specific ones.
type lpmTrie struct {
	root      *lpmNode
	n         uint32 // n_entries: nodes that are not intermediate
	max       uint32
	dataSize  int
	maxPrefix uint32
	vsize     int
	spare     []*lpmNode
}

func newLPMTrie(keySize, valueSize, maxEntries uint32) *lpmTrie {
	ds := int(keySize) - 4
	return &lpmTrie{max: maxEntries, dataSize: ds, maxPrefix: uint32(ds * 8), vsize: int(valueSize)}
}

func (t *lpmTrie) alloc() *lpmNode {
	if n := len(t.spare); n > 0 {
		nd := t.spare[n-1]
		t.spare = t.spare[:n-1]
		*nd = lpmNode{data: nd.data, value: nd.value}
		clear(nd.value)
		return nd
	}
	buf := make([]byte, t.dataSize+t.vsize)
	return &lpmNode{data: buf[:t.dataSize:t.dataSize], value: buf[t.dataSize:]}
}

func (t *lpmTrie) release(nd *lpmNode) {
	if nd != nil {
		t.spare = append(t.spare, nd)
	}
}

func extractBit(data []byte, index uint32) int {
	return int(data[index/8]>>(7-index%8)) & 1
}

// longestPrefixMatch is longest_prefix_match: the number of leading bits node and key share,
// at most the smaller of their prefix lengths.
func (t *lpmTrie) longestPrefixMatch(nd *lpmNode, prefixlen uint32, data []byte) uint32 {
	limit := min(nd.prefixlen, prefixlen)
	var n uint32
	for i := 0; i < t.dataSize; i++ {
		x := nd.data[i] ^ data[i]
		if x != 0 {
			n += uint32(bits.LeadingZeros8(x))
			break
		}
		n += 8
		if n >= limit {
			break
		}
	}
	return min(n, limit)
}

func splitLPMKey(key []byte) (uint32, []byte) {
	return binary.LittleEndian.Uint32(key), key[4:]
}

// lookup is trie_lookup_elem.
func (t *lpmTrie) lookup(key []byte) *lpmNode {
	plen, data := splitLPMKey(key)
	if plen > t.maxPrefix {
		return nil
	}
	var found *lpmNode
	for nd := t.root; nd != nil; {
		m := t.longestPrefixMatch(nd, plen, data)
		if m == t.maxPrefix {
			found = nd
			break
		}
		if m < nd.prefixlen {
			break
		}
		if !nd.im {
			found = nd
		}
		nd = nd.child[extractBit(data, nd.prefixlen)]
	}
	return found
}

// checkAdd is trie_check_add_elem.
func (t *lpmTrie) checkAdd(flags uint64) error {
	if flags == UpdateExist {
		return errno.ENOENT
	}
	if t.n == t.max {
		return errno.ENOSPC
	}
	t.n++
	return nil
}

// update is trie_update_elem. A replaced element keeps its node (and so its value storage): the
// kernel allocates a new node instead, which is indistinguishable except for value pointers a
// program still holds.
func (t *lpmTrie) update(key, value []byte, flags uint64, write func(dst, src []byte)) error {
	if flags > UpdateExist {
		return errno.EINVAL
	}
	plen, data := splitLPMKey(key)
	if plen > t.maxPrefix {
		return errno.EINVAL
	}
	slot := &t.root
	var nd *lpmNode
	var m uint32
	for nd = *slot; nd != nil; nd = *slot {
		m = t.longestPrefixMatch(nd, plen, data)
		if nd.prefixlen != m || nd.prefixlen == plen {
			break
		}
		slot = &nd.child[extractBit(data, nd.prefixlen)]
	}
	newNode := func() *lpmNode {
		n := t.alloc()
		n.prefixlen = plen
		copy(n.data, data)
		write(n.value, value)
		return n
	}
	if nd == nil {
		if err := t.checkAdd(flags); err != nil {
			return err
		}
		*slot = newNode()
		return nil
	}
	if nd.prefixlen == m {
		// Same prefix: replace the element, or turn an intermediate node into one.
		if !nd.im {
			if flags == UpdateNoExist {
				return errno.EEXIST
			}
		} else if err := t.checkAdd(flags); err != nil {
			return err
		}
		nd.im = false
		copy(nd.data, data)
		write(nd.value, value)
		return nil
	}
	if err := t.checkAdd(flags); err != nil {
		return err
	}
	nn := newNode()
	if m == plen {
		// The new prefix covers the node: insert it as the node's parent.
		nn.child[extractBit(nd.data, m)] = nd
		*slot = nn
		return nil
	}
	im := t.alloc()
	im.prefixlen = m
	im.im = true
	copy(im.data, nd.data)
	if extractBit(data, m) == 1 {
		im.child[0], im.child[1] = nd, nn
	} else {
		im.child[0], im.child[1] = nn, nd
	}
	*slot = im
	return nil
}

// delete is trie_delete_elem.
func (t *lpmTrie) delete(key []byte) error {
	plen, data := splitLPMKey(key)
	if plen > t.maxPrefix {
		return errno.EINVAL
	}
	trim := &t.root
	trim2 := trim
	var parent, nd *lpmNode
	var m uint32
	for nd = *trim; nd != nil; nd = *trim {
		m = t.longestPrefixMatch(nd, plen, data)
		if nd.prefixlen != m || nd.prefixlen == plen {
			break
		}
		parent = nd
		trim2 = trim
		trim = &nd.child[extractBit(data, nd.prefixlen)]
	}
	if nd == nil || nd.prefixlen != plen || nd.prefixlen != m || nd.im {
		return errno.ENOENT
	}
	t.n--
	if nd.child[0] != nil && nd.child[1] != nil {
		nd.im = true
		return nil
	}
	if parent != nil && parent.im && nd.child[0] == nil && nd.child[1] == nil {
		if nd == parent.child[0] {
			*trim2 = parent.child[1]
		} else {
			*trim2 = parent.child[0]
		}
		t.release(parent)
		t.release(nd)
		return nil
	}
	switch {
	case nd.child[0] != nil:
		*trim = nd.child[0]
	case nd.child[1] != nil:
		*trim = nd.child[1]
	default:
		*trim = nil
	}
	t.release(nd)
	return nil
}

// nextKey is trie_get_next_key: post-order, the leftmost element when key is nil or not stored.
func (t *lpmTrie) nextKey(key []byte) (*lpmNode, error) {
	root := t.root
	if root == nil {
		return nil, errno.ENOENT
	}
	leftmost := func(nd *lpmNode) *lpmNode {
		var next *lpmNode
		for nd != nil {
			if nd.im {
				nd = nd.child[0]
				continue
			}
			next = nd
			nd = nd.child[0]
			if nd == nil {
				nd = next.child[1]
			}
		}
		return next
	}
	if key == nil {
		return leftmost(root), nil
	}
	plen, data := splitLPMKey(key)
	if plen > t.maxPrefix {
		return leftmost(root), nil
	}
	var stack []*lpmNode
	var nd *lpmNode
	var m uint32
	for nd = root; nd != nil; {
		stack = append(stack, nd)
		m = t.longestPrefixMatch(nd, plen, data)
		if nd.prefixlen != m || nd.prefixlen == plen {
			break
		}
		nd = nd.child[extractBit(data, nd.prefixlen)]
	}
	if nd == nil || nd.prefixlen != m || nd.im {
		return leftmost(root), nil
	}
	nd = stack[len(stack)-1]
	for sp := len(stack) - 1; sp > 0; sp-- {
		parent := stack[sp-1]
		if parent.child[0] == nd && parent.child[1] != nil {
			return leftmost(parent.child[1]), nil
		}
		if !parent.im {
			return parent, nil
		}
		nd = parent
	}
	return nil, errno.ENOENT
}

// each visits the elements in get_next_key order (post-order, left before right).
func (t *lpmTrie) each(fn func(nd *lpmNode) bool) {
	var walk func(nd *lpmNode) bool
	walk = func(nd *lpmNode) bool {
		if nd == nil {
			return true
		}
		if !walk(nd.child[0]) || !walk(nd.child[1]) {
			return false
		}
		return nd.im || fn(nd)
	}
	walk(t.root)
}

func (t *lpmTrie) key(nd *lpmNode) []byte {
	k := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+t.dataSize), nd.prefixlen)
	return append(k, nd.data...)
}
