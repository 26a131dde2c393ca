package traits_test

import (
	"fmt"

	"github.com/xdpsim/xdpsim/errno"
	"github.com/xdpsim/xdpsim/traits"
)

// A store in 30 bytes of headroom, with the V2 layout, where a key can also
// be a flag without a value.
func Example() {
	headroom := make([]byte, 30)
	l := traits.V2
	if err := l.Init(headroom); err != nil {
		panic(err)
	}

	_ = l.Set(headroom, 7, []byte{0xde, 0xad, 0xbe, 0xef}, 0)
	_ = l.Set(headroom, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0) // moves key 7 up
	_ = l.Set(headroom, 40, nil, 0)                           // a flag takes no room

	err := l.Set(headroom, 9, []byte{0, 0, 0, 0}, 0)
	fmt.Println("set key 9:", err, err.(errno.Errno).Neg())

	var out [8]byte
	n, _ := l.Get(headroom, 7, out[:])
	fmt.Printf("key 7: % x\n", out[:n])

	for key, val := range l.All(headroom) {
		fmt.Printf("%2d: %d bytes\n", key, len(val))
	}
	fmt.Printf("header: % x\n", headroom[:traits.HeaderLen])
	fmt.Println("length:", l.Len(headroom))
	// Output:
	// set key 9: ENOSPC: no space left on device -28
	// key 7: de ad be ef
	//  2: 8 bytes
	//  7: 4 bytes
	// 40: 0 bytes
	// header: 84 00 00 00 00 00 00 00 04 00 00 00 00 01 00 00
	// length: 28
}
