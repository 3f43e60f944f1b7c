package asana_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// A horizon plans the requests for a time that may move later, while the
// context's deadline stays: a request the budget cannot fit before the
// horizon is refused as out of budget, and the same one goes once the
// horizon has moved.
func TestHorizonPlansTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := asanatest.NewMemoryServer(asanatest.Generate(1, asanatest.WorkspaceSpec{Name: "Acme", Licensed: 1}), asanatest.Config{})
		t.Cleanup(srv.Close)
		client := srv.NewClient(func(o *asana.Options) { o.RequestsPerMinute = 60 })
		var horizon atomic.Pointer[time.Time]
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		planned := asana.WithHorizon(ctx, func() time.Time { return *horizon.Load() })
		soon := time.Now().Add(time.Second)
		horizon.Store(&soon)
		burst := 0
		for ; burst < 100; burst++ {
			if _, err := client.Workspaces(planned); err != nil {
				if !errors.Is(err, asana.ErrBudgetExhausted) {
					t.Fatalf("request %d: %v, want the budget's refusal", burst+1, err)
				}
				break
			}
		}
		if d1, _ := planned.Deadline(); burst == 100 || d1 != time.Now().Add(time.Hour) {
			t.Fatalf("%d requests went; the deadline is %v", burst, d1)
		}
		later := time.Now().Add(time.Minute)
		horizon.Store(&later)
		if _, err := client.Workspaces(planned); err != nil {
			t.Fatalf("with the horizon a minute away: %v", err)
		}
	})
}
