package asana

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// membershipPageJSON is a 100-record page as Asana returns it for
// opt_fields=is_active,is_guest,is_admin,is_view_only, and with email for
// the same plus user.email (the email-domain check).
func membershipPageJSON(email bool) []byte {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		user := ""
		if email {
			user = fmt.Sprintf(`,"user":{"gid":"%d","email":"user%06d@acme.example"}`, 1300000000000000+i, i)
		}
		fmt.Fprintf(&b, `{"gid":"%d","is_active":%t,"is_admin":%t,"is_guest":%t,"is_view_only":%t%s}`,
			1200000000000000+i, i%10 != 0, i%17 == 0, i%4 == 0, i%20 == 3, user)
	}
	b.WriteString(`],"next_page":{"offset":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJib3JkZXJfcmFuayI6IjEyMDAwMDAwMDAwMDAwOTkifQ.c2ln",` +
		`"path":"/workspaces/1/workspace_memberships?limit=100&offset=x","uri":"https://app.asana.com/api/1.0/workspaces/1/workspace_memberships?limit=100&offset=x"}}`)
	return []byte(b.String())
}

// BenchmarkDecodeClassifyPage measures the per-record cost of what the
// client does with every page: decode into the reused page, check each
// record's fields and drop gids seen before (accept), then classify.
// encoding_json is the same page through encoding/json (v1), decoded
// straight into Memberships and classified, for comparison;
// client_with_email is the page the email-domain check asks for, decoded,
// checked, classified and checked against the domains.
func BenchmarkDecodeClassifyPage(b *testing.B) {
	domains := []string{"acme.example"}
	client := func(body []byte, w *walker[membershipRecord, Membership]) ([]Membership, error) {
		if err := decode(body, &w.page); err != nil {
			return nil, err
		}
		w.seen.reset() // every iteration is the same page, as if the first
		return w.accept(1)
	}
	for _, bc := range []struct {
		name   string
		email  bool
		decode func([]byte, *walker[membershipRecord, Membership]) ([]Membership, error)
	}{
		{"client", false, client},
		{"client_with_email", true, client},
		{"encoding_json", false, func(body []byte, w *walker[membershipRecord, Membership]) ([]Membership, error) {
			p := listPage[Membership]{Data: w.items} // reused, as the client reuses its page
			p.reset()
			err := json.Unmarshal(body, &p)
			w.items = p.Data
			return p.Data, err
		}},
	} {
		body := membershipPageJSON(bc.email)
		b.Run(bc.name, func(b *testing.B) {
			w := &walker[membershipRecord, Membership]{l: listing[membershipRecord, Membership]{check: (*membershipRecord).check}}
			var seats SeatCounts
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				page, err := bc.decode(body, w)
				if err != nil {
					b.Fatal(err)
				}
				seats.AddPage(page)
				if bc.email {
					seats.addOutside(page, domains)
				}
			}
			runtime.ReadMemStats(&after)
			records := float64(b.N) * 100
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
			b.ReportMetric(float64(len(body)), "bytes/page")
			if seats.Total() != b.N*100 {
				b.Fatalf("classified %d of %d records", seats.Total(), b.N*100)
			}
		})
	}
}

// BenchmarkCheckBody measures the depth and size check that decode runs
// before every decode, on the page BenchmarkDecodeClassifyPage decodes:
// its ns/op is the cost per page.
func BenchmarkCheckBody(b *testing.B) {
	for _, email := range []bool{false, true} {
		body := membershipPageJSON(email)
		b.Run(fmt.Sprintf("email=%t", email), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := checkBody(body, maxBodyBytes); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(body)), "bytes/page")
		})
	}
}
