package maps_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/sim/maps"
)

// A program counts packets in an array map: the looked-up value aliases the map, so an
// increment through it is what the next lookup sees.
func Example() {
	counters, err := maps.New(maps.Spec{Name: "counters", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 1)
	if err != nil {
		panic(err)
	}
	key := binary.LittleEndian.AppendUint32(nil, 2)
	for range 3 {
		v, _ := counters.Lookup(key, 0)
		binary.LittleEndian.PutUint64(v, binary.LittleEndian.Uint64(v)+1)
	}
	out, _ := json.Marshal(maps.Dump(counters)[2])
	fmt.Println(string(out))

	_, err = counters.Lookup(binary.LittleEndian.AppendUint32(nil, 9), 0)
	fmt.Println(err, errors.Is(err, errno.ENOENT), err.(errno.Errno).Neg())
	// Output:
	// {"key":"02000000","value":"0300000000000000"}
	// ENOENT: no such file or directory true -2
}

// Spec errors name the map and say why the kernel would refuse it.
func ExampleNew() {
	_, err := maps.New(maps.Spec{Name: "routes", Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 16}, 1)
	fmt.Println(err)
	fmt.Println(errors.Is(err, errno.EINVAL))
	// Output:
	// map "routes": lpm_trie needs BPF_F_NO_PREALLOC (EINVAL)
	// true
}

// A ring buffer record is reserved, filled in place and submitted; the consumer reads it.
func ExampleRingBuf() {
	m, _ := maps.New(maps.Spec{Name: "events", Type: ebpf.RingBuf, MaxEntries: 4096}, 1)
	rb := m.RingBuf()
	sample, _ := rb.Reserve(5, 0)
	copy(sample, "hello")
	rb.Submit(sample, 0)
	fmt.Println(rb.Query(maps.RBProdPos), rb.Query(maps.RBAvailData))
	rb.Consume(func(s []byte) { fmt.Printf("%s\n", s) })
	fmt.Println(rb.Query(maps.RBConsPos))
	// Output:
	// 16 16
	// hello
	// 16
}
