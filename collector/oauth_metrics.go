package collector

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asana-exporter/asana_exporter/asana"
)

// OAuthMetrics counts access-token renewals. It implements
// asana.OAuthObserver; register it when the exporter uses an OAuth app.
type OAuthMetrics struct {
	refreshes *prometheus.CounterVec
	expiry    *prometheus.Desc
	expiresAt atomic.Int64 // unix ms of the current access token's expiry; 0 before the first
}

var _ asana.OAuthObserver = (*OAuthMetrics)(nil)

// Renewal results, the values of the result label.
var oauthResults = []string{"success", "invalid_grant", "error"}

// NewOAuthMetrics returns the metrics, every result initialised.
func NewOAuthMetrics() *OAuthMetrics {
	m := &OAuthMetrics{
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "asana_oauth_token_refreshes_total",
			Help: "Renewals of the OAuth access token at Asana's token endpoint (POST /-/oauth_token), by result: success, " +
				"invalid_grant (the refresh token was revoked or is wrong: log in again) or error (anything else, such as the endpoint being down).",
		}, []string{"result"}),
		expiry: prometheus.NewDesc("asana_oauth_token_expiry_timestamp_seconds",
			"Unix time at which the current OAuth access token expires, from the token endpoint's expires_in. The exporter renews it before then.",
			nil, nil),
	}
	for _, r := range oauthResults {
		m.refreshes.WithLabelValues(r)
	}
	return m
}

func (m *OAuthMetrics) TokenRefresh(result string, expiry time.Time) {
	m.refreshes.WithLabelValues(result).Inc()
	if result == "success" {
		m.expiresAt.Store(expiry.UnixMilli())
	}
}

func (m *OAuthMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.refreshes.Describe(ch)
	ch <- m.expiry
}

func (m *OAuthMetrics) Collect(ch chan<- prometheus.Metric) {
	m.refreshes.Collect(ch)
	if ms := m.expiresAt.Load(); ms > 0 {
		ch <- prometheus.MustNewConstMetric(m.expiry, prometheus.GaugeValue, float64(ms)/1000)
	}
}
