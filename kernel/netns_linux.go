//go:build linux

package kernel

import "fmt"

// onPrivateNetns runs fn on a goroutine of its own in a new, private network namespace (see
// inNetns) and turns a panic into an error naming what ran.
func onPrivateNetns[T any](what string, fn func() (T, error)) (T, error) {
	type outcome struct {
		res T
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if r := recover(); r != nil {
				o.err = fmt.Errorf("kernel: %s: panic: %v", what, r)
			}
			done <- o
		}()
		o.res, o.err = inNetns(fn)
	}()
	o := <-done
	return o.res, o.err
}
