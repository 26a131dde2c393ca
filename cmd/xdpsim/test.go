package main

import "io"

func cmdTest(args []string, stdout, stderr io.Writer) error { return nil }
