package expect

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// junit is the JUnit XML report CI systems read (the Ant schema's common subset).
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name   string      `xml:"name,attr"`
	Tests  int         `xml:"tests,attr"`
	Fails  int         `xml:"failures,attr"`
	Errors int         `xml:"errors,attr"`
	Time   string      `xml:"time,attr"`
	Cases  []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes results as JUnit XML: one test suite per expectation file, one test case per
// test, with each failure's description.
func WriteJUnit(w io.Writer, results []Result) error {
	var all junitSuites
	index := map[*File]int{}
	for _, r := range results {
		i, ok := index[r.File]
		if !ok {
			i = len(all.Suites)
			index[r.File] = i
			all.Suites = append(all.Suites, junitSuite{Name: r.File.Path})
		}
		s := &all.Suites[i]
		c := junitCase{Name: r.Test.Name, Classname: r.File.Path, Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
		switch {
		case r.Err != nil:
			c.Error = &junitMessage{Message: firstLine(r.Err.Error()), Body: r.Err.Error()}
			s.Errors++
			all.Errors++
		case len(r.Failures) > 0:
			c.Failure = &junitMessage{Message: firstLine(r.Failures[0]), Body: strings.Join(r.Failures, "\n")}
			s.Fails++
			all.Fails++
		}
		s.Tests++
		all.Tests++
		s.Cases = append(s.Cases, c)
	}
	for i := range all.Suites {
		var t float64
		for _, r := range results {
			if index[r.File] == i {
				t += r.Duration.Seconds()
			}
		}
		all.Suites[i].Time = fmt.Sprintf("%.3f", t)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
