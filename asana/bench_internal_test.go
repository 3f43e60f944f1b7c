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
// client does with every page: decode into the reused page, then classify.
// encoding_json is the same page through encoding/json (v1), for
// comparison; client_with_email is the page the email-domain check asks
// for, decoded, classified and checked against the domains.
func BenchmarkDecodeClassifyPage(b *testing.B) {
	domains := []string{"acme.example"}
	for _, bc := range []struct {
		name   string
		email  bool
		decode func([]byte, *listPage[Membership]) error
	}{
		{"client", false, func(body []byte, p *listPage[Membership]) error { return decode(body, p) }},
		{"client_with_email", true, func(body []byte, p *listPage[Membership]) error { return decode(body, p) }},
		{"encoding_json", false, func(body []byte, p *listPage[Membership]) error { p.reset(); return json.Unmarshal(body, p) }},
	} {
		body := membershipPageJSON(bc.email)
		b.Run(bc.name, func(b *testing.B) {
			var page listPage[Membership]
			var seats SeatCounts
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if err := bc.decode(body, &page); err != nil {
					b.Fatal(err)
				}
				seats.AddPage(page.Data)
				if bc.email {
					seats.addOutside(page.Data, domains)
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
