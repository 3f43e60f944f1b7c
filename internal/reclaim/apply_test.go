package reclaim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/roster"
)

// member is one membership as the fake Asana holds it.
type member struct {
	m         asana.Membership
	workspace string
}

// fakeAsana holds memberships and answers as Asana would, with failures
// queued per call.
type fakeAsana struct {
	members   map[string]*member // by membership gid
	removeErr []error            // the next RemoveUser calls' errors, in order
	addErr    map[string]error   // AddUser's error for a user, by what names them
	applied   bool               // whether a failing RemoveUser still removed
	calls     []string
	onRemove  func() // runs after each removal (a signal, say)
}

func (f *fakeAsana) WorkspaceMembership(_ context.Context, gid string, _ asana.Detail) (asana.Membership, string, error) {
	f.calls = append(f.calls, "get "+gid)
	m, ok := f.members[gid]
	if !ok {
		return asana.Membership{}, "", &asana.Error{Kind: asana.ErrNotFound, StatusCode: 404}
	}
	return m.m, m.workspace, nil
}

func (f *fakeAsana) find(workspace, user string) *member {
	for _, m := range f.members {
		if m.workspace == workspace && (m.m.User.GID == user || m.m.User.Email == user) {
			return m
		}
	}
	return nil
}

func (f *fakeAsana) RemoveUser(_ context.Context, workspace, user string) error {
	f.calls = append(f.calls, "remove "+user)
	var err error
	if len(f.removeErr) > 0 {
		err, f.removeErr = f.removeErr[0], f.removeErr[1:]
	}
	if m := f.find(workspace, user); m != nil && (err == nil || f.applied) {
		m.m.IsActive = false
	}
	if f.onRemove != nil {
		f.onRemove()
	}
	return err
}

func (f *fakeAsana) AddUser(_ context.Context, workspace, user string) (asana.User, error) {
	f.calls = append(f.calls, "add "+user)
	if err := f.addErr[user]; err != nil {
		return asana.User{}, err
	}
	m := f.find(workspace, user)
	if m == nil {
		return asana.User{}, &asana.Error{Kind: asana.ErrNotFound, StatusCode: 404}
	}
	m.m.IsActive = true
	return m.m.User, nil
}

func (f *fakeAsana) removals() int {
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, "remove ") {
			n++
		}
	}
	return n
}

var planned = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// scene is a workspace of n idle licensed members, planned for removal at
// a 60-day threshold, and the roster as it stands at apply.
func scene(n int) (*fakeAsana, []Row, map[string]roster.Entry) {
	f := &fakeAsana{members: map[string]*member{}}
	current := map[string]roster.Entry{}
	var rows []Row
	price := 10.0
	for i := range n {
		gid, user := fmt.Sprint(1000+i), fmt.Sprint(2000+i)
		email := fmt.Sprintf("p%d@example.com", i)
		f.members[gid] = &member{workspace: "1", m: asana.Membership{GID: gid, IsActive: true, User: asana.User{GID: user, Email: email}}}
		current[gid] = roster.Entry{WorkspaceGID: "1", MembershipGID: gid, UserGID: user, UserEmail: email, State: asana.Licensed,
			Domain: "inside", IdleDays: 90, ActivitySource: roster.SourceAuditLog}
		rows = append(rows, Row{PlannedAt: planned, WorkspaceGID: "1", WorkspaceName: "Acme", MembershipGID: gid, UserGID: user,
			UserEmail: email, State: asana.Licensed, Reason: ReasonIdle, IdleThresholdDays: 60, IdleDays: 90,
			ActivitySource: roster.SourceAuditLog, Domain: "inside", Action: ActionRemove, MonthlyPrice: &price})
	}
	return f, rows, current
}

// one is the actor of every workspace: f, as user 9.
func one(f Asana) Actors {
	return func(string) (Actor, error) { return Actor{Client: f, User: asana.User{GID: "9"}}, nil }
}

func options(f Asana, current map[string]roster.Entry, yes bool, report *bytes.Buffer) ApplyOptions {
	return ApplyOptions{
		Run:     Run{ID: "run1", Actors: one(f), Yes: yes, Now: func() time.Time { return planned.Add(time.Hour) }, Report: report},
		Current: current,
	}
}

// results are the journal's entries as "action result membership", but
// for the started lines before each removal, which
// TestARemovalWhoseEndWasNotJournalledIsSettled checks.
func results(t *testing.T, path string) []string {
	t.Helper()
	entries, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Result != ResultStarted {
			got = append(got, fmt.Sprintf("%s %s %s", e.Action, e.Result, e.MembershipGID))
		}
	}
	return got
}

func TestApplyWithoutYesChangesNothing(t *testing.T) {
	f, rows, current := scene(3)
	j, path := openTemp(t)
	var report bytes.Buffer
	out, err := Apply(context.Background(), j, rows, options(f, current, false, &report))
	if err != nil {
		t.Fatal(err)
	}
	if out.Done != 3 || out.Monthly != 30 || f.removals() != 0 {
		t.Errorf("outcome %+v, %d removals; want 3 that would be removed for 30 a month, and none made", out, f.removals())
	}
	if got := results(t, path); len(got) != 0 {
		t.Errorf("a dry run journalled %q", got)
	}
	if !strings.Contains(report.String(), "would remove") {
		t.Errorf("the report does not say what would be done:\n%s", report.String())
	}
}

func TestApplyRemovesOnceAndARerunRepeatsNothing(t *testing.T) {
	f, rows, current := scene(3)
	j, path := openTemp(t)
	out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
	if err != nil || out.Done != 3 {
		t.Fatalf("outcome %+v, error %v; want 3 removed", out, err)
	}
	want := []string{"remove done 1000", "remove done 1001", "remove done 1002"}
	if got := results(t, path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal %q, want %q", got, want)
	}
	before := f.removals()
	out, err = Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
	if err != nil || out.Done != 0 || out.Skipped != 3 || f.removals() != before {
		t.Errorf("rerun: outcome %+v, error %v, %d more removals; want 3 skipped and none made", out, err, f.removals()-before)
	}
}

// With several organisations, each row is acted on with the credential of
// the organisation its workspace belongs to, and the journal names that
// credential's user; undo adds each back with the same one. A row of a
// workspace no organisation owns is skipped, saying why.
func TestApplyActsWithTheCredentialOfTheWorkspacesOrganization(t *testing.T) {
	acme, rows, current := scene(2)
	globex := &fakeAsana{members: map[string]*member{}}
	// The second member is globex's, in its workspace 2.
	m := acme.members["1001"]
	delete(acme.members, "1001")
	m.workspace = "2"
	globex.members["1001"] = m
	rows[1].WorkspaceGID = "2"
	e := current["1001"]
	e.WorkspaceGID = "2"
	current["1001"] = e
	stray := rows[0]
	stray.WorkspaceGID, stray.MembershipGID = "3", "1999"
	rows = append(rows, stray)
	actors := func(gid string) (Actor, error) {
		switch gid {
		case "1":
			return Actor{Client: acme, User: asana.User{GID: "91"}}, nil
		case "2":
			return Actor{Client: globex, User: asana.User{GID: "92"}}, nil
		}
		return Actor{}, fmt.Errorf("no organization in the config sees workspace %s", gid)
	}
	j, path := openTemp(t)
	var report bytes.Buffer
	o := options(acme, current, true, &report)
	o.Actors = actors
	out, err := Apply(context.Background(), j, rows, o)
	if err != nil || out.Done != 2 || out.Skipped != 1 || acme.removals() != 1 || globex.removals() != 1 {
		t.Fatalf("outcome %+v, error %v, removals %d by acme and %d by globex; want one each, and the stray row skipped",
			out, err, acme.removals(), globex.removals())
	}
	if !strings.Contains(report.String(), "skipped: no organization in the config sees workspace 3") {
		t.Errorf("the report does not say why the stray row was skipped:\n%s", report.String())
	}
	entries, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	actorOf := map[string]string{}
	for _, e := range entries {
		if e.Result == ResultDone {
			actorOf[e.WorkspaceGID] = e.ActorGID
		}
	}
	if actorOf["1"] != "91" || actorOf["2"] != "92" {
		t.Errorf("the journal's actors by workspace %v, want 1: 91 and 2: 92", actorOf)
	}
	if out, err := Undo(context.Background(), j, o.Run); err != nil || out.Done != 2 || !acme.members["1000"].m.IsActive || !globex.members["1001"].m.IsActive {
		t.Errorf("undo: outcome %+v, error %v; want each member added back by their organisation's credential", out, err)
	}
}

// A member the journal removed before this plan was made, and whom the
// plan finds again (added back by hand since, with a new membership), is
// removed again: the journal's old removal does not stand for this plan's.
func TestApplyActsOnAMemberAddedBackBeforeThePlan(t *testing.T) {
	f, rows, current := scene(1)
	j, path := openTemp(t)
	old := rows[0]
	old.PlannedAt, old.MembershipGID = planned.Add(-30*24*time.Hour), "999"
	j.Append(Entry{Time: old.PlannedAt.Add(time.Hour), Run: "old", ActorGID: "9", Action: ActionRemove, Result: ResultDone,
		WorkspaceGID: "1", MembershipGID: "999", UserGID: "2000", UserEmail: "p0@example.com", PlanRow: &old})
	out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
	if err != nil || out.Done != 1 || f.removals() != 1 {
		t.Fatalf("outcome %+v, error %v, %d removals; want the member removed again", out, err, f.removals())
	}
	if got := results(t, path); fmt.Sprint(got) != "[remove done 999 remove done 1000]" {
		t.Errorf("journal %q", got)
	}
	if out, err := Undo(context.Background(), j, options(f, current, true, &bytes.Buffer{}).Run); err != nil || out.Done != 1 {
		t.Errorf("undo: outcome %+v, error %v; want the last removal added back, once", out, err)
	}
}

func TestApplyActsOnAtMostMax(t *testing.T) {
	f, rows, current := scene(5)
	j, _ := openTemp(t)
	o := options(f, current, true, &bytes.Buffer{})
	o.Max = 2
	out, err := Apply(context.Background(), j, rows, o)
	if err != nil || out.Done != 2 || out.Left != 3 || f.removals() != 2 {
		t.Errorf("outcome %+v, error %v, %d removals; want 2 done and 3 left", out, err, f.removals())
	}
}

// Each way a planned row can stop holding, or be forged, is skipped with
// its reason and journalled, and the others go on.
func TestApplySkipsWhatChangedWithTheReason(t *testing.T) {
	cases := []struct {
		name, says string
		change     func(f *fakeAsana, rows []Row, current map[string]roster.Entry)
	}{
		{"logged in since", "active since the plan", func(_ *fakeAsana, _ []Row, c map[string]roster.Entry) {
			e := c["1000"]
			e.IdleDays = 2
			c["1000"] = e
		}},
		{"activity unknown now", "unknown now", func(_ *fakeAsana, _ []Row, c map[string]roster.Entry) {
			e := c["1000"]
			e.IdleDays = -1
			c["1000"] = e
		}},
		{"made an admin", "now an admin", func(f *fakeAsana, _ []Row, _ map[string]roster.Entry) { f.members["1000"].m.IsAdmin = true }},
		{"made a guest", "now guest", func(f *fakeAsana, _ []Row, _ map[string]roster.Entry) { f.members["1000"].m.IsGuest = true }},
		{"removed already", "already removed", func(f *fakeAsana, _ []Row, _ map[string]roster.Entry) { f.members["1000"].m.IsActive = false }},
		{"licence paused", "licence paused", func(_ *fakeAsana, _ []Row, c map[string]roster.Entry) {
			e := c["1000"]
			e.LicensePaused = true
			c["1000"] = e
		}},
		{"not in the roster", "not in its workspace's roster", func(_ *fakeAsana, _ []Row, c map[string]roster.Entry) { delete(c, "1000") }},
		{"user gid forged", "changed after the plan", func(_ *fakeAsana, r []Row, _ map[string]roster.Entry) { r[0].UserGID = "2001" }},
		{"workspace forged", "another workspace's", func(f *fakeAsana, _ []Row, _ map[string]roster.Entry) { f.members["1000"].workspace = "2" }},
		{"membership gone", "no such membership", func(f *fakeAsana, _ []Row, _ map[string]roster.Entry) { delete(f.members, "1000") }},
		{"the token's own user", "own user", func(_ *fakeAsana, r []Row, _ map[string]roster.Entry) { r[0].UserGID = "9" }},
		{"email forged", "changed after the plan", func(_ *fakeAsana, r []Row, _ map[string]roster.Entry) { r[0].UserEmail = "mallory@example.net" }},
		{"email changed in Asana since", "email has changed since", func(f *fakeAsana, _ []Row, _ map[string]roster.Entry) {
			f.members["1000"].m.User.Email = "p0@example.org"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, rows, current := scene(2)
			c.change(f, rows, current)
			j, path := openTemp(t)
			var report bytes.Buffer
			out, err := Apply(context.Background(), j, rows, options(f, current, true, &report))
			if err != nil || out.Skipped != 1 || out.Done != 1 {
				t.Fatalf("outcome %+v, error %v; want line 2 skipped and line 3 done", out, err)
			}
			if !strings.Contains(report.String(), "plan line 2") || !strings.Contains(report.String(), c.says) {
				t.Errorf("the report does not say %q of plan line 2:\n%s", c.says, report.String())
			}
			if got := results(t, path); fmt.Sprint(got) != "[remove skipped 1000 remove done 1001]" {
				t.Errorf("journal %q", got)
			}
		})
	}
}

// A removal whose answer is lost is read back: the journal says done only
// when Asana did act, and the run stops otherwise.
func TestApplyReadsBackALostAnswer(t *testing.T) {
	lost := &asana.Error{Kind: asana.ErrOutcomeUnknown, StatusCode: 500}
	for _, applied := range []bool{true, false} {
		t.Run(fmt.Sprint("applied=", applied), func(t *testing.T) {
			f, rows, current := scene(2)
			f.removeErr, f.applied = []error{lost}, applied
			j, path := openTemp(t)
			out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
			got := results(t, path)
			if applied {
				if err != nil || out.Done != 2 || fmt.Sprint(got) != "[remove done 1000 remove done 1001]" {
					t.Errorf("outcome %+v, error %v, journal %q; want both done", out, err, got)
				}
				return
			}
			if err == nil || out.Failed != 1 || out.Left != 1 || fmt.Sprint(got) != "[remove failed 1000]" {
				t.Errorf("outcome %+v, error %v, journal %q; want the run stopped at a failed line 2", out, err, got)
			}
		})
	}
}

// A refusal that is not about one member stops the run, and names the
// line, not the person.
func TestApplyStopsAtARefusalWithoutNamingThePerson(t *testing.T) {
	f, rows, current := scene(3)
	f.removeErr = []error{&asana.Error{Kind: asana.ErrForbidden, StatusCode: 403,
		Messages: []asana.ErrorMessage{{Message: "p0@example.com may not be removed"}}}}
	j, path := openTemp(t)
	out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
	if err == nil || f.removals() != 1 || out.Left != 2 {
		t.Fatalf("outcome %+v, error %v, %d removals; want a stop after the first", out, err, f.removals())
	}
	if strings.Contains(err.Error(), "@") || !strings.Contains(err.Error(), "plan line 2") {
		t.Errorf("error %q: want the plan line and no email", err)
	}
	if got := results(t, path); fmt.Sprint(got) != "[remove failed 1000]" {
		t.Errorf("journal %q", got)
	}
}

// A signal during a removal lets it finish and be journalled, then stops.
func TestApplyFinishesTheRemovalInFlightAtASignal(t *testing.T) {
	f, rows, current := scene(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.onRemove = cancel
	j, path := openTemp(t)
	out, err := Apply(ctx, j, rows, options(f, current, true, &bytes.Buffer{}))
	if !errors.Is(err, context.Canceled) || out.Done != 1 || out.Left != 2 {
		t.Errorf("outcome %+v, error %v; want 1 done, 2 left and the cancellation", out, err)
	}
	if got := results(t, path); fmt.Sprint(got) != "[remove done 1000]" {
		t.Errorf("journal %q", got)
	}
}

// An exclusion protects by the member's email as it is now and in any
// case, even when the plan's row was edited to another email.
func TestApplyExcludesByTheEmailNow(t *testing.T) {
	x, err := parseExclusions("exclude.txt", []byte("P0@Example.COM\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"p0@example.com", "mallory@example.net"} {
		f, rows, current := scene(1)
		rows[0].UserEmail = email
		j, path := openTemp(t)
		var report bytes.Buffer
		o := options(f, current, true, &report)
		o.Exclusions = x
		out, err := Apply(context.Background(), j, rows, o)
		if err != nil || out.Skipped != 1 || f.removals() != 0 || !strings.Contains(report.String(), string(SkipExcluded)) {
			t.Errorf("plan email %s: outcome %+v, error %v, %d removals; want the member skipped as excluded\n%s", email, out, err, f.removals(), report.String())
		}
		if got := results(t, path); fmt.Sprint(got) != "[remove skipped 1000]" {
			t.Errorf("plan email %s: journal %q", email, got)
		}
	}
}

// A removal is journalled as started before it is asked for. When the line
// with its end is lost (the disk full, a crash), the next run, apply or
// undo, reads the membership back and journals how it ended, so that undo
// knows of it; a dry run only says so. A journal that cannot take the
// started line stops the run before anything is asked of Asana.
func TestARemovalWhoseEndWasNotJournalledIsSettled(t *testing.T) {
	lostEnd := func(f *fakeAsana, j *Journal) {
		f.onRemove = func() {
			j.sync = func() error { j.f.Truncate(j.size); return syscall.ENOSPC } // the line never reaches the disk
		}
	}
	t.Run("apply", func(t *testing.T) {
		f, rows, current := scene(2)
		j, path := openTemp(t)
		lostEnd(f, j)
		_, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
		if err == nil || !strings.Contains(err.Error(), "the removal of plan line 2 was asked for: the next run reads it back") {
			t.Fatalf("error %v; want the run stopped, saying the removal was asked for", err)
		}
		j.Close()
		f.onRemove = nil
		if got := results(t, path); len(got) != 0 {
			t.Fatalf("journal %q; want only the started line", got)
		}
		var report bytes.Buffer
		j = reopen(t, path)
		if _, err := Apply(context.Background(), j, rows, options(f, current, false, &report)); err != nil ||
			!strings.Contains(report.String(), "how it ended was never journalled") || len(results(t, path)) != 0 {
			t.Fatalf("dry run: %v, journal %q; want the interrupted removal reported and nothing written\n%s", err, results(t, path), report.String())
		}
		out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
		if err != nil || out.Done != 1 || out.Skipped != 1 || f.removals() != 2 {
			t.Fatalf("rerun: outcome %+v, error %v, %d removals; want line 2 settled as done, line 3 removed", out, err, f.removals())
		}
		if got := results(t, path); fmt.Sprint(got) != "[remove done 1000 remove done 1001]" {
			t.Errorf("journal %q", got)
		}
		if _, err := Undo(context.Background(), j, options(f, current, true, &bytes.Buffer{}).Run); err != nil || !f.members["1000"].m.IsActive {
			t.Errorf("undo: %v; want the settled removal added back", err)
		}
	})
	t.Run("undo", func(t *testing.T) {
		f, rows, current := scene(1)
		j, path := openTemp(t)
		lostEnd(f, j)
		Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
		j.Close()
		out, err := Undo(context.Background(), reopen(t, path), options(f, current, true, &bytes.Buffer{}).Run)
		if err != nil || out.Done != 1 || !f.members["1000"].m.IsActive {
			t.Errorf("outcome %+v, error %v; want the interrupted removal settled and added back", out, err)
		}
	})
	t.Run("never asked", func(t *testing.T) {
		f, rows, current := scene(1)
		j, path := openTemp(t)
		j.Append(Entry{Time: planned, Run: "crashed", ActorGID: "9", Action: ActionRemove, Result: ResultStarted,
			WorkspaceGID: "1", MembershipGID: "1000", UserGID: "2000", UserEmail: "p0@example.com", PlanRow: &rows[0]})
		out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
		if err != nil || out.Done != 1 || f.removals() != 1 {
			t.Fatalf("outcome %+v, error %v, %d removals; want it settled as not removed, then removed", out, err, f.removals())
		}
		if got := results(t, path); fmt.Sprint(got) != "[remove failed 1000 remove done 1000]" {
			t.Errorf("journal %q", got)
		}
	})
	t.Run("no room for the started line", func(t *testing.T) {
		f, rows, current := scene(1)
		j, _ := openTemp(t)
		j.sync = func() error { return syscall.ENOSPC }
		if _, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{})); !errors.Is(err, syscall.ENOSPC) || f.removals() != 0 {
			t.Errorf("error %v, %d removals; want the run stopped before asking", err, f.removals())
		}
	})
}

func reopen(t *testing.T, path string) *Journal {
	t.Helper()
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestApplyRefusesAStalePlan(t *testing.T) {
	f, rows, current := scene(1)
	j, _ := openTemp(t)
	o := options(f, current, true, &bytes.Buffer{})
	o.Now = func() time.Time { return planned.Add(DefaultMaxAge + time.Hour) }
	if _, err := Apply(context.Background(), j, rows, o); err == nil || !strings.Contains(err.Error(), "--max-age") {
		t.Errorf("error %v; want the plan refused, naming --max-age", err)
	}
	if f.removals() != 0 {
		t.Error("a stale plan removed someone")
	}
}

func TestApplyLeavesReviewRowsAlone(t *testing.T) {
	f, rows, current := scene(1)
	rows[0].Action, rows[0].Reason = ActionReview, ReasonOutside
	j, _ := openTemp(t)
	out, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{}))
	if err != nil || out.Review != 1 || len(f.calls) != 0 {
		t.Errorf("outcome %+v, error %v, calls %q; want one review row and no request", out, err, f.calls)
	}
}

func TestUndoAddsBackOnceWhatApplyRemoved(t *testing.T) {
	f, rows, current := scene(2)
	j, path := openTemp(t)
	if _, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{})); err != nil {
		t.Fatal(err)
	}
	run := options(f, current, false, &bytes.Buffer{}).Run
	out, err := Undo(context.Background(), j, run)
	if err != nil || out.Done != 2 || strings.Contains(fmt.Sprint(f.calls), "add ") {
		t.Fatalf("dry run: outcome %+v, error %v, calls %q; want 2 that would be added and none added", out, err, f.calls)
	}
	run.Yes = true
	if out, err = Undo(context.Background(), j, run); err != nil || out.Done != 2 {
		t.Fatalf("outcome %+v, error %v; want 2 added back", out, err)
	}
	if !f.members["1000"].m.IsActive || !f.members["1001"].m.IsActive {
		t.Error("the members are not back")
	}
	if strings.Count(fmt.Sprint(f.calls), "add p") != 2 {
		t.Errorf("calls %q: want each added back by email, once", f.calls)
	}
	if out, err = Undo(context.Background(), j, run); err != nil || out.Done != 0 {
		t.Errorf("second undo: outcome %+v, error %v; want nothing to do", out, err)
	}
	want := "[remove done 1000 remove done 1001 add done 1000 add done 1001]"
	if got := results(t, path); fmt.Sprint(got) != want {
		t.Errorf("journal %q, want %s", got, want)
	}
}

// Undo goes on past a member Asana refuses to add back (a run stopped
// there would stop there at every run), says so in its error, and adds
// back by user gid a member whose email the journal lacks.
func TestUndoGoesOnPastAMemberAsanaRefuses(t *testing.T) {
	f, rows, current := scene(3)
	rows[2].UserEmail, f.members["1002"].m.User.Email = "", ""
	e := current["1002"]
	e.UserEmail = ""
	current["1002"] = e
	j, path := openTemp(t)
	if _, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{})); err != nil {
		t.Fatal(err)
	}
	f.addErr = map[string]error{"p0@example.com": &asana.Error{Kind: asana.ErrBadRequest, StatusCode: 400}}
	run := options(f, current, true, &bytes.Buffer{}).Run
	out, err := Undo(context.Background(), j, run)
	if err == nil || out.Done != 2 || out.Failed != 1 || !f.members["1001"].m.IsActive || !f.members["1002"].m.IsActive {
		t.Fatalf("outcome %+v, error %v; want the refused one failed and the two others added back", out, err)
	}
	if !strings.Contains(fmt.Sprint(f.calls), "add 2002") {
		t.Errorf("calls %q: want the member without an email added back by user gid", f.calls)
	}
	if got := results(t, path); fmt.Sprint(got[3:]) != "[add failed 1000 add done 1001 add done 1002]" {
		t.Errorf("journal %q", got)
	}
	if _, err := Undo(context.Background(), j, run); err == nil || !strings.Contains(err.Error(), "1 member(s) could not be added back") {
		t.Errorf("a rerun: %v; want the refused one tried again and reported", err)
	}
}

// An admin who added someone back by hand and removed them again on
// purpose lists them in --exclude: undo leaves them out, and says so.
func TestUndoLeavesOutTheExcluded(t *testing.T) {
	f, rows, current := scene(2)
	j, path := openTemp(t)
	if _, err := Apply(context.Background(), j, rows, options(f, current, true, &bytes.Buffer{})); err != nil {
		t.Fatal(err)
	}
	run := options(f, current, true, &bytes.Buffer{}).Run
	var err error
	if run.Exclusions, err = parseExclusions("keep.txt", []byte("# removed again on purpose\nP0@example.com\n")); err != nil {
		t.Fatal(err)
	}
	out, err := Undo(context.Background(), j, run)
	if err != nil || out.Done != 1 || out.Skipped != 1 || f.members["1000"].m.IsActive || !f.members["1001"].m.IsActive {
		t.Fatalf("outcome %+v, error %v; want the excluded member left out and the other added back", out, err)
	}
	if got := results(t, path); fmt.Sprint(got[2:]) != "[add skipped 1000 add done 1001]" {
		t.Errorf("journal %q", got)
	}
	if report := run.Report.(*bytes.Buffer).String(); !strings.Contains(report, string(SkipExcluded)) {
		t.Errorf("report %q does not say why", report)
	}
}
