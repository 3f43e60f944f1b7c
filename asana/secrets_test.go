package asana_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
)

// secretToken is a token whose secret part the client must never show.
const (
	secretToken = "2/1204000000000042:S3cr3tT0kenLeakCheck"
	secretPart  = "S3cr3tT0kenLeakCheck"
)

// TestClientErrorsNeverHoldTheToken formats every error the client returns
// on every error path, and the client and its transport themselves, with
// %v, %+v and %#v: the token is in none.
func TestClientErrorsNeverHoldTheToken(t *testing.T) {
	srv := asanatest.NewServer(asanatest.Generate(11, asanatest.WorkspaceSpec{Licensed: 150}, asanatest.WorkspaceSpec{Licensed: 350}),
		asanatest.Config{Tokens: map[string]asanatest.TokenKind{secretToken: asanatest.FullAccess}})
	defer srv.Close()
	bearer, err := asana.BearerToken(secretToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	gid := srv.WorkspaceGIDs()[1]
	check := func(what string, v any) {
		t.Helper()
		if s := fmt.Sprintf("%v|%+v|%#v", v, v, v); strings.Contains(s, secretPart) {
			t.Errorf("%s holds the token: %s", what, s)
		}
	}
	for _, base := range []string{srv.BaseURL, srv.URL} { // srv.URL: 404 "No matching route"
		client, err := asana.New(asana.Options{BaseURL: base, Transport: bearer, MaxAttempts: 2,
			RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, MaxListingRestarts: 1})
		if err != nil {
			t.Fatal(err)
		}
		check("the client", client)
		check("the transport", bearer)
		errs := 0
		for _, f := range asanatest.EveryFault() {
			srv.ClearFaults()
			srv.Inject(f)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, err1 := client.Workspaces(ctx)
			_, err2 := client.CountSeats(ctx, gid, asana.CountOptions{})
			cancel()
			for _, err := range []error{err1, err2} {
				if err != nil {
					errs++
					check(fmt.Sprintf("the error for %+v", f), err)
				}
			}
			srv.GrantToken(secretToken, asanatest.FullAccess) // after Revoke
		}
		if errs < len(asanatest.EveryFault()) {
			t.Errorf("only %d errors from %d error paths: the faults did not bite", errs, len(asanatest.EveryFault()))
		}
	}
}
