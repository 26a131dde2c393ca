package device

//go:generate go run ./internal/genheader include/xdpsim_control.h
