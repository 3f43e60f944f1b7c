package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Date is a calendar day, written YYYY-MM-DD in the file. It stands for
// 00:00 UTC of that day, so that every exporter and Prometheus agree on
// when it starts whatever their time zones.
type Date struct{ time.Time }

// DateLayout is how a Date is written.
const DateLayout = "2006-01-02"

// The years a Date may fall in. Asana was founded in 2008, so no contract
// renews before; a year beyond 2099 is a typo (2207 for 2027), not a
// contract. Either would publish a date that silences the renewal alert.
const (
	minDateYear = 2008
	maxDateYear = 2099
)

// DateOf is the day t falls on, in UTC.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads a day written YYYY-MM-DD. Its errors quote no part of s
// and say which form is expected.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date: write it YYYY-MM-DD, such as 2027-03-31", quoted(s))
	}
	if y := t.Year(); y < minDateYear || y > maxDateYear {
		return Date{}, fmt.Errorf("%s is outside the years %d..%d: check the year", s, minDateYear, maxDateYear)
	}
	return DateOf(t), nil
}

// String writes d as in the file.
func (d Date) String() string { return d.Format(DateLayout) }

// UnmarshalYAML reads a YAML scalar such as 2027-03-31, quoted or not.
// checkNode has already said, with a line number, what is wrong with a bad
// one; this guards the values it does not follow (aliases).
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a date is one value written YYYY-MM-DD, such as 2027-03-31", n.Line)
	}
	parsed, err := ParseDate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = parsed
	return nil
}
