package main

import (
	"bytes"
	"testing"
)

func TestDumpScratch(t *testing.T) {
	for _, args := range [][]string{
		{"../../sim/testdata/ctx/fields.o"},
		{"-p", "xdp_fields", "../../sim/testdata/ctx/fields.o"},
		{"-p", "xdp_fields", "--xlated", "../../sim/testdata/ctx/fields.o"},
		{"-p", "xdp_callback", "--xlated", "../../sim/testdata/ctx/callback.o"},
		{"../../corpus/globals.v4.o"},
		{"../../corpus/lpm_acl.v4.o"},
		{"-p", "xdp_globals", "../../corpus/globals.v4.o"},
	} {
		var out, errb bytes.Buffer
		err := cmdDump(args, &out, &errb)
		t.Logf("%v: err=%v\n%s%s", args, err, out.String(), errb.String())
	}
}
