#!/usr/bin/env bash
# Helm, for the chart checks (tests/unit/test_helm_chart.py): built from source with the
# installed Go toolchain (`go install helm.sh/helm/v3/cmd/helm@VERSION`, through the Go module
# proxy), since no prebuilt binary can be downloaded here. The binary goes to
# ~/.cache/sec-digester/bin/helm; Go's module and build caches (~/go/pkg/mod,
# ~/.cache/go-build) make a rebuild quick.
#
# Idempotent: when the binary of the pinned version is already there it only checks, in well
# under a second. A cold build takes about 4 minutes on 2 cores (download and compile).
#
# The link flags are the ones Helm's own Makefile sets: the version that `helm version`
# reports, and the Kubernetes version of the default capabilities (that of the client-go
# Helm is built with), which `helm template` and `helm lint` check the chart's kubeVersion
# against. Without them a `go install` build reports v3.22 and Kubernetes 1.20.
#
# Usage: scripts/install-helm.sh            (HELM_BIN_DIR overrides the target directory)
set -euo pipefail

HELM_VERSION=v3.22.0
BIN_DIR=${HELM_BIN_DIR:-$HOME/.cache/sec-digester/bin}
HELM=$BIN_DIR/helm
# Written after a build with this script's link flags (a plain `go install` of the same
# version would report the same version but default to Kubernetes 1.20).
STAMP=$BIN_DIR/helm.stamp
BUILD="$HELM_VERSION ldflags-1"

installed_version() {
    "$HELM" version --template '{{.Version}}' 2>/dev/null || true
}

if [ -x "$HELM" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$BUILD" ] \
    && [ "$(installed_version)" = "$HELM_VERSION" ]; then
    exit 0
fi

# The Go toolchain's usual place, for shells whose PATH lacks it.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    PATH=$PATH:/usr/local/go/bin
fi
if ! command -v go >/dev/null 2>&1; then
    echo "install-helm: Go is not installed; it is needed to build helm $HELM_VERSION" >&2
    exit 1
fi

MODULE=helm.sh/helm/v3
# Build with the local toolchain only: Helm $HELM_VERSION needs Go >= 1.26.
export GOTOOLCHAIN=local
export CGO_ENABLED=0

echo "install-helm: building helm $HELM_VERSION with $(go version | cut -d' ' -f3) into $BIN_DIR" >&2
started=$(date +%s)

# The client-go version in Helm's go.mod gives the default Kubernetes version (v0.N -> 1.N).
gomod=$(go mod download -json "$MODULE@$HELM_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
client_go=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")
k8s_minor=$(echo "$client_go" | cut -d. -f2)
if [ -z "$k8s_minor" ]; then
    echo "install-helm: cannot find k8s.io/client-go in $gomod" >&2
    exit 1
fi

ldflags="-w -s"
ldflags+=" -X $MODULE/internal/version.version=$HELM_VERSION"
ldflags+=" -X $MODULE/internal/version.gitTreeState=clean"
for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X $MODULE/$pkg.k8sVersionMajor=1 -X $MODULE/$pkg.k8sVersionMinor=$k8s_minor"
done

mkdir -p "$BIN_DIR"
GOBIN=$BIN_DIR go install -trimpath -ldflags "$ldflags" "$MODULE/cmd/helm@$HELM_VERSION"

if [ "$(installed_version)" != "$HELM_VERSION" ]; then
    echo "install-helm: $HELM does not report $HELM_VERSION after the build" >&2
    exit 1
fi
echo "$BUILD" > "$STAMP"
echo "install-helm: $HELM ($HELM_VERSION, Kubernetes 1.$k8s_minor) built in $(($(date +%s) - started)) s" >&2
