#!/usr/bin/env bash
# Print the folder holding a real Pulumi engine for china-site's end-to-end tests: `pulumi`, Pulumi's own Python
# language host (`pulumi-language-python`), its YAML language host (`pulumi-language-yaml`) and the Python shims
# Pulumi ships beside them.
#
#   tools/pulumi-engine.sh            # prints e.g. /home/me/.cache/china-site/pulumi-3.274.1/bin
#   PATH="$(tools/pulumi-engine.sh):$PATH" pulumi version
#
# 1. A `pulumi` already on PATH that is recent enough (>= PULUMI_MIN_VERSION) is used as it is, with Pulumi's
#    language hosts installed next to it (a real user's machine: Pulumi's release archive ships them together).
#    CHINA_SITE_BUILD_PULUMI=1 skips this step.
# 2. Otherwise the engine is built from source into ~/.cache/china-site/pulumi-<version>/bin (override the cache with
#    CHINA_SITE_CACHE), idempotently: a complete, stamped bin folder is reused as it is.
#      - the CLI: github.com/pulumi/pulumi/pkg/v3/cmd/pulumi from a wrapper go.mod generated in the cache, with
#        github.com/pulumi/pulumi/sdk/v3 pinned to the same version, built straight into the bin folder (a real
#        file, not a link: the CLI looks for its language hosts beside its own resolved path);
#      - Pulumi's UPSTREAM Python language host, built from its source in ../shared/tools/pulumi-language-python/
#        (the upstream main.go, Apache-2.0, with a go.mod on the same sdk/pkg versions; override the folder with
#        CHINA_SITE_PYTHON_HOST_SRC). Its Go module is not served by the module proxy, so the source is kept there;
#        the build stamps the version, so `pulumi-language-python -version` prints v<version>;
#      - Pulumi's YAML language host: github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml at PULUMI_YAML_VERSION,
#        built in the CLI's wrapper module (so it links the CLI's own dependency versions);
#      - Pulumi's own Python shims from the sdk/v3 module: pulumi-language-python-exec (runs the program) and
#        pulumi-resource-pulumi-python (dynamic providers).
#    Needs Go >= 1.26 and the Go module proxy. Pulumi's code lands in the Go module cache, never in this checkout.
# Progress goes to stderr; stdout is only the bin folder. Exit code 2 with a one-line reason when it cannot work.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-3.274.1}"
PULUMI_YAML_VERSION="${PULUMI_YAML_VERSION:-1.38.3}"
PULUMI_MIN_VERSION="${PULUMI_MIN_VERSION:-3.150.0}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HOST_SRC="${CHINA_SITE_PYTHON_HOST_SRC:-$HERE/../../shared/tools/pulumi-language-python}"
CACHE="${CHINA_SITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/china-site}/pulumi-$PULUMI_VERSION"
BIN="$CACHE/bin"

say() { printf 'pulumi-engine: %s\n' "$*" >&2; }
die() { printf 'pulumi-engine: error: %s\n' "$*" >&2; exit 2; }

# version_ge A B: A >= B for dotted numeric versions (a leading v and any -suffix are ignored).
version_ge() {
  local a="${1#v}" b="${2#v}"
  a="${a%%-*}"; a="${a%%+*}"; b="${b%%-*}"
  [ "$(printf '%s\n%s\n' "$b" "$a" | sort -t. -k1,1n -k2,2n -k3,3n | head -n1)" = "$b" ]
}

# 1. A pulumi on PATH (not one of our own cache folders, which step 2 checks properly).
if [ "${CHINA_SITE_BUILD_PULUMI:-0}" != "1" ] && command -v pulumi >/dev/null 2>&1; then
  onpath="$(command -v pulumi)"
  dir="$(cd "$(dirname "$onpath")" && pwd)"
  if [ "$dir" != "$BIN" ]; then
    have="$(PULUMI_SKIP_UPDATE_CHECK=1 pulumi version 2>/dev/null || true)"
    if [ -n "$have" ] && version_ge "$have" "$PULUMI_MIN_VERSION" && [ -x "$dir/pulumi-language-python" ]; then
      say "using $onpath ($have)"
      echo "$dir"
      exit 0
    fi
    say "ignoring $onpath (${have:-unknown version}; need >= $PULUMI_MIN_VERSION with pulumi-language-python beside it)"
  fi
fi

# 2. Our cache. Without the upstream host's source (a user's clone has no ../shared) nothing can be built.
[ -f "$HOST_SRC/main.go" ] && [ -f "$HOST_SRC/go.mod" ] && [ -f "$HOST_SRC/go.sum" ] ||
  die "needs a pulumi >= $PULUMI_MIN_VERSION on PATH with its pulumi-language-python beside it (install the Pulumi CLI: https://www.pulumi.com/docs/install/); building one needs Pulumi's language host source in $HOST_SRC, which this checkout does not have"
command -v go >/dev/null 2>&1 || die "no pulumi >= $PULUMI_MIN_VERSION on PATH and no Go toolchain to build one; install Go >= 1.26 (https://go.dev/dl) or the Pulumi CLI"
go_have="$(go env GOVERSION)"
version_ge "${go_have#go}" "1.26" || die "Go $go_have is too old to build Pulumi $PULUMI_VERSION; install Go >= 1.26"

# The stamp covers the versions, this script and the host's sources: editing any of them rebuilds (warm: ~1 min).
src_hash="$(cat "${BASH_SOURCE[0]}" "$HOST_SRC/main.go" "$HOST_SRC/go.mod" "$HOST_SRC/go.sum" | sha256sum | cut -c1-16)"
stamp="pulumi=$PULUMI_VERSION yaml=$PULUMI_YAML_VERSION src=$src_hash go=$go_have"
TOOLS=(pulumi pulumi-language-python pulumi-language-yaml pulumi-language-python-exec pulumi-resource-pulumi-python)
complete() {
  local t
  for t in "${TOOLS[@]}"; do [ -x "$BIN/$t" ] || return 1; done
  [ "$(cat "$CACHE/stamp" 2>/dev/null)" = "$stamp" ]
}
if complete; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time (parallel test workers, two CI jobs): wait for the lock, then look again.
exec 9>"$CACHE/.lock"
flock 9
if complete; then
  echo "$BIN"
  exit 0
fi

start=$(date +%s)
mkdir -p "$BIN" "$CACHE/cli"
rm -f "$CACHE/stamp"

# The CLI and the YAML host, from a wrapper module generated here (Pulumi's own go.mod `replace` lines do not apply
# to a dependency, so sdk/v3 is pinned to the same version explicitly).
cli="$CACHE/cli"
want="pkg/v3 v$PULUMI_VERSION|pulumi-yaml v$PULUMI_YAML_VERSION"
if [ ! -f "$cli/go.sum" ] || [ "$(cat "$cli/.resolved" 2>/dev/null)" != "$want" ]; then
  say "resolving github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION and github.com/pulumi/pulumi-yaml@v$PULUMI_YAML_VERSION"
  cat >"$cli/go.mod" <<MOD
// Generated by china-site's tools/pulumi-engine.sh: a wrapper to build the Pulumi CLI. Not part of the project.
module chinasite.local/pulumi-cli

go 1.26
MOD
  rm -f "$cli/go.sum" "$cli/.resolved"
  (cd "$cli" && go get "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" \
    "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@v$PULUMI_YAML_VERSION" >&2) ||
    die "could not fetch the Pulumi $PULUMI_VERSION / pulumi-yaml $PULUMI_YAML_VERSION Go modules (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
  # go get may not raise sdk/pkg above what pulumi-yaml asks for; the CLI's own version must win.
  grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" "$cli/go.mod" ||
    die "pulumi-yaml v$PULUMI_YAML_VERSION needs a newer github.com/pulumi/pulumi/pkg/v3 than v$PULUMI_VERSION; set PULUMI_YAML_VERSION to an older release"
  echo "$want" >"$cli/.resolved"
fi
ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
say "building pulumi $PULUMI_VERSION (a cold build takes about half an hour on two cores)"
(cd "$cli" && go build -ldflags "$ldflags" -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2) ||
  die "building the Pulumi CLI failed (see the Go output above)"
mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"

say "building pulumi-language-yaml $PULUMI_YAML_VERSION"
yaml_ldflags="-X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$PULUMI_YAML_VERSION"
(cd "$cli" && go build -ldflags "$yaml_ldflags" -o "$BIN/pulumi-language-yaml.tmp" \
  github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml >&2) ||
  die "building the YAML language host failed (see the Go output above)"
mv -f "$BIN/pulumi-language-yaml.tmp" "$BIN/pulumi-language-yaml"

# Pulumi's upstream Python language host, in its own module folder (a copy of the source: the source folder may be
# read-only, and go may write go.sum).
say "building Pulumi's pulumi-language-python from $HOST_SRC"
host="$CACHE/language-python"
rm -rf "$host"
mkdir -p "$host"
cp "$HOST_SRC/main.go" "$HOST_SRC/go.mod" "$HOST_SRC/go.sum" "$host/"
chmod u+w "$host"/*
(cd "$host" && GOFLAGS=-mod=mod go build -ldflags "$ldflags" -o "$BIN/pulumi-language-python.tmp" . >&2) ||
  die "building Pulumi's Python language host failed (see the Go output above)"
mv -f "$BIN/pulumi-language-python.tmp" "$BIN/pulumi-language-python"

sdk="$(cd "$cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
[ -n "$sdk" ] && [ -f "$sdk/python/cmd/pulumi-language-python-exec" ] ||
  die "the sdk/v3 module has no python/cmd/pulumi-language-python-exec (module dir: ${sdk:-not found})"
for f in python/cmd/pulumi-language-python-exec python/dist/pulumi-resource-pulumi-python; do
  install -m 0755 "$sdk/$f" "$BIN/$(basename "$f")"
done

echo "$stamp" >"$CACHE/stamp"
say "built in $(( $(date +%s) - start ))s: $BIN"
echo "$BIN"
