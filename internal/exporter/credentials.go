package exporter

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/asana/asanatest"
	"github.com/asana-exporter/asana_exporter/collector"
	"github.com/asana-exporter/asana_exporter/config"
)

// credentials are how the exporter authenticates: the counts' transport,
// the audit log's (nil: the counts'), and the reload hooks that re-read
// their files.
type credentials struct {
	counts, audit http.RoundTripper
	reloads       []config.ReloadHook
	oauthMetrics  *collector.OAuthMetrics // nil unless an OAuth app
}

// readCredentials reads the credentials the options name: the demo's
// simulator token, an OAuth app's files, or a token (its file, else
// $ASANA_TOKEN); and the audit log's token file, if any. Every file is
// read again at each reload, except $ASANA_TOKEN: a running process's
// environment does not change.
func readCredentials(opts Options, logger *slog.Logger) (credentials, error) {
	var c credentials
	if opts.Demo {
		bearer, err := asana.BearerToken(asanatest.DefaultToken, opts.Transport)
		c.counts = bearer
		return c, err // the demo reads its audit log with the one token
	}
	token := ""
	if opts.OAuth.set() {
		if err := opts.OAuth.check(opts.TokenFile); err != nil {
			return c, err
		}
		c.oauthMetrics = collector.NewOAuthMetrics()
		oauth, err := newOAuth(opts.OAuth, cmp.Or(opts.AsanaURL, asana.DefaultBaseURL), opts.Transport, c.oauthMetrics, logger)
		if err != nil {
			return c, err
		}
		c.counts = oauth
		c.reloads = append(c.reloads, oauthReload(opts.OAuth, oauth, logger))
	} else {
		var err error
		if token, err = readToken(tokenFlag, opts.TokenFile, logger); err != nil {
			return c, err
		}
		bearer, err := asana.BearerToken(token, opts.Transport)
		if err != nil {
			return c, err
		}
		c.counts = bearer
		if opts.TokenFile != "" {
			c.reloads = append(c.reloads, tokenReload(tokenFlag, opts.TokenFile, flagsTokenWhere, bearer, logger))
		}
	}
	if opts.AuditTokenFile == "" {
		return c, nil
	}
	auditToken, err := readToken(auditTokenFlag, opts.AuditTokenFile, logger)
	if err != nil {
		return c, err
	}
	if auditToken == token {
		logger.Warn("The audit token is the main token: it shares one request budget; give the exporter a separate service-account token, or drop --asana.audit-token-file")
	}
	bearer, err := asana.BearerToken(auditToken, opts.Transport)
	if err != nil {
		return c, fmt.Errorf("%s: %w", auditTokenFlag, err)
	}
	c.audit = bearer
	c.reloads = append(c.reloads, tokenReload(auditTokenFlag, opts.AuditTokenFile, flagsTokenWhere, bearer, logger))
	return c, nil
}
