// Package jsonfile says where a JSON input file (an expectation file, --maps-in, --host, a
// topology, a device state) is wrong, in the user's terms: the line and column, and what was
// wanted there, instead of encoding/json's Go type names and byte offsets.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Error is a decoding error placed in the file. Err is encoding/json's error.
type Error struct {
	// Line and Column (1-based) place a syntax error at the offending character and a value of
	// the wrong type at its last character; Line is 0 when the error has no place.
	Line, Column int
	What         string
	Err          error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.What
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.What)
}

func (e *Error) Unwrap() error { return e.Err }

// Explain turns the error of decoding data as JSON into an *Error that says where and what; an
// error that is not encoding/json's about the input is returned as it is.
func Explain(data []byte, err error) error {
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0 && (errors.Is(err, io.EOF) || errors.As(err, &syn)):
		return &Error{What: "the file is empty, want JSON", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &Error{What: "the JSON ends early (truncated?)", Err: err}
	case errors.As(err, &syn):
		if syn.Offset >= int64(len(data)) && strings.Contains(syn.Error(), "end of JSON input") {
			return &Error{What: "the JSON ends early (truncated?)", Err: err}
		}
		line, col := place(data, syn.Offset-1)
		return &Error{Line: line, Column: col, What: strings.TrimPrefix(syn.Error(), "json: "), Err: err}
	case errors.As(err, &typ):
		line, col := place(data, typ.Offset-1)
		where := ""
		if typ.Field != "" {
			where = fmt.Sprintf("%q: ", typ.Field)
		}
		t := typ.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		return &Error{Line: line, Column: col, What: fmt.Sprintf("%swant %s, not a JSON %s", where, kind(t.Kind()), typ.Value), Err: err}
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &Error{What: "unknown field " + msg, Err: err}
	}
	return err
}

// place is the 1-based line and column of byte offset off in data.
func place(data []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// kind names a Go kind as the JSON a user writes for it.
func kind(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + k.String()
}
