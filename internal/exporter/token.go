package exporter

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// TokenEnv holds the token when no token file is given.
const TokenEnv = "ASANA_TOKEN"

// readToken reads the token from a file, or else from $ASANA_TOKEN. The
// token is never a flag value: flags show up in ps and shell history.
func readToken(path string, logger *slog.Logger) (string, error) {
	howTo := "create a personal access token (Asana: My settings > Apps > Developer apps) or a service-account token " +
		"(Admin Console > Apps > Service accounts) and put it in a file passed with --asana.token-file, or in the " + TokenEnv + " environment variable"
	var token string
	if path != "" {
		var err error
		if token, err = readFileSecret(path, "token", logger); err != nil {
			return "", fmt.Errorf("reading the Asana token: %w; %s", err, howTo)
		}
		if token == "" {
			return "", fmt.Errorf("the token file %s is empty: %s", path, howTo)
		}
	} else if token = strings.TrimSpace(os.Getenv(TokenEnv)); token == "" {
		return "", errors.New("no Asana token: " + howTo)
	}
	return token, nil
}

// readFileSecret reads a secret (what: "token", "OAuth client secret"…)
// from a file, trimmed, and warns when users outside its group may read it.
func readFileSecret(path, what string, logger *slog.Logger) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	// Others, not the group: Kubernetes mounts a Secret group-readable for
	// the pod's fsGroup, and a warning at every start would be noise.
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o007 != 0 {
		logger.Warn("The "+what+" file is readable by other users; chmod 600 it (or 640 for a group of its own)", "file", path)
	}
	return strings.TrimSpace(string(raw)), nil
}
