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
	if path != "" {
		return readTokenFile(flag, path, flagsTokenWhere, logger)
	}
	if token := strings.TrimSpace(os.Getenv(TokenEnv)); token != "" {
		return token, nil
	}
	return "", errors.New("no Asana token: " + tokenHowTo(flagsTokenWhere))
}

// flagsTokenWhere is where the token of the flags goes.
const flagsTokenWhere = "a file passed with --asana.token-file, or in the " + TokenEnv + " environment variable"

// tokenHowTo says how to get a token, and to put it where.
func tokenHowTo(where string) string {
	return "create a personal access token (Asana: My settings > Apps > Developer apps) or a service-account token " +
		"(Admin Console > Apps > Service accounts) and put it in " + where
}

// readTokenFile reads the token from path, which name (a flag, or a key of
// the config file such as organizations[1].token_file) gives; where says
// where a token goes, for an empty file.
func readTokenFile(name, path, where string, logger *slog.Logger) (string, error) {
	token, err := readFileSecret(path, "token", logger)
	if err != nil {
		// The file is at fault, not the token: no advice on tokens.
		return "", fmt.Errorf("reading the Asana token from %s: %w", name, err)
	}
	if token == "" {
		return "", fmt.Errorf("the token file %s (%s) is empty: %s", path, name, tokenHowTo(where))
	}
	return token, nil
}

// readTokenEnv reads the token from the environment variable env, which
// name (organizations[1].token_env) gives. A running process's environment
// does not change, so it is read once.
func readTokenEnv(name, env string) (string, error) {
	if token := strings.TrimSpace(os.Getenv(env)); token != "" {
		return token, nil
	}
	return "", fmt.Errorf("%s: the environment variable %s is unset or empty: %s", name, env, tokenHowTo("it"))
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
