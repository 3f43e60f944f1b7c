package exporter

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
	"github.com/asana-exporter/asana_exporter/internal/privatefile"
)

// clientSecretFlag names the client secret's file, for Login too.
const clientSecretFlag = "--asana.oauth.client-secret-file"

// OAuthOptions are the OAuth app's flags: an alternative to a token.
type OAuthOptions struct {
	ClientID         string
	ClientSecretFile string
	RefreshTokenFile string
	TokenURL         string // derived from the API root when ""
	// at is the config file's key of an organisation's app, such as
	// organizations[1].oauth, which errors name; "" for the flags'.
	at string
}

// set reports whether any OAuth flag is given.
func (o OAuthOptions) set() bool {
	return o.ClientID != "" || o.ClientSecretFile != "" || o.RefreshTokenFile != "" || o.TokenURL != ""
}

// check says what is missing or mixed.
func (o OAuthOptions) check(tokenFile string) error {
	switch {
	case tokenFile != "":
		return errors.New("--asana.token-file and the OAuth app's flags (--asana.oauth.client-id and its files) exclude each other: keep the token file, or the OAuth app's client id, secret file and refresh-token file")
	case os.Getenv(TokenEnv) != "":
		return errors.New("$" + TokenEnv + " is set, and so is --asana.oauth.client-id: unset " + TokenEnv + " to use the OAuth app, or drop the OAuth flags")
	case o.ClientID == "" || o.ClientSecretFile == "" || o.RefreshTokenFile == "":
		return errors.New("an OAuth app needs all three of --asana.oauth.client-id, --asana.oauth.client-secret-file and --asana.oauth.refresh-token-file " +
			"(`asana_exporter oauth login` writes the refresh token)")
	}
	return nil
}

// readSecret reads one of the OAuth app's secrets from the file that flag
// names (path) and checks it. Errors name the file, never the content.
func readSecret(flag, path, what string, logger *slog.Logger) (string, error) {
	secret, err := readFileSecret(path, what, logger)
	if err != nil {
		return "", fmt.Errorf("reading the %s from %s: %w", what, flag, err)
	}
	if err := asana.ValidToken(secret); err != nil {
		return "", fmt.Errorf("the %s file %s: %s", what, path, strings.TrimPrefix(err.Error(), "asana: "))
	}
	return secret, nil
}

// read reads the client secret and the refresh token from their files.
func (o OAuthOptions) read(logger *slog.Logger) (secret, refresh string, err error) {
	secretName, refreshName := clientSecretFlag, "--asana.oauth.refresh-token-file"
	if o.at != "" {
		secretName, refreshName = o.at+".client_secret_file", o.at+".refresh_token_file"
	}
	if secret, err = readSecret(secretName, o.ClientSecretFile, "OAuth client secret", logger); err != nil {
		return "", "", err
	}
	refresh, err = readSecret(refreshName, o.RefreshTokenFile, "OAuth refresh token", logger)
	return secret, refresh, err
}

// newOAuth reads the OAuth app's files and returns its transport, over
// base.
func newOAuth(o OAuthOptions, baseURL string, base http.RoundTripper, observer asana.OAuthObserver, logger *slog.Logger) (*asana.OAuth, error) {
	secret, refresh, err := o.read(logger)
	if err != nil {
		return nil, err
	}
	tokenURL := o.TokenURL
	if tokenURL == "" {
		if tokenURL, err = asana.TokenURLFor(baseURL); err != nil {
			return nil, err
		}
	}
	return asana.NewOAuth(asana.OAuthOptions{
		ClientID: o.ClientID, ClientSecret: secret, RefreshToken: refresh, TokenURL: tokenURL, Base: base, Observer: observer,
		// Asana's refresh tokens do not rotate; if one ever comes back,
		// keep it where the next start and reload read it. Replace, not
		// Write: this runs inside a request, which a FIFO put in the
		// file's place must not hold up.
		RefreshTokenChanged: func(rt string) {
			if err := privatefile.Replace(o.RefreshTokenFile, privatefile.Line(rt)); err != nil {
				logger.Error("Cannot save the new OAuth refresh token; the next start will use the old one", "file", o.RefreshTokenFile, "err", err)
			}
		},
	})
}

// oauthReload re-reads the client secret and the refresh token at each
// reload, both checked before either is used.
func oauthReload(o OAuthOptions, oauth *asana.OAuth, logger *slog.Logger) config.ReloadHook {
	return func(*config.Config) (func(), error) {
		secret, refresh, err := o.read(logger)
		if err != nil {
			return nil, err
		}
		return func() { oauth.SetCredentials(secret, refresh) }, nil
	}
}
