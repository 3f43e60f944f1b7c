package exporter

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/asana-exporter/asana_exporter/asana"
	"github.com/asana-exporter/asana_exporter/config"
)

// reloadHandler is /-/reload: POST or PUT reloads, and answers why not when
// it cannot.
func reloadHandler(sc *config.SafeConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost && req.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Use POST or PUT to reload the config and token files.", http.StatusMethodNotAllowed)
			return
		}
		if err := sc.Reload(); err != nil {
			http.Error(w, "Reload failed; the previous config and token stay in use: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "Reloaded at %s\n", time.Now().UTC().Format(time.RFC3339))
	})
}

// tokenReload re-reads the token file that name (a flag, or a key of the
// config file) gives at each reload, so that a rotated token needs no
// restart; where says where a token goes, for an empty file. An invalid
// token is refused before anything is applied.
func tokenReload(name, file, where string, bearer *asana.Bearer, logger *slog.Logger) config.ReloadHook {
	return func(*config.Config) (func(), error) {
		token, err := readTokenFile(name, file, where, logger)
		if err != nil {
			return nil, err
		}
		if err := asana.ValidToken(token); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return func() { bearer.SetToken(token) }, nil
	}
}
