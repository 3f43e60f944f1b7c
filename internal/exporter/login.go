package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/internal/excerpt"
	"github.com/asana-exporter/asana_exporter/internal/privatefile"
)

// LoginOptions are the oauth login command's flags.
type LoginOptions struct {
	OAuth    OAuthOptions
	AsanaURL string // the API root; the authorization and token endpoints are on its host
	// AuthURL is the authorization endpoint; /-/oauth_authorize on the API's
	// host when "".
	AuthURL string
	Port    int  // of the loopback redirect URI; 0 picks a free one
	Force   bool // overwrite an existing refresh-token file
	Timeout time.Duration
	Logger  *slog.Logger
}

// Login is `asana_exporter oauth login`: the authorization-code flow once,
// with PKCE (S256) and a state check, on a loopback redirect URI. It writes
// the refresh token to the refresh-token file, mode 0600, and prints the
// exporter's command line.
func Login(ctx context.Context, opts LoginOptions, out io.Writer) error {
	o := opts.OAuth
	if o.ClientID == "" || o.ClientSecretFile == "" || o.RefreshTokenFile == "" {
		return errors.New("oauth login needs --asana.oauth.client-id, --asana.oauth.client-secret-file and --asana.oauth.refresh-token-file (where it writes the refresh token)")
	}
	if st, err := os.Stat(o.RefreshTokenFile); err == nil && st.Size() > 0 && !opts.Force {
		return fmt.Errorf("%s already holds a refresh token; pass --force to replace it", o.RefreshTokenFile)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	secret, err := readSecret(clientSecretFlag, o.ClientSecretFile, "OAuth client secret", opts.Logger)
	if err != nil {
		return err
	}
	base := opts.AsanaURL
	if base == "" {
		base = asana.DefaultBaseURL
	}
	tokenURL, authURL := o.TokenURL, opts.AuthURL
	if tokenURL == "" {
		if tokenURL, err = asana.TokenURLFor(base); err != nil {
			return err
		}
	}
	if authURL == "" {
		u, _ := url.Parse(tokenURL)
		authURL = u.Scheme + "://" + u.Host + "/-/oauth_authorize"
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil {
		return fmt.Errorf("listening for the redirect: %w; choose another --oauth.port", err)
	}
	defer ln.Close()
	redirect := "http://" + ln.Addr().String() + "/callback"
	conf := &oauth2.Config{ClientID: o.ClientID, ClientSecret: secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()

	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	result := make(chan error, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		err := finishLogin(ctx, conf, r.URL.Query(), state, verifier, o.RefreshTokenFile)
		if err != nil {
			http.Error(w, "asana_exporter: "+err.Error(), http.StatusBadRequest)
		} else {
			io.WriteString(w, "asana_exporter: logged in. You can close this tab.\n")
		}
		select {
		case result <- err:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(out, "Open this address in a browser, signed in to Asana as the user the exporter is to act as, and allow access:\n\n  %s\n\n"+
		"The app's redirect URL must be %s (Developer Console > your app > OAuth). Waiting up to %v…\n",
		conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), redirect, opts.Timeout)
	select {
	case err = <-result:
	case <-ctx.Done():
		return fmt.Errorf("no answer from the browser within %v; run oauth login again", opts.Timeout)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nWrote the refresh token to %s (mode 0600). Run the exporter with:\n\n  %s --asana.oauth.client-id=%s --asana.oauth.client-secret-file=%s --asana.oauth.refresh-token-file=%s\n",
		o.RefreshTokenFile, Program, o.ClientID, o.ClientSecretFile, o.RefreshTokenFile)
	return nil
}

// finishLogin checks the redirect's state, exchanges its code with the
// PKCE verifier and writes the refresh token.
func finishLogin(ctx context.Context, conf *oauth2.Config, q url.Values, state, verifier, file string) error {
	switch {
	case q.Get("state") != state:
		return errors.New("the redirect's state does not match this login's: it did not come from this login; run oauth login again")
	case q.Get("error") == "access_denied":
		return errors.New("access was denied in the browser; run oauth login again and allow access")
	case q.Get("error") != "":
		return fmt.Errorf("the authorization was refused: %q", excerpt.Cut(q.Get("error"), 64))
	case q.Get("code") == "":
		return errors.New("the redirect carries no code")
	}
	client, err := asana.TokenEndpointClient(conf.Endpoint.TokenURL, nil)
	if err != nil {
		return err
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return fmt.Errorf("exchanging the code: the token endpoint answered %q; check the client id and secret", excerpt.Cut(re.ErrorCode, 64))
		}
		return fmt.Errorf("exchanging the code: %w", asana.StripURL(err))
	}
	if tok.RefreshToken == "" {
		return errors.New("the token endpoint returned no refresh token")
	}
	return privatefile.Write(file, privatefile.Line(tok.RefreshToken))
}
