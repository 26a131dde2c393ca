package jsonfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/xdpsim/xdpsim/sim/jsonfile"
)

type file struct {
	Object string `json:"object"`
	Tests  []struct {
		Name string  `json:"name"`
		Sum  *uint64 `json:"sum"`
	} `json:"tests"`
}

func decode(data string) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(data)))
	dec.DisallowUnknownFields()
	var f file
	return jsonfile.Explain([]byte(data), dec.Decode(&f))
}

func TestExplainSaysWhereAndWhat(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"an empty file says so", "", "the file is empty, want JSON"},
		{"a file of blanks is empty too", " \n\t\n", "the file is empty, want JSON"},
		{"a file cut short says it ends early", "{\"object\": \"a.o\",\n \"tests\": [", "the JSON ends early (truncated?)"},
		{"a syntax error names its line and column", "{\n  \"object\": \"a.o\",\n  \"tests\": [}\n}", "line 3, column 13: invalid character '}' looking for beginning of value"},
		{"a list where an object belongs says what was wanted", "[]", "line 1, column 1: want an object, not a JSON array"},
		{"a wrong type in a field names the field", "{\"object\": 7}", `line 1, column 12: "object": want a string, not a JSON number`},
		{"a string for a number behind a pointer says a number", "{\"tests\": [\n{\"name\": \"x\", \"sum\": \"1\"}]}", `line 2, column 24: "tests.sum": want a number, not a JSON string`},
		{"an unknown field is named", "{\"objekt\": \"a.o\"}", `unknown field "objekt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decode(tt.data)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			var je *jsonfile.Error
			if !errors.As(err, &je) || je.Err == nil {
				t.Errorf("%v is not a *jsonfile.Error wrapping encoding/json's", err)
			}
		})
	}
	t.Run("valid JSON gives no error", func(t *testing.T) {
		if err := decode(`{"object": "a.o", "tests": [{"name": "x", "sum": 1}]}`); err != nil {
			t.Error(err)
		}
	})
	t.Run("an error that is not about the JSON passes through", func(t *testing.T) {
		other := errors.New("disk on fire")
		if err := jsonfile.Explain([]byte("{}"), other); err != other {
			t.Errorf("got %v", err)
		}
	})
}

func ExampleExplain() {
	data := []byte("{\n  \"object\": \"prog.o\",\n  \"tests\": 3\n}\n")
	var f struct {
		Object string     `json:"object"`
		Tests  []struct{} `json:"tests"`
	}
	err := jsonfile.Explain(data, json.Unmarshal(data, &f))
	fmt.Println(err)
	// Output: line 3, column 12: "tests": want a list, not a JSON number
}
