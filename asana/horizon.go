package asana

import (
	"context"
	"time"
)

type horizonKey struct{}

// WithHorizon returns a context whose requests the client plans for
// horizon() rather than for the context's own deadline, where that is
// sooner: it starts no request the budget cannot fit before the horizon
// (ErrBudgetExhausted), and no retry whose wait ends after it. horizon may
// move later between calls (the callers waiting for a shared collection
// change), while ctx's Deadline, and so its cancellation, stays as it is;
// a zero time means no horizon.
func WithHorizon(ctx context.Context, horizon func() time.Time) context.Context {
	return context.WithValue(ctx, horizonKey{}, horizon)
}

// plannedEnd is when the work on ctx must be done by: the sooner of its
// deadline and its horizon, if either is set.
func plannedEnd(ctx context.Context) (time.Time, bool) {
	end, ok := ctx.Deadline()
	if h, _ := ctx.Value(horizonKey{}).(func() time.Time); h != nil {
		if t := h(); !t.IsZero() && (!ok || t.Before(end)) {
			end, ok = t, true
		}
	}
	return end, ok
}
