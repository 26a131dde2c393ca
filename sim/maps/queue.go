package maps

import "github.com/xdpsim/xdpsim/errno"

// queueStack is kernel/bpf/queue_stack_maps.c: a ring of max_entries+1 value slots with a head
// (next push) and a tail (oldest element). A queue pops at the tail (FIFO), a stack pops below the
// head (LIFO).
type queueStack struct {
	stack      bool
	head, tail uint32
	size       uint32 // max_entries + 1
	vsize      int
	elems      []byte
}

func newQueueStack(stack bool, valueSize, maxEntries uint32) *queueStack {
	size := maxEntries + 1
	return &queueStack{stack: stack, size: size, vsize: int(valueSize), elems: make([]byte, int(size)*int(valueSize))}
}

func (q *queueStack) slot(i uint32) []byte {
	off := int(i) * q.vsize
	return q.elems[off : off+q.vsize : off+q.vsize]
}

func (q *queueStack) empty() bool { return q.head == q.tail }

func (q *queueStack) full() bool {
	h := q.head + 1
	if h >= q.size {
		h = 0
	}
	return h == q.tail
}

func (q *queueStack) len() int {
	if q.head >= q.tail {
		return int(q.head - q.tail)
	}
	return int(q.size - q.tail + q.head)
}

// push is queue_stack_map_push_elem.
func (q *queueStack) push(value []byte, flags uint64) error {
	if flags > UpdateExist {
		return errno.EINVAL
	}
	if q.full() {
		if flags&UpdateExist == 0 {
			return errno.E2BIG
		}
		// Overwrite the oldest element.
		if q.tail++; q.tail >= q.size {
			q.tail = 0
		}
	}
	copy(q.slot(q.head), value)
	if q.head++; q.head >= q.size {
		q.head = 0
	}
	return nil
}

// get is __queue_map_get / __stack_map_get: copy the next element into dst (zeroed when the
// map is empty) and remove it if del.
func (q *queueStack) get(dst []byte, del bool) error {
	if q.empty() {
		clear(dst)
		return errno.ENOENT
	}
	if q.stack {
		i := q.head - 1
		if q.head == 0 {
			i = q.size - 1
		}
		copy(dst, q.slot(i))
		if del {
			q.head = i
		}
		return nil
	}
	copy(dst, q.slot(q.tail))
	if del {
		if q.tail++; q.tail >= q.size {
			q.tail = 0
		}
	}
	return nil
}

// each visits the elements in pop order.
func (q *queueStack) each(fn func(v []byte) bool) {
	n := uint32(q.len())
	for k := uint32(0); k < n; k++ {
		var i uint32
		if q.stack {
			i = (q.head + q.size - 1 - k) % q.size
		} else {
			i = (q.tail + k) % q.size
		}
		if !fn(q.slot(i)) {
			return
		}
	}
}
