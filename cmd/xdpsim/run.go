package main

import (
	"errors"
	"io"
)

func cmdRun(args []string, stdout, stderr io.Writer) error {
	return &exitError{2, errors.New("not built yet")}
}
