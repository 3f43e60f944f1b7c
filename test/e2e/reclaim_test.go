package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/internal/reclaim"
	"github.com/asana-exporter/asana_exporter/internal/testutil/exposition"
)

// acmeIdle is Acme's audit log in the reclaim tests: five licensed members
// idle 60 days or more, two more idle only 30, one paused.
var acmeIdle = asanatest.UsageSpec{Idle30: 2, Idle60: 2, Idle90: 3, Paused: 1}

// roomy is a simulated Asana whose rate limit leaves room for the exporter
// and the commands at once: each process keeps to its own budget of 1,500
// requests a minute, and the token's limit is not what these tests test.
var roomy = asanatest.Config{RequestsPerWindow: 1 << 20}

// reclaimRun runs one reclaim command of the built binary against s and
// returns its standard output and error.
func reclaimRun(t *testing.T, s *simulated, audit []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(exporterBinary(t), append(append(args, audit...), s.args("--quiet", "--log.level=error")...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// posts counts the simulator's requests to route since the last reset.
func posts(s *simulated, route string) int {
	n := 0
	for _, r := range s.srv.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

// journalResults are the journal's lines as "action result", in order,
// but for the started line before each removal.
func journalResults(t *testing.T, path string) []string {
	t.Helper()
	entries, err := reclaim.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Result != reclaim.ResultStarted {
			got = append(got, string(e.Action)+" "+string(e.Result))
		}
	}
	return got
}

// dropPlanRow rewrites the plan without its data row i (0-based), as a
// person deleting a line in a spreadsheet would.
func dropPlanRow(t *testing.T, path string, i int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	records = append(records[:i+1], records[i+2:]...)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(records)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func licensed(t *testing.T, families exposition.Families, gid string) int {
	t.Helper()
	seats, ok := families.Seats(gid)
	if !ok {
		t.Fatalf("workspace %s has no seats published", gid)
	}
	return seats.Licensed
}

// TestReclaimEndToEnd: plan, a person drops a row, a dry run changes
// nothing, apply removes exactly the rows left (the running exporter's
// licensed count drops by as many, and it exports the journal), a second
// apply does nothing twice, and undo invites them back.
func TestReclaimEndToEnd(t *testing.T) {
	t.Parallel()
	s := newSimulated(t, roomy)
	audit := s.withAuditLog(t, asanatest.DefaultToken, acmeIdle)
	acme := s.gids[0]
	dir := t.TempDir()
	plan, journal := filepath.Join(dir, "plan.csv"), filepath.Join(dir, "journal.jsonl")
	e := startExporter(t, nil, s.args(append(audit, "--asana.refresh-interval=1s", "--reclaim.journal="+journal)...)...)
	e.waitFor(t, "/-/ready")
	_, families := e.scrape(t, "10")
	before := licensed(t, families, acme)

	_, stderr, err := reclaimRun(t, s, audit, "reclaim", "plan", "--idle=60d", "--workspace="+acme, "--output="+plan)
	if err != nil {
		t.Fatalf("reclaim plan: %v\n%s", err, stderr)
	}
	idle := acmeIdle.Idle(60)
	for _, want := range []string{fmt.Sprintf("proposes %d seat(s) to remove", idle), fmt.Sprintf("saves %.2f a month", float64(idle)*24.99)} {
		if !strings.Contains(stderr, want) {
			t.Errorf("reclaim plan's summary lacks %q:\n%s", want, stderr)
		}
	}
	if st, err := os.Stat(plan); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the plan: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	rows, err := reclaim.ReadPlan(plan)
	if err != nil || len(rows) != idle {
		t.Fatalf("the plan holds %d rows (%v), want %d", len(rows), err, idle)
	}
	dropPlanRow(t, plan, 0)
	kept := rows[0].MembershipGID

	s.srv.ResetRequests()
	stdout, stderr, err := reclaimRun(t, s, audit, "reclaim", "apply", "--plan="+plan, "--journal="+journal)
	if err != nil || posts(s, asana.EndpointRemoveUser) != 0 || strings.Count(stdout, "would remove") != idle-1 ||
		!strings.Contains(stderr, "nothing was changed") {
		t.Fatalf("dry run: %v, %d removals; want none and %d that would be\nstdout:\n%s\nstderr:\n%s",
			err, posts(s, asana.EndpointRemoveUser), idle-1, stdout, stderr)
	}

	stdout, stderr, err = reclaimRun(t, s, audit, "reclaim", "apply", "--plan="+plan, "--journal="+journal, "--yes")
	if err != nil || posts(s, asana.EndpointRemoveUser) != idle-1 {
		t.Fatalf("apply --yes: %v, %d removals, want %d\nstdout:\n%s\nstderr:\n%s", err, posts(s, asana.EndpointRemoveUser), idle-1, stdout, stderr)
	}
	if strings.Contains(stdout, kept) || strings.Contains(stderr, kept) {
		t.Errorf("the dropped row's membership %s was acted on", kept)
	}
	if st, err := os.Stat(journal); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the journal: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitUntil(ctx, t, "the licensed count to drop by the removals", func() bool {
		_, families = e.scrape(t, "10")
		return licensed(t, families, acme) == before-(idle-1)
	})
	if v, _ := families.Sample("asana_reclaim_actions_total", "action=remove", "result=done"); v != float64(idle-1) {
		t.Errorf("asana_reclaim_actions_total{action=remove,result=done} = %v, want %d", v, idle-1)
	}
	if v, _ := families.Sample("asana_reclaim_monthly_saving", "workspace_gid="+acme); fmt.Sprintf("%.2f", v) != fmt.Sprintf("%.2f", float64(idle-1)*24.99) {
		t.Errorf("asana_reclaim_monthly_saving = %v, want %.2f", v, float64(idle-1)*24.99)
	}

	s.srv.ResetRequests()
	stdout, stderr, err = reclaimRun(t, s, audit, "reclaim", "apply", "--plan="+plan, "--journal="+journal, "--yes")
	if err != nil || posts(s, asana.EndpointRemoveUser) != 0 || strings.Count(stdout, "already removed") != idle-1 {
		t.Errorf("second apply: %v, %d removals; want none, each row already removed\nstdout:\n%s\nstderr:\n%s",
			err, posts(s, asana.EndpointRemoveUser), stdout, stderr)
	}

	// The finance summary shows what was freed, from the same journal.
	stdout, stderr, err = reclaimRun(t, s, audit, "seats", "--summary", "--format=csv", "--workspace="+acme, "--reclaim.journal="+journal)
	if err != nil {
		t.Fatalf("seats --summary: %v\n%s", err, stderr)
	}
	summary, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(summary) != 2 {
		t.Fatalf("seats --summary: %v\n%s", err, stdout)
	}
	freed := map[string]string{}
	for i, key := range summary[0] {
		freed[key] = summary[1][i]
	}
	if got, want := freed["reclaimed_seats"]+" "+freed["reclaimed_monthly_saving"], fmt.Sprintf("%d %.2f", idle-1, float64(idle-1)*24.99); got != want {
		t.Errorf("seats --summary: reclaimed seats and saving %q, want %q\n%s", got, want, stdout)
	}

	stdout, stderr, err = reclaimRun(t, s, nil, "reclaim", "undo", "--journal="+journal, "--yes")
	if err != nil || posts(s, asana.EndpointAddUser) != idle-1 || !strings.Contains(stderr, "invitation") {
		t.Fatalf("undo: %v, %d additions, want %d\nstdout:\n%s\nstderr:\n%s", err, posts(s, asana.EndpointAddUser), idle-1, stdout, stderr)
	}
	// Invitees are billed, so the seats come back at once, but for the
	// people outside the domains: invited, they are guests.
	outside := 0
	for _, r := range rows[1:] {
		if r.Domain == asana.Outside.String() {
			outside++
		}
	}
	if strings.Count(stdout, "Asana makes them a guest") != outside {
		t.Errorf("undo does not warn of the %d people outside the domains who come back as guests:\n%s", outside, stdout)
	}
	waitUntil(ctx, t, "the licensed count to come back", func() bool {
		_, families = e.scrape(t, "10")
		return licensed(t, families, acme) == before-outside
	})
	want := strings.Repeat("remove done ", idle-1) + strings.Repeat("add done ", idle-1)
	if got := strings.Join(journalResults(t, journal), " ") + " "; got != want {
		t.Errorf("journal %q, want %q", got, want)
	}
}

// TestReclaimRefusesNonsenseFlags: a flag that would cap nothing, act
// without the exclude list or never give up is refused before anything
// runs, by a message that names it.
func TestReclaimRefusesNonsenseFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	apply := "apply --plan=" + filepath.Join(dir, "plan.csv") + " --journal=" + journal
	for _, c := range []struct{ args, want string }{
		{apply + " --max=0", `--max="0" is not a number of members from 1 to 1000`},
		{apply + " --max=-1", `--max="-1" is not a number`},
		{apply + " --max=ten", `--max="ten" is not a number`},
		{"undo --journal=" + journal + " --max=1000000", `--max="1000000" is not a number`},
		{apply + " --max-age=0", `--max-age="0" is not a duration above 0`},
		{apply + " --max-age=1y", `--max-age="1y" is not a duration above 0 and at most 90d`},
		{apply + " --exclude=", "--exclude is empty: give the file's path, or leave the flag out"},
		{"plan --idle=60d --output=plan.csv --exclude=", "--exclude is empty"},
		{"plan --idle=0d --output=plan.csv", `--idle="0d" is not a whole number of days above 0`},
		{"plan --idle=36h --output=plan.csv", `--idle="36h" is not a whole number of days`},
		{"plan --idle=60d --output=plan.csv --timeout=-1s", "--timeout must not be negative"},
	} {
		out, err := exec.Command(exporterBinary(t), append([]string{"reclaim"}, strings.Fields(c.args)...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: %v, output %q; want it refused with %q", c.args, err, out, c.want)
		}
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused command touched the journal: %v", err)
	}
}

// TestReclaimApplyUnderFaults: whatever goes wrong with a removal, the
// journal says done exactly for the members Asana removed, and a rerun
// finishes the rest without asking Asana to remove anyone twice.
func TestReclaimApplyUnderFaults(t *testing.T) {
	t.Parallel()
	for _, c := range asanatest.ChangeScenarios {
		switch {
		case c.Slow:
			continue // an answer that never comes waits out the removal's two minutes: TestApplyReadsBackALostAnswer covers its read-back
		case c.Outcome == asana.ErrNotFound:
			continue // the workspace itself is deleted: nothing is left to reclaim
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s, audit, plan, journal := planAcme(t)
			for _, f := range c.On(asana.EndpointRemoveUser) {
				s.srv.Inject(f)
			}
			_, stderr, err := reclaimRun(t, s, audit, "reclaim", "apply", "--plan="+plan, "--journal="+journal, "--yes")
			if (err == nil) != (c.Outcome == "" || (c.Outcome == asana.ErrOutcomeUnknown && c.Acted)) {
				t.Errorf("first apply: %v\n%s", err, stderr)
			}
			s.srv.ClearFaults()
			s.srv.RestoreTokens()
			s.srv.ResetRequests()
			if _, stderr, err := reclaimRun(t, s, audit, "reclaim", "apply", "--plan="+plan, "--journal="+journal, "--yes"); err != nil {
				t.Fatalf("rerun: %v\n%s", err, stderr)
			}
			done, removed := map[string]int{}, 0
			entries, _ := reclaim.ReadJournal(journal)
			for _, e := range entries {
				if e.Result == reclaim.ResultDone {
					done[e.MembershipGID]++
				}
			}
			s.srv.Mutate(func(o *asanatest.Org) {
				for _, m := range o.Workspaces[0].Memberships {
					if _, ok := done[m.GID]; ok && !m.IsActive {
						removed++
					}
				}
			})
			idle := acmeIdle.Idle(60)
			if len(done) != idle || removed != idle {
				t.Errorf("%d members journalled done, %d of them removed; want all %d", len(done), removed, idle)
			}
			for gid, n := range done {
				if n != 1 {
					t.Errorf("membership %s journalled done %d times", gid, n)
				}
			}
			if n := posts(s, asana.EndpointRemoveUser); n != idle-len(entriesDoneBefore(entries)) {
				t.Errorf("the rerun asked for %d removals, want only those not done before", n)
			}
		})
	}
}

// entriesDoneBefore are the done entries of the first run of the journal.
func entriesDoneBefore(entries []reclaim.Entry) []reclaim.Entry {
	var first []reclaim.Entry
	for _, e := range entries {
		if e.Run != entries[0].Run {
			break
		}
		if e.Result == reclaim.ResultDone {
			first = append(first, e)
		}
	}
	return first
}

// TestReclaimApplyStopsCleanlyAtSIGTERM: a SIGTERM during a removal lets it
// finish and be journalled; the run stops there, and a rerun goes on. A
// SIGKILL there (a crash between Asana's answer and the journal line)
// leaves the removal journalled as started: the rerun reads it back and
// journals it done, once, so that undo knows of it.
func TestReclaimApplyStopsCleanlyAtSIGTERM(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			applyStoppedBy(t, sig)
		})
	}
}

// planAcme is a simulated Asana with acmeIdle's audit log, the args that
// read it, Acme's plan at 60 days, and where its journal goes.
func planAcme(t *testing.T) (s *simulated, audit []string, plan, journal string) {
	t.Helper()
	s = newSimulated(t, roomy)
	audit = s.withAuditLog(t, asanatest.DefaultToken, acmeIdle)
	dir := t.TempDir()
	plan, journal = filepath.Join(dir, "plan.csv"), filepath.Join(dir, "journal.jsonl")
	if _, stderr, err := reclaimRun(t, s, audit, "reclaim", "plan", "--idle=60d", "--workspace="+s.gids[0], "--output="+plan); err != nil {
		t.Fatalf("reclaim plan: %v\n%s", err, stderr)
	}
	return s, audit, plan, journal
}

func applyStoppedBy(t *testing.T, sig syscall.Signal) {
	s, audit, plan, journal := planAcme(t)
	// The first removal is made at once and answered 30 seconds later:
	// the signal comes while its answer is awaited.
	s.srv.Inject(asanatest.Fault{Route: asana.EndpointRemoveUser, Times: 1, Latency: 30 * time.Second, Late: true})
	planned, err := reclaim.ReadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exporterBinary(t), append(append([]string{"reclaim", "apply", "--plan=" + plan, "--journal=" + journal, "--yes"}, audit...),
		s.args("--quiet", "--log.level=error")...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitUntil(ctx, t, "the first removal to be made", func() bool {
		inactive := false
		s.srv.Mutate(func(o *asanatest.Org) {
			for _, m := range o.Workspaces[0].Memberships {
				inactive = inactive || m.GID == planned[0].MembershipGID && !m.IsActive
			}
		})
		return inactive
	})
	cmd.Process.Signal(sig)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("apply after %s: %v, want a non-zero exit\n%s", sig, err, stderr.String())
	}
	got, want := journalResults(t, journal), []string{"remove done"}
	if sig == syscall.SIGKILL {
		want = nil // only the started line
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal %q: want %q, and nothing after it\n%s", got, want, stderr.String())
	}
	if sig == syscall.SIGTERM && !strings.Contains(stderr.String(), "run apply again") {
		t.Errorf("stderr does not say how to go on:\n%s", stderr.String())
	}
	// The simulator logs a request once it has answered it, which for the
	// killed process's may be after the process is gone: the rerun's
	// requests are counted from then on.
	waitUntil(ctx, t, "the simulator to log the first removal", func() bool { return posts(s, asana.EndpointRemoveUser) == 1 })
	s.srv.ResetRequests()
	if _, stderr, err := reclaimRun(t, s, audit, "reclaim", "apply", "--plan="+plan, "--journal="+journal, "--yes"); err != nil {
		t.Fatalf("rerun: %v\n%s", err, stderr)
	}
	idle := acmeIdle.Idle(60)
	if got := journalResults(t, journal); fmt.Sprint(got) != fmt.Sprint(slices.Repeat([]string{"remove done"}, idle)) {
		t.Errorf("journal after the rerun %q, want %d removals done", got, idle)
	}
	if n := posts(s, asana.EndpointRemoveUser); n != idle-1 {
		t.Errorf("the rerun asked for %d removals, want %d: none for the member removed before the signal", n, idle-1)
	}
}
