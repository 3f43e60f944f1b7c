package asana

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

// FuzzDecodeMembershipRecords decodes body as a listing does (into
// membershipRecord, whose flags remember whether they were there), checks
// it against encoding/json, and checks that a page whose records all pass
// check reads as the same page decoded into plain Memberships.
//
//	go test -run '^$' -fuzz '^FuzzDecodeMembershipRecords$' -fuzztime=1m ./asana
func FuzzDecodeMembershipRecords(f *testing.F) {
	for _, body := range fuzzPageSeeds() {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var page listPage[membershipRecord]
		err := decode(body, &page)
		var std listPage[membershipRecord]
		if stdErr := json.Unmarshal(body, &std); (stdErr == nil) != (err == nil) {
			t.Fatalf("decode: %v; encoding/json: %v", err, stdErr)
		} else if err == nil && !reflect.DeepEqual(page, std) {
			t.Fatalf("decode differs from encoding/json:\n%+v\n%+v", page, std)
		}
		if err != nil {
			return
		}
		var plain listPage[Membership]
		if err := decode(body, &plain); err != nil {
			t.Fatalf("decodes as records but not as memberships: %v", err)
		}
		for i := range page.Data {
			var m Membership
			if _, bad := page.Data[i].check(&m); bad != nil {
				return
			}
			if m != plain.Data[i] {
				t.Fatalf("record %d checks as %+v, decodes as %+v", i, m, plain.Data[i])
			}
		}
	})
}

func TestFlagsAreToldFromFalse(t *testing.T) {
	for _, c := range []struct {
		body string
		want *recordError
	}{
		{`{"gid":"1","is_active":false,"is_guest":false,"is_admin":false,"is_view_only":false}`, nil},
		{`{"gid":"1","IS_ACTIVE":true,"is_guest":true,"is_admin":false,"is_view_only":false}`, nil}, // keys match as encoding/json does
		{`{"gid":"1","resource_type":"workspace_membership","user":{"gid":"2"}}`, &recordError{field: "is_active", absent: true}},
		{`{"gid":"1","is_active":true,"is_guest":false,"is_admin":false}`, &recordError{field: "is_view_only", absent: true}},
		{`{"gid":"1","is_active":true,"is_guest":null,"is_admin":false,"is_view_only":false}`, &recordError{field: "is_guest", absent: true}},
		{`{"gid":"1","is_active":true,"is_guest":false,"is_admin":1,"is_view_only":false}`, &recordError{field: "is_admin"}},
	} {
		var r membershipRecord
		if err := decode([]byte(c.body), &r); err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if _, err := r.check(new(Membership)); !reflect.DeepEqual(err, c.want) {
			t.Errorf("%s: check says %v, want %v", c.body, err, c.want)
		}
	}
}

// TestGIDSetIsASet adds gids in every order the set handles differently,
// with repeats, and checks each answer against a map.
func TestGIDSetIsASet(t *testing.T) {
	const n = 3 * mergeMin
	rng := rand.New(rand.NewPCG(1, 2))
	ascending := make([]string, n)
	for i := range ascending {
		ascending[i] = strconv.FormatUint(1200000000000000+uint64(i)*7, 10)
	}
	for name, order := range map[string]func([]string) []string{
		"ascending": func(g []string) []string { return g },
		"descending": func(g []string) []string {
			for i, j := 0, len(g)-1; i < j; i, j = i+1, j-1 {
				g[i], g[j] = g[j], g[i]
			}
			return g
		},
		"shuffled": func(g []string) []string {
			rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
			return g
		},
		"ascending, each repeated a little later": func(g []string) []string {
			var out []string
			for i := range g {
				out = append(out, g[i])
				if i >= 3 {
					out = append(out, g[i-3])
				}
			}
			return out
		},
		"not decimal numbers": func(g []string) []string {
			// The same number spelled twice is two gids; the string forms
			// stand beside the numbers.
			return append(g[:10:10], "0", "00", "012", "12", "abc", "18446744073709551616", "-1", "", "+1", "1_0", "0", "012", "abc", g[0],
				"18446744073709551615", "18446744073709551615", "9999999999999999999", "9999999999999999999")
		},
	} {
		t.Run(name, func(t *testing.T) {
			gids := order(append(ascending[:0:0], ascending...))
			var s gidSet
			for round := range 2 { // the second after a restart
				want := map[string]bool{}
				for i, g := range gids {
					if got := s.add(g); got != !want[g] {
						t.Fatalf("round %d, gid %d (%s): add = %v, want %v", round, i, g, got, !want[g])
					}
					want[g] = true
				}
				if got := len(s.sorted) + len(s.recent) + len(s.strs); got != len(want) {
					t.Fatalf("round %d: the set holds %d gids, want %d", round, got, len(want))
				}
				s.reset()
			}
		})
	}
}

// BenchmarkGIDSet adds the gids of a 100,000-membership listing, in
// Asana's order and shuffled.
func BenchmarkGIDSet(b *testing.B) {
	gids := make([]string, 100_000)
	for i := range gids {
		gids[i] = strconv.FormatUint(1200000000000000+uint64(i)*7, 10)
	}
	shuffled := append([]string(nil), gids...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, gids := range map[string][]string{"ascending": gids, "shuffled": shuffled} {
		b.Run(name, func(b *testing.B) {
			var s gidSet
			b.ReportAllocs()
			for b.Loop() {
				s.reset()
				for _, g := range gids {
					s.add(g)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(gids)), "ns/gid")
		})
	}
}
