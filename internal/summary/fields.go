package summary

import (
	"fmt"
	"strconv"
	"time"
)

// field is one number of a workspace's summary: a CSV and JSON key, a label
// for people, and its value as text; known is false when it is unknown.
type field struct {
	key, label string
	number     bool // a JSON number; otherwise a JSON string
	value      func(*Numbers) (text string, known bool)
}

// fields are the summary's numbers in the order every format shows them.
// They depend on the thresholds, which name the idle columns.
func (s *Summary) fields() []field {
	text := func(key, label string, v func(*Numbers) string) field {
		return field{key: key, label: label, value: func(n *Numbers) (string, bool) { return v(n), true }}
	}
	count := func(key, label string, v func(*Numbers) *int) field {
		return field{key: key, label: label, number: true, value: func(n *Numbers) (string, bool) { return itoa(v(n)) }}
	}
	whole := func(key, label string, v func(*Numbers) int) field {
		return count(key, label, func(n *Numbers) *int { return &[]int{v(n)}[0] })
	}
	money := func(key, label string, v func(*Numbers) *float64) field {
		return field{key: key, label: label, number: true, value: func(n *Numbers) (string, bool) { return cents(v(n)) }}
	}
	fs := []field{
		text("workspace_gid", "Workspace gid", func(n *Numbers) string { return n.GID }),
		text("workspace_name", "Workspace", func(n *Numbers) string { return n.Name }),
		count("purchased", "Seats purchased", func(n *Numbers) *int { return n.Purchased }),
		whole("licensed", "Licensed", func(n *Numbers) int { return n.Licensed }),
		count("paused", "Paused", func(n *Numbers) *int { return n.Paused }),
		count("billed", "Billed (licensed − paused)", func(n *Numbers) *int { return n.Billed }),
		whole("view_only", "View-only", func(n *Numbers) int { return n.ViewOnly }),
		whole("guests", "Guests", func(n *Numbers) int { return n.Guests }),
		count("licensed_outside_domains", "Licensed outside the email domains", func(n *Numbers) *int { return n.Outside }),
	}
	for i, d := range s.Thresholds {
		fs = append(fs,
			count(fmt.Sprintf("idle_%dd_licensed", d), fmt.Sprintf("Licensed idle %d days", d),
				func(n *Numbers) *int { return n.Idle[i].Licensed }),
			count(fmt.Sprintf("idle_%dd_view_only", d), fmt.Sprintf("View-only idle %d days", d),
				func(n *Numbers) *int { return n.Idle[i].ViewOnly }))
	}
	fs = append(fs,
		money("seat_price", "Seat price a month", func(n *Numbers) *float64 { return n.SeatPrice }),
		count("priced_idle_seats", fmt.Sprintf("Licensed idle %d days, priced", s.PricedDays), func(n *Numbers) *int { return n.PricedIdle }),
		money("idle_monthly_cost", "Idle seats' cost a month", func(n *Numbers) *float64 { return n.MonthlyCost }),
		field{key: "renewal_date", label: "Renewal date", value: func(n *Numbers) (string, bool) {
			if n.Renewal == nil {
				return "", false
			}
			return n.Renewal.UTC().Format(time.DateOnly), true
		}},
		count("days_to_renewal", "Days to the renewal", func(n *Numbers) *int { return n.DaysToRenewal }),
		money("idle_cost_to_renewal", "Idle seats' cost until the renewal", func(n *Numbers) *float64 { return n.CostToRenewal }),
	)
	if !s.Reclaim {
		return fs
	}
	return append(fs,
		count("reclaimed_seats", "Seats reclaimed", func(n *Numbers) *int {
			if n.Reclaimed == nil {
				return nil
			}
			return &n.Reclaimed.Seats
		}),
		money("reclaimed_monthly_saving", "Saved a month by reclaiming", func(n *Numbers) *float64 {
			if n.Reclaimed == nil {
				return nil
			}
			return &n.Reclaimed.Monthly
		}),
	)
}

func itoa(v *int) (string, bool) {
	if v == nil {
		return "", false
	}
	return strconv.Itoa(*v), true
}

func cents(v *float64) (string, bool) {
	if v == nil {
		return "", false
	}
	return Cents(*v), true
}
