package exporter

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/asana-exporter/asana_exporter/internal/inputfile"
)

// TokenEnv holds the token when no token file is given.
const TokenEnv = "ASANA_TOKEN"

// The token files' flags, which errors name.
const (
	tokenFlag      = "--asana.token-file"
	auditTokenFlag = "--asana.audit-token-file"
)

// maxSecretFileBytes bounds a token or secret file. Asana's personal access
// tokens, service-account tokens, refresh tokens and client secrets are well
// under 100 bytes, and no token the exporter takes exceeds 1 KiB; what is
// larger is the wrong file, refused before it fills memory.
const maxSecretFileBytes = 4 << 10

// readToken reads the token from the file that flag names (path), or else,
// without a file, from $ASANA_TOKEN. The token is never a flag value: flags
// show up in ps and shell history.
func readToken(flag, path string, logger *slog.Logger) (string, error) {
	howTo := "create a personal access token (Asana: My settings > Apps > Developer apps) or a service-account token " +
		"(Admin Console > Apps > Service accounts) and put it in a file passed with --asana.token-file, or in the " + TokenEnv + " environment variable"
	var token string
	if path != "" {
		var err error
		if token, err = readFileSecret(path, "token", logger); err != nil {
			// The file is at fault, not the token: no advice on tokens.
			return "", fmt.Errorf("reading the Asana token from %s: %w", flag, err)
		}
		if token == "" {
			return "", fmt.Errorf("the token file %s (%s) is empty: %s", path, flag, howTo)
		}
	} else if token = strings.TrimSpace(os.Getenv(TokenEnv)); token == "" {
		return "", errors.New("no Asana token: " + howTo)
	}
	return token, nil
}

// readFileSecret reads a secret (what: "token", "OAuth client secret"…)
// from a file, trimmed, and warns when users outside its group may read it.
// Only a regular file is read, up to maxSecretFileBytes: a FIFO would hold
// up start-up or a reload, and /dev/zero would never end.
func readFileSecret(path, what string, logger *slog.Logger) (string, error) {
	raw, err := inputfile.ReadAll(path, maxSecretFileBytes)
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
