//go:build tools

// The command the tests run; go mod tidy keeps its dependencies pinned.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
