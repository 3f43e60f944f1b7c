package reconcile

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The last-activity column of the Admin Console's members export. Neither
// its header nor its date format is documented: Asana's 2016 announcement
// names "Last activity date", its deprovision_inactive_guests script reads
// "Last Activity" with dates as 2006-01-02 and an empty cell for people who
// never logged in, and the file may have been through a spreadsheet, which
// rewrites dates in its locale's way. So the headers and the formats below
// are GUESSES, read liberally; a cell not understood makes its member's
// activity unknown, which never makes a seat idle.
//
// The export says nothing of paused licences: a paused seat whose member
// has not been active looks idle by this column alone.

// activityHeaders are the headers the column may go by, normalised as
// normalizeHeader does, most likely first (GUESS: undocumented; see above).
// "Date joined" and "First login date" are other columns of the export.
var activityHeaders = []string{"lastactivity", "lastactivitydate", "lastactive", "lastactiveat", "lastactivedate",
	"lastseen", "lastseenat", "lastlogin", "lastlogindate", "lastloginat", "lastaccessed", "lastaccess", "lastaccessdate"}

// neverCells are the cells that say the member was never active, compared
// in lower case after trimming (GUESS: the script's fixture leaves the cell
// empty; a spreadsheet or another export may write a word or a dash).
var neverCells = map[string]bool{"": true, "never": true, "-": true, "–": true, "—": true, "n/a": true, "na": true,
	"none": true, "never logged in": true, "not yet logged in": true}

// formatsUnderstood says what the reader understands, for an error that
// asks for another column.
const formatsUnderstood = "2025-03-04; 2025-03-04T15:04:05Z (RFC 3339, with or without the time or the zone); 2025/03/04; " +
	"Mar 4, 2025; March 4, 2025; 4 Mar 2025; 03/04/2025 (month or day first, the same in the whole column); 04.03.2025; " +
	"empty, Never, None, N/A or - for never active"

// Limits on a last-activity cell.
const (
	// maxActivityBytes: the longest format understood, a date and a time
	// with nanoseconds and a zone, is 35 bytes; a longer cell is not one.
	maxActivityBytes = 64
	// minActivityYear: Asana was founded in 2008, so an activity in an
	// earlier year is not one; 2000 leaves room, and keeps the stored
	// seconds clear of the markers below.
	minActivityYear = 2000
	// maxActivityYear: a member's activity is stored in 32 bits of Unix
	// seconds, which end in 2106.
	maxActivityYear = 2105
)

// A member's activity, packed in 32 bits: Unix seconds (UTC) of the last
// second in which the member was active, or one of these markers.
const (
	activityUnknown uint32 = 0 // no column, or a cell not understood
	activityNever   uint32 = 1 // the cell says never active
)

// dateOrder is which readings a numeric date with the year last allows.
type dateOrder uint8

const (
	monthFirst dateOrder = 1 << iota // 03/04/2025 as 4 March: the US way
	dayFirst                         // 03/04/2025 as 3 April
)

// activityCell is one cell, read.
type activityCell struct {
	at    uint32    // as stored; activityNever for never
	order dateOrder // for a numeric date with the year last: its readings (at is the month-first one when it has that)
	ok    bool      // understood
}

// activityFormats are the formats a cell is tried in, in order: layouts
// of time.Parse, and numeric dates with the year last. Those with a time
// keep it (a zone-less time is taken as UTC: GUESS); those without stand for
// the whole UTC day. time.Parse matches month names in any case, and
// accepts a fraction of a second after the seconds whatever the layout says.
var activityFormats = func() []activityFormat {
	var formats []activityFormat
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05",
		"2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04",
		"2006-1-2", "2006/1/2", "Jan 2, 2006", "January 2, 2006", "Jan 2 2006", "January 2 2006",
		"2 Jan 2006", "2 January 2006", "2-Jan-2006", "2-Jan-06"} {
		formats = append(formats, activityFormat{layout: layout, clock: strings.Contains(layout, ":"), words: strings.Contains(layout, "Jan")})
	}
	return append(formats, activityFormat{}) // numeric
}()

// activityFormat is one format of activityFormats.
type activityFormat struct {
	layout string // "" for a numeric date with the year last (parseNumericDate)
	// clock and words: the layout has a time, a month name; a cell without
	// a colon, a letter, is not tried with it (a failed time.Parse costs
	// more than the rest of a row).
	clock, words bool
}

// clockLayouts may follow a numeric date with the year last, as a
// spreadsheet writes a date and time.
var clockLayouts = []string{"15:04", "15:04:05", "3:04 PM", "3:04:05 PM"}

// activityParser reads a column's cells. A column keeps one format, so the
// one that read the last cell is tried first.
type activityParser struct {
	last int // in activityFormats
}

// parse reads a last-activity cell.
func (p *activityParser) parse(cell string) activityCell {
	if len(cell) > maxActivityBytes {
		return activityCell{}
	}
	s := strings.TrimSpace(cell)
	if neverCells[strings.ToLower(s)] {
		return activityCell{at: activityNever, ok: true}
	}
	colon, letter := strings.IndexByte(s, ':') >= 0, strings.IndexFunc(s, unicode.IsLetter) >= 0
	if c := parseFormat(s, activityFormats[p.last], colon, letter); c.ok {
		return c
	}
	for i, f := range activityFormats {
		if i == p.last {
			continue
		}
		if c := parseFormat(s, f, colon, letter); c.ok {
			p.last = i
			return c
		}
	}
	return activityCell{}
}

// parseFormat reads s, which has a colon or a letter as told, in format f.
func parseFormat(s string, f activityFormat, colon, letter bool) activityCell {
	switch {
	case f.layout == "":
		return parseNumericDate(s)
	case f.clock && !colon || f.words && !letter:
		return activityCell{}
	}
	t, err := time.Parse(f.layout, s)
	switch {
	case err != nil:
		return activityCell{}
	case !f.clock:
		t = endOfDay(t)
	}
	return stored(t)
}

// endOfDay is the last second of t's day: a date says the member was active
// some time that UTC day, so the day's end never overstates how long they
// have been idle.
func endOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 23, 59, 59, 0, time.UTC)
}

// stored packs t, if its year is one an activity can have.
func stored(t time.Time) activityCell {
	if y := t.UTC().Year(); y < minActivityYear || y > maxActivityYear {
		return activityCell{}
	}
	return activityCell{at: uint32(t.Unix()), ok: true}
}

// parseNumericDate reads a date as numbers with the year last, 03/04/2025
// or 03/04/25 (2025: GUESS) or 04.03.2025, maybe followed by a time. Which
// of the first two numbers is the month cannot be told from one cell, so
// the cell gives every reading it allows; the column decides (resolveOrder).
// Dots are a European way of writing, day first.
func parseNumericDate(s string) activityCell {
	date, clock, _ := strings.Cut(s, " ")
	sep := "/"
	if strings.Contains(date, ".") {
		sep = "."
	}
	f := strings.Split(date, sep)
	if len(f) != 3 || len(f[0]) > 2 || len(f[1]) > 2 || (len(f[2]) != 2 && len(f[2]) != 4) {
		return activityCell{}
	}
	var n [3]int
	for i, field := range f {
		v, err := strconv.Atoi(field)
		if err != nil || v < 0 || field[0] == '+' || field[0] == '-' {
			return activityCell{}
		}
		n[i] = v
	}
	if len(f[2]) == 2 {
		n[2] += 2000
	}
	tod := time.Duration(0)
	if clock = strings.TrimSpace(clock); clock != "" {
		t, ok := parseClock(clock)
		if !ok {
			return activityCell{}
		}
		tod = t
	}
	at := func(month, day int) (uint32, bool) {
		if month < 1 || month > 12 || day < 1 {
			return 0, false
		}
		t := time.Date(n[2], time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if t.Day() != day { // 31/04 rolled over into May
			return 0, false
		}
		if clock == "" {
			t = endOfDay(t)
		} else {
			t = t.Add(tod)
		}
		c := stored(t)
		return c.at, c.ok
	}
	var c activityCell
	if md, ok := at(n[0], n[1]); ok && sep == "/" {
		c.at, c.order, c.ok = md, monthFirst, true
	}
	if dm, ok := at(n[1], n[0]); ok {
		if !c.ok {
			c.at, c.ok = dm, true
		}
		c.order |= dayFirst
	}
	if sep == "." || n[0] == n[1] { // one reading only
		c.order = 0
	}
	return c
}

// parseClock reads the time of day after a numeric date.
func parseClock(s string) (time.Duration, bool) {
	for _, layout := range clockLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second, true
		}
	}
	return 0, false
}

// swapDayAndMonth turns the month-first reading of a numeric date into its
// day-first one: 4 March 2025 (from 03/04/2025) into 3 April, at the same
// time of day.
func swapDayAndMonth(at uint32) uint32 {
	t := time.Unix(int64(at), 0).UTC()
	y, m, d := t.Date()
	swapped := time.Date(y, time.Month(d), int(m), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	return uint32(swapped.Unix())
}

// orders counts, over a column, the numeric dates by the readings they
// allow.
type orders struct {
	monthFirstOnly, dayFirstOnly, either int
}

func (o *orders) add(order dateOrder) {
	switch order {
	case monthFirst:
		o.monthFirstOnly++
	case dayFirst:
		o.dayFirstOnly++
	case monthFirst | dayFirst:
		o.either++
	}
}

// resolve decides the column's order: the one its unambiguous dates show;
// month first when all are ambiguous (GUESS: Asana is a US product, and so
// are its exports' defaults). A column whose dates show both orders cannot
// be trusted with its ambiguous ones: mixed is true, and they are unknown.
func (o orders) resolve() (order dateOrder, mixed bool) {
	switch {
	case o.monthFirstOnly > 0 && o.dayFirstOnly > 0:
		return 0, true
	case o.dayFirstOnly > 0:
		return dayFirst, false
	}
	return monthFirst, false
}

// readActivity reads a member's last-activity cell into m. A cell not
// understood leaves the activity unknown, with a warning by line that does
// not quote it.
func (c *Console) readActivity(line int, rec []string, col int, m *member) {
	if col >= len(rec) {
		c.activity.bad++
		c.warn("line %d: the row ends before the last-activity column; activity taken as unknown", line)
		return
	}
	cell := c.activity.parser.parse(rec[col])
	if !cell.ok {
		c.activity.bad++
		c.warn("line %d: the last-activity cell is not a date in a format the reader knows; activity taken as unknown", line)
		return
	}
	if cell.at != activityNever {
		c.activity.dates++
	}
	c.activity.orders.add(cell.order)
	m.activity, m.either = cell.at, cell.order == monthFirst|dayFirst
}

// judgeActivity settles the order of the column's numeric dates, and fails
// when most of its dated cells were not understood: then it is likely not
// a last-activity column, or in a format the reader does not know, and
// its few dates would say little. What it decided goes first among the
// warnings.
func (c *Console) judgeActivity() error {
	if c.ActivityColumn == "" {
		return nil
	}
	a := &c.activity
	var notes []string
	order, mixed := a.orders.resolve()
	switch either := a.orders.either; {
	case either == 0:
	case mixed:
		c.eachEither(func(m *member) { m.activity = activityUnknown })
		a.dates, a.bad = a.dates-either, a.bad+either
		notes = append(notes, fmt.Sprintf("the last-activity column %q has dates written month first (%d, such as 12/31/2025) "+
			"and day first (%d, such as 31/12/2025), so the %d that read either way (such as 03/04/2025) are taken as unknown; "+
			"convert the column to dates such as 2025-03-04 in a spreadsheet", c.ActivityColumn, a.orders.monthFirstOnly, a.orders.dayFirstOnly, either))
	case order == dayFirst:
		c.eachEither(func(m *member) { m.activity = swapDayAndMonth(m.activity) })
	case a.orders.monthFirstOnly == 0:
		notes = append(notes, fmt.Sprintf("the %d dates of the last-activity column %q read either way, such as 03/04/2025: "+
			"taken as month first, 4 March (Asana is a US product); if they are day first, the idle seats are wrong: "+
			"convert the column to dates such as 2025-04-03 in a spreadsheet", either, c.ActivityColumn))
	}
	c.eachEither(func(m *member) { m.either = false })
	switch {
	case a.bad > a.dates:
		return &Error{Msg: fmt.Sprintf("%d of the %d last-activity cells of column %q that are not empty or \"never\" are not dates the reader knows "+
			"(it reads %s); name the right column with --reconcile.activity-column", a.bad, a.bad+a.dates, c.ActivityColumn, formatsUnderstood)}
	case a.bad > 0:
		notes = append(notes, fmt.Sprintf("%d of the %d last-activity cells of column %q that are not empty or \"never\" are not dates the reader knows: "+
			"those members' activity is unknown, and an unknown activity never makes a seat idle", a.bad, a.bad+a.dates, c.ActivityColumn))
	case a.dates == 0:
		notes = append(notes, fmt.Sprintf("no cell of the last-activity column %q holds a date: every member is taken as never active; "+
			"if that is not so, name the right column with --reconcile.activity-column", c.ActivityColumn))
	}
	c.Warnings = append(notes, c.Warnings...)
	return nil
}

// eachEither calls fn with each member whose numeric date reads either way.
func (c *Console) eachEither(fn func(*member)) {
	for i := range c.members {
		if m := &c.members[i]; m.either {
			fn(m)
		}
	}
}
