package device

import (
	"fmt"
	"strings"
)

// Action is an XDP action, a program's return value.
type Action uint32

// The XDP actions, numbered as the kernel numbers them.
const (
	Aborted Action = iota
	Drop
	Pass
	TX
	Redirect
)

var actionNames = [...]string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}

// String names the action as libxdp and the kernel headers spell it; other values print as numbers.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action %d", uint32(a))
}

// Actions is a set of chain-call actions: bit a is set when the dispatcher goes on to the next
// program after one that returned a.
type Actions uint32

// Has reports whether a is in the set.
func (s Actions) Has(a Action) bool { return a < 32 && s&(1<<a) != 0 }

// With returns the set with a added.
func (s Actions) With(a Action) Actions { return s | 1<<a }

// String lists the set's actions as xdp-loader status prints them: in action order, separated by
// commas ("XDP_DROP,XDP_PASS"); bits beyond XDP_REDIRECT are not shown, as there.
func (s Actions) String() string {
	var names []string
	for a := Aborted; a <= Redirect; a++ {
		if s.Has(a) {
			names = append(names, a.String())
		}
	}
	return strings.Join(names, ",")
}

// ParseAction reads an action name ("XDP_PASS", or "pass" in any case).
func ParseAction(name string) (Action, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "XDP_") {
		n = "XDP_" + n
	}
	for i, s := range actionNames {
		if s == n {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown XDP action %q (XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX or XDP_REDIRECT)", name)
}

// ParseActions reads a set of actions as xdp-loader's --actions takes it: names separated by
// commas ("XDP_PASS,XDP_DROP"). "" is the empty set.
func ParseActions(list string) (Actions, error) {
	var s Actions
	if strings.TrimSpace(list) == "" {
		return 0, nil
	}
	for _, name := range strings.Split(list, ",") {
		a, err := ParseAction(name)
		if err != nil {
			return 0, err
		}
		s = s.With(a)
	}
	return s, nil
}
