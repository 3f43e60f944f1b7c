package summary

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/asana-exporter/asana_exporter/internal/cell"
)

// The charts' geometry, in SVG user units: a page's width at 96 dpi less
// its margins, so that one unit is about one CSS pixel on screen and the
// charts scale down to fit A4 when printed.
const (
	chartWidth  = 720
	chartSubX   = 180 // the row's second label: the threshold or the period
	chartBarX   = 290 // where the bars start
	chartBarMax = 260 // the longest bar; its value is written after it, in the 170 units left
	chartPitch  = 24  // a bar and the gap below it
	chartBar    = 16
	chartTop    = 8
	// chartLabelRunes bounds a workspace's name beside a bar, which has
	// 170 units: the whole name is the bar's tooltip.
	chartLabelRunes = 24
)

// page is what the template shows.
type page struct {
	*Summary
	Head    []string // the numbers table's header: the workspaces' names
	Rows    []numbersRow
	Notes   []string
	Charts  []chart
	People  []personRow
	Unknown string
}

// numbersRow is a label and a value per workspace; Strong rows are what
// the renewal turns on.
type numbersRow struct {
	Label  string
	Values []string
	Strong bool
}

// strongKeys are the fields the page sets in bold.
var strongKeys = []string{"billed", "idle_monthly_cost", "days_to_renewal", "idle_cost_to_renewal"}

type personRow struct {
	Name, Email, Workspace, State, IdleDays, Source, Price string
}

// chart is a horizontal bar chart: a row per bar, a bar of stacked
// segments.
type chart struct {
	Title, Caption string
	Width, SubX    int
	Height         int
	Rows           []chartRow
	Legend         []legendItem
}

type chartRow struct {
	Y, TextY    int
	Label, Full string // Full is the tooltip of a Label cut short
	Sub         string
	Segments    []segment
	Value       string
	ValueX      string
	// MarkX, when not "", is where a vertical mark stands (the seats
	// purchased), from MarkY1 to MarkY2.
	MarkX, MarkTip string
	MarkY1, MarkY2 int
}

type segment struct {
	X, W, Class, Tip string
	Y, Height        int
}

type legendItem struct{ Class, Label string }

func (s *Summary) writeHTML(out io.Writer) error {
	p := page{Summary: s, Unknown: unknownHTML, Charts: []chart{s.seatsChart(), s.idleChart(), s.costChart()}}
	fs := s.fields()
	for _, n := range s.Workspaces {
		p.Head = append(p.Head, cell.Page(n.Name))
	}
	for _, n := range s.Notes {
		p.Notes = append(p.Notes, cell.Page(n))
	}
	for _, f := range fs[2:] { // the gid and name head the columns
		row := numbersRow{Label: f.label, Strong: slices.Contains(strongKeys, f.key)}
		for i := range s.Workspaces {
			v, known := f.value(&s.Workspaces[i])
			if !known {
				v = unknownHTML
			}
			row.Values = append(row.Values, v)
		}
		p.Rows = append(p.Rows, row)
	}
	for _, person := range s.People {
		price := unknownHTML
		if person.MonthlyPrice != nil {
			price = Cents(*person.MonthlyPrice)
		}
		p.People = append(p.People, personRow{Name: cell.Page(person.Name), Email: cell.Page(person.Email), Workspace: cell.Page(person.WorkspaceName),
			State: person.State.String(), IdleDays: strconv.Itoa(person.IdleDays), Source: person.Source, Price: price})
	}
	return pageTemplate.Execute(out, p)
}

// bars lays out a chart's rows; value gives each row's segments' values.
type bars struct {
	chart
	scale float64 // units per value
}

func newBars(title, caption string, largest float64, legend ...legendItem) *bars {
	b := &bars{chart: chart{Title: title, Caption: caption, Legend: legend, Width: chartWidth, SubX: chartSubX}}
	if largest > 0 {
		b.scale = chartBarMax / largest
	}
	return b
}

// row adds a bar of segments (value, class, tooltip), or, when unknown is
// not "", that text instead of a bar.
func (b *bars) row(label, sub, value string, segs []segValue) *chartRow {
	y := chartTop + len(b.Rows)*chartPitch
	label = cell.Page(label)
	r := chartRow{Y: y, TextY: y + chartBar - 4, Label: label, Full: label, Sub: sub, Value: value}
	if utf8.RuneCountInString(label) > chartLabelRunes {
		r.Label = string([]rune(label)[:chartLabelRunes-1]) + "…"
	}
	x := float64(chartBarX)
	for _, sv := range segs {
		w := sv.v * b.scale
		if w <= 0 {
			continue
		}
		r.Segments = append(r.Segments, segment{X: units(x), W: units(w), Class: sv.class, Tip: sv.tip, Y: y, Height: chartBar})
		x += w
	}
	r.ValueX = units(x + 6)
	b.Rows = append(b.Rows, r)
	b.Height = y + chartPitch + chartTop
	return &b.Rows[len(b.Rows)-1]
}

type segValue struct {
	v     float64
	class string
	tip   string
}

func units(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// seatsChart: each workspace's seats by state, stacked, with a mark at the
// seats purchased.
func (s *Summary) seatsChart() chart {
	largest := 0.0
	for _, n := range s.Workspaces {
		largest = max(largest, float64(n.Licensed+n.ViewOnly+n.Guests))
		if n.Purchased != nil {
			largest = max(largest, float64(*n.Purchased))
		}
	}
	b := newBars("Seats by state", "Licensed seats are billed unless paused; view-only and guest seats are shown for scale. "+
		"The black mark is the seats purchased.", largest,
		legendItem{"licensed", "licensed (billed)"}, legendItem{"paused", "licensed, paused"},
		legendItem{"viewonly", "view-only"}, legendItem{"guest", "guests"})
	for _, n := range s.Workspaces {
		billed, paused := n.Licensed, 0
		if n.Paused != nil {
			billed, paused = *n.Billed, *n.Paused
		}
		r := b.row(n.Name, "", strconv.Itoa(n.Licensed+n.ViewOnly+n.Guests), []segValue{
			{float64(billed), "licensed", fmt.Sprintf("licensed (billed): %d", billed)},
			{float64(paused), "paused", fmt.Sprintf("licensed, paused: %d", paused)},
			{float64(n.ViewOnly), "viewonly", fmt.Sprintf("view-only: %d", n.ViewOnly)},
			{float64(n.Guests), "guest", fmt.Sprintf("guests: %d", n.Guests)},
		})
		if n.Purchased != nil && b.scale > 0 {
			r.MarkX, r.MarkTip = units(chartBarX+float64(*n.Purchased)*b.scale), fmt.Sprintf("purchased: %d", *n.Purchased)
			r.MarkY1, r.MarkY2 = r.Y-3, r.Y+chartBar+3
		}
	}
	return b.chart
}

// idleChart: each workspace's idle seats at each threshold.
func (s *Summary) idleChart() chart {
	largest := 0.0
	for _, n := range s.Workspaces {
		for _, i := range n.Idle {
			if i.Licensed != nil {
				largest = max(largest, float64(*i.Licensed+*i.ViewOnly))
			}
		}
	}
	b := newBars("Idle seats by threshold", "Seats with no activity for at least that many days, by the rule of "+
		"asana_workspace_seats_idle.", largest, legendItem{"idle", "licensed"}, legendItem{"idleviewonly", "view-only"})
	for _, n := range s.Workspaces {
		for j, i := range n.Idle {
			label := ""
			if j == 0 {
				label = n.Name
			}
			sub := fmt.Sprintf("%d days", i.Days)
			if i.Licensed == nil {
				b.row(label, sub, "unknown", nil)
				continue
			}
			b.row(label, sub, fmt.Sprintf("%d + %d", *i.Licensed, *i.ViewOnly), []segValue{
				{float64(*i.Licensed), "idle", fmt.Sprintf("licensed idle %d days: %d", i.Days, *i.Licensed)},
				{float64(*i.ViewOnly), "idleviewonly", fmt.Sprintf("view-only idle %d days: %d", i.Days, *i.ViewOnly)},
			})
		}
	}
	return b.chart
}

// costChart: what each workspace's idle licensed seats cost a month and
// until the renewal.
func (s *Summary) costChart() chart {
	largest := 0.0
	for _, n := range s.Workspaces {
		for _, v := range []*float64{n.MonthlyCost, n.CostToRenewal} {
			if v != nil {
				largest = max(largest, *v)
			}
		}
	}
	b := newBars("What the idle seats cost", fmt.Sprintf("Licensed seats idle %d days or more × seat_price, in the contract's currency; "+
		"until the renewal at an average month of 365/12 days.", s.PricedDays), largest,
		legendItem{"cost", "a month"}, legendItem{"costrenewal", "until the renewal"})
	for _, n := range s.Workspaces {
		for j, v := range []*float64{n.MonthlyCost, n.CostToRenewal} {
			label, sub, class, value := n.Name, "a month", "cost", ""
			if v != nil {
				value = Cents(*v)
			}
			if j == 1 {
				label, sub, class = "", "until the renewal", "costrenewal"
				if v != nil {
					value = fmt.Sprintf("%s in %d days", value, *n.DaysToRenewal)
				}
			}
			if v == nil {
				b.row(label, sub, "unknown", nil)
				continue
			}
			b.row(label, sub, value, []segValue{{*v, class, sub + ": " + value}})
		}
	}
	return b.chart
}

// pageTemplate is the page. html/template escapes every name and email;
// the page loads nothing (its Content-Security-Policy forbids it) and runs
// no script.
var pageTemplate = template.Must(template.New("summary").Funcs(template.FuncMap{
	"state": func(s string) string { return strings.ReplaceAll(s, "_", "-") },
}).Parse(pageHTML))

// pageHTML is laid out for a screen and for A4 paper: the charts scale to
// the width, rows do not break across pages, and the tables' headers repeat
// on each page.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Asana seats: renewal summary</title>
<style>
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d2330; background: #fff; margin: 0 auto; padding: 24px; max-width: 1000px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d5dae3; padding-bottom: 4px; }
.meta { color: #566074; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e3e7ee; text-align: left; vertical-align: top; }
thead th { background: #f3f5f9; border-bottom: 2px solid #c9d0dc; }
td.n, th.n { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
.numbers td:first-child { color: #3a4356; }
.numbers tr.strong td { font-weight: 600; color: #1d2330; }
.people td { overflow-wrap: anywhere; }
figure { margin: 16px 0; break-inside: avoid; }
figcaption { color: #566074; font-size: 13px; margin-bottom: 4px; }
figcaption b { color: #1d2330; font-size: 15px; display: block; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1d2330; }
svg .sub { fill: #566074; }
.licensed { fill: #2f6db5; } .paused { fill: #9dbde6; } .viewonly { fill: #3f9a5e; } .guest { fill: #d7b443; }
.idle { fill: #d9722b; } .idleviewonly { fill: #f0b07c; } .cost { fill: #b63c3c; } .costrenewal { fill: #e39a9a; }
.mark { stroke: #111; stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; color: #3a4356; margin-top: 4px; }
.legend svg { display: inline; width: 12px; height: 12px; vertical-align: -1px; margin-right: 4px; }
.notes li { margin-bottom: 4px; }
.state { white-space: nowrap; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; }
}
</style>
</head>
<body>
<h1>Asana seats: renewal summary</h1>
<p class="meta">As of {{.Summary.Now.UTC.Format "2006-01-02 15:04 MST"}}. Idle seats are priced at {{.PricedDays}} days without activity.
{{.Unknown}} is unknown (see the notes). Made by asana_exporter seats --summary.</p>

<h2>Per workspace</h2>
<table class="numbers">
<thead><tr><th></th>{{range .Head}}<th class="n"><bdi>{{.}}</bdi></th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Strong}} class="strong"{{end}}><td>{{.Label}}</td>{{range .Values}}<td class="n">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>

{{range .Charts}}<figure>
<figcaption><b>{{.Title}}</b>{{.Caption}}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}">
{{$subX := .SubX}}{{range .Rows}}<g>
{{if .Label}}<text x="0" y="{{.TextY}}"><title>{{.Full}}</title>{{.Label}}</text>{{end}}
{{if .Sub}}<text class="sub" x="{{$subX}}" y="{{.TextY}}">{{.Sub}}</text>{{end}}
{{range .Segments}}<rect class="{{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.Height}}"><title>{{.Tip}}</title></rect>
{{end}}{{if .MarkX}}<line class="mark" x1="{{.MarkX}}" x2="{{.MarkX}}" y1="{{.MarkY1}}" y2="{{.MarkY2}}"><title>{{.MarkTip}}</title></line>
{{end}}<text x="{{.ValueX}}" y="{{.TextY}}">{{.Value}}</text>
</g>
{{end}}</svg>
<div class="legend">{{range .Legend}}<span><svg viewBox="0 0 12 12" aria-hidden="true"><rect class="{{.Class}}" width="12" height="12"/></svg>{{.Label}}</span>{{end}}</div>
</figure>
{{end}}
{{if .Notes}}<h2>Notes</h2>
<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
{{end}}
<h2>Idle seats and who holds them</h2>
<p class="meta">{{len .People}} seat(s) idle {{.ListDays}} days or more, the idlest first{{if .PeopleLeftOut}}; {{.PeopleLeftOut}} less idle seat(s) are left out{{end}}.
The monthly price is seat_price for a licensed seat.</p>
<table class="people">
<thead><tr><th>Name</th><th>Email</th><th>Workspace</th><th>State</th><th class="n">Idle days</th><th>Source</th><th class="n">Monthly price</th></tr></thead>
<tbody>
{{range .People}}<tr><td><bdi>{{.Name}}</bdi></td><td><bdi>{{.Email}}</bdi></td><td><bdi>{{.Workspace}}</bdi></td><td class="state">{{state .State}}</td><td class="n">{{.IdleDays}}</td><td>{{.Source}}</td><td class="n">{{.Price}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`
