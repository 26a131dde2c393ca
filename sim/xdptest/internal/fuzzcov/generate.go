package fuzzcov

//go:generate go run gen.go
