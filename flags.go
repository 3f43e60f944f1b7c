package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/asana-exporter/asana_exporter/internal/idle"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
)

// aDuration is what a duration flag takes, in its refusal.
const aDuration = "a duration; write it as 30s, 5m or 2h"

// checkedValue is a flag's value whose refusal names the flag and says what
// it takes: kingpin's own ("time: missing unit in duration \"5\"", "enum
// value must be one of ...") names neither.
type checkedValue struct {
	kingpin.Value
	name  string // the flag's, without --
	envar string // the environment variable that may set it instead, if any
	takes string // as in `--timeout="5" is not <takes>`
}

func (v *checkedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		or := ""
		if v.envar != "" {
			or = " (or $" + v.envar + ")"
		}
		return fmt.Errorf("--%s=%q%s is not %s", v.name, s, or, v.takes)
	}
	return nil
}

// checked gives c the value v, refused as not what takes says.
func checked(c *kingpin.FlagClause, takes string, v kingpin.Value) {
	m := c.Model()
	c.SetValue(&checkedValue{Value: v, name: m.Name, envar: m.Envar, takes: takes})
}

// durationVar is kingpin's DurationVar with a refusal that names the flag.
func durationVar(c *kingpin.FlagClause, d *time.Duration) {
	c.DurationVar(d)
	checked(c, aDuration, c.Model().Value)
}

// enumVar is kingpin's EnumVar with a refusal that names the flag and its
// options.
func enumVar(c *kingpin.FlagClause, s *string, options ...string) {
	c.EnumVar(s, options...)
	checked(c, "one of "+strings.Join(options, ", "), c.Model().Value)
}

// intVar is a whole number from lowest to highest (math.MaxInt: no
// bound); what names it, as in "a port", for the refusal.
func intVar(c *kingpin.FlagClause, n *int, lowest, highest int, what string) {
	takes := fmt.Sprintf("%s from %d to %d", what, lowest, highest)
	if highest == math.MaxInt {
		takes = fmt.Sprintf("%s from %d up", what, lowest)
	}
	checked(c, takes, &intIn{n, lowest, highest})
}

// errRefused is a value's refusal; checkedValue says why.
var errRefused = errors.New("refused")

// intIn is an int from lowest to highest.
type intIn struct {
	n               *int
	lowest, highest int
}

func (v *intIn) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < v.lowest || n > v.highest {
		return errRefused
	}
	*v.n = n
	return nil
}

func (v *intIn) String() string { return strconv.Itoa(*v.n) }

// planAge is --max-age: a duration that also takes days and weeks (7d,
// 2w), up to reclaim.LongestMaxAge.
type planAge struct{ d *time.Duration }

func (f *planAge) Set(s string) error {
	v, err := model.ParseDuration(s)
	if err != nil || v <= 0 || time.Duration(v) > reclaim.LongestMaxAge {
		return errRefused
	}
	*f.d = time.Duration(v)
	return nil
}

func (f *planAge) String() string { return model.Duration(*f.d).String() }

// idleDays is --idle: a duration of whole days, at least one.
type idleDays struct{ days *int }

func (d *idleDays) Set(s string) error {
	v, err := model.ParseDuration(s)
	if err != nil || v <= 0 || time.Duration(v)%idle.Day != 0 {
		return errRefused
	}
	*d.days = int(time.Duration(v) / idle.Day)
	return nil
}

func (d *idleDays) String() string {
	if *d.days == 0 {
		return ""
	}
	return fmt.Sprintf("%dd", *d.days)
}

// idleDaysTakes is what --idle takes.
const idleDaysTakes = "a whole number of days above 0; write it as 30d, 60d or 12w"

// fileFlag is a FILE flag that refuses an empty value: given as
// --exclude="$LIST" with $LIST unset, a run must stop, not go on without
// the file.
type fileFlag struct {
	name string
	path *string
}

func (f *fileFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("--%s is empty: give the file's path, or leave the flag out", f.name)
	}
	*f.path = s
	return nil
}

func (f *fileFlag) String() string { return *f.path }
