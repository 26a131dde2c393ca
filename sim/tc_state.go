package sim

import (
	"github.com/xdpsim/xdpsim/sim/result"
	"github.com/xdpsim/xdpsim/sim/syncookie"
)

// The state helpers consult, for tc programs as for XDP ones (task.go, helpers_syncookie.go).

// SetTask says which task the tc programs find current (result.DefaultTask when never called).
func (t *TC) SetTask(task result.Task) {
	for _, s := range t.stages {
		s.rs.task = task
	}
}

// SetSyncookieSecret sets the keys the tc programs' SYN cookies are made with.
func (t *TC) SetSyncookieSecret(sec syncookie.Secret) {
	for _, s := range t.stages {
		s.rs.cookies, s.rs.cookiesSet = sec, true
	}
}
