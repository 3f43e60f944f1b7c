#!/usr/bin/env bash
# Installs what the test suite runs for real:
#   - Prometheus and promtool 3.16, Alertmanager and amtool 0.31, and Helm
#     3.22, built from the versions pinned in tools/*/go.mod into .tools/bin
#     (about 5 minutes cold; rebuilt only when a go.mod changes);
#   - Node.js and npm (Debian), and the official Asana Node client (npm ci,
#     pinned by package-lock.json);
#   - systemd-analyze (Debian's systemd), to verify the example unit;
#   - Chromium (Debian), in which the summary page of seats --summary is
#     opened headless.
# If the pinned build fails (for example the module proxy refuses a module),
# it falls back to Debian's prometheus and prometheus-alertmanager packages
# (2.42 and 0.25), which the tests also accept. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.tools/bin
mkdir -p "$bin"

# build_pinned MODULE_DIR VERSION_VARIABLE VERSION PACKAGE... builds the
# packages at the versions tools/MODULE_DIR/go.mod pins, stamping VERSION
# into VERSION_VARIABLE, unless that go.mod is unchanged since the last
# build.
build_pinned() {
  local dir=tools/$1 variable=$2 version=$3 stamp=$bin/.$1.go.mod
  shift 3
  local built=1 p
  for p in "$@"; do [[ -x $bin/${p##*/} ]] || built=0; done
  if ((built)) && cmp -s "$stamp" "$dir/go.mod"; then
    return 0
  fi
  echo "install-test-deps: building ${*##*/} $version (pinned in $dir/go.mod)" >&2
  # remove_all_sd leaves out Prometheus's service discovery plugins: the
  # tests use static targets, and one plugin's module is not on the proxy.
  (cd "$dir" && CGO_ENABLED=0 go build -tags remove_all_sd \
    -ldflags "-X $variable=$version" -o "../../$bin/" "$@") &&
    cp "$dir/go.mod" "$stamp"
}

debian=()
promversion=github.com/prometheus/common/version.Version
build_pinned prometheus $promversion 3.16.0 github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool ||
  debian+=(prometheus)
build_pinned alertmanager $promversion 0.31.1 github.com/prometheus/alertmanager/cmd/alertmanager github.com/prometheus/alertmanager/cmd/amtool ||
  debian+=(prometheus-alertmanager)
# Helm has no Debian package; without it the chart's tests fail under CI.
build_pinned helm helm.sh/helm/v3/internal/version.version v3.22.0 helm.sh/helm/v3/cmd/helm ||
  echo "install-test-deps: Helm could not be built; the chart's tests need it" >&2
((${#debian[@]} == 0)) || echo "install-test-deps: the pinned build failed; falling back to Debian's ${debian[*]}" >&2

missing=()
for pkg in "${debian[@]}"; do
  case $pkg in
  prometheus) command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus) ;;
  prometheus-alertmanager) command -v prometheus-alertmanager >/dev/null && command -v amtool >/dev/null || missing+=(prometheus-alertmanager) ;;
  esac
done
command -v node >/dev/null || missing+=(nodejs)
command -v systemd-analyze >/dev/null || missing+=(systemd) # verifies examples/asana_exporter.service
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || missing+=(chromium) # opens seats --summary's page (test/e2e/summary_test.go)

if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "install-test-deps: installing ${missing[*]} with apt-get" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # --no-install-recommends keeps node_exporter and friends out. The
  # packages start no service here (no systemd); the tests start their own.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

node_dir=test/e2e/testdata/nodeclient
if [[ ! -f $node_dir/node_modules/.package-lock.json || $node_dir/package-lock.json -nt $node_dir/node_modules/.package-lock.json ]]; then
  echo "install-test-deps: npm ci in $node_dir" >&2
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
