#!/usr/bin/env bash
# Build a real kube-apiserver (and kube-controller-manager) from Debian's `kubernetes` source
# package with Debian's Go, once, cached outside the clone. See ../shared/recipes/test-cluster.md.
# Prints the directory holding the binaries on its last line.
set -euo pipefail

CACHE_ROOT=${PORTICO_TEST_CACHE:-/var/cache/portico-test}
log() { echo "cluster/build: $*" >&2; }

need_root_apt() {
  export DEBIAN_FRONTEND=noninteractive
  local missing=()
  for p in golang-go etcd-server dpkg-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# apt-get source needs a deb-src entry with the same Signed-By as the deb entry.
ensure_deb_src() {
  local f=/etc/apt/sources.list.d/portico-deb-src.sources
  if [[ ! -f $f ]]; then
    log "adding deb-src entry $f"
    local signed_by
    signed_by=$(awk -F': ' '/^Signed-By:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    signed_by=${signed_by:-/usr/share/keyrings/debian-archive-keyring.gpg}
    cat >"$f" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: $signed_by
SRC
    apt-get update -qq
  fi
}

need_root_apt
ensure_deb_src

VERSION=$(apt-cache showsrc kubernetes 2>/dev/null | awk '/^Version:/{print $2; exit}')
[[ -n $VERSION ]] || { log "cannot find Debian source package 'kubernetes'"; exit 1; }
OUT=$CACHE_ROOT/kubernetes-$VERSION
if [[ -x $OUT/kube-apiserver && -x $OUT/kube-controller-manager ]]; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

WORK=$CACHE_ROOT/work-$VERSION
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
cd "$WORK"
log "fetching kubernetes $VERSION source"
apt-get source --download-only -qq kubernetes >/dev/null
tar xf kubernetes_*.orig.tar.* 
SRC=$(find . -maxdepth 1 -mindepth 1 -type d | head -n1)
SRC=$(cd "$SRC" && pwd)

# reflect2 1.0.1 segfaults under Go >= 1.18 on the first custom-resource create: use Debian's 1.0.2.
log "replacing vendored reflect2 with Debian's 1.0.2"
apt-get download -qq golang-github-modern-go-reflect2-dev >/dev/null
dpkg -x golang-github-modern-go-reflect2-dev_*.deb reflect2-deb
R2=$(find reflect2-deb -type d -path '*github.com/modern-go/reflect2' | head -n1)
rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
mkdir -p "$SRC/vendor/github.com/modern-go/reflect2"
find "$R2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
  -exec cp {} "$SRC/vendor/github.com/modern-go/reflect2/" \;

export GOPATH=$WORK/gopath GO111MODULE=off CGO_ENABLED=0 GOPROXY=off GOFLAGS=
export GOCACHE=$CACHE_ROOT/gocache
mkdir -p "$GOPATH/src/k8s.io"
ln -sfn "$SRC" "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"

if [[ ! -f pkg/generated/openapi/zz_generated.openapi.go ]]; then
  log "generating pkg/generated/openapi"
  go build -o "$WORK/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # The package directories tagged +k8s:openapi-gen=, found the way Makefile.generated_files'
  # gen_openapi finds them (any .go file with a +k8s: tag; staging reached through vendor/).
  # shellcheck disable=SC2038  # Go source paths are plain
  pkgs=$(find -L pkg cmd plugin vendor/k8s.io third_party -type f -name '*.go' 2>/dev/null |
    xargs grep -l '^// *+k8s:' | xargs grep -l '+k8s:openapi-gen=' | xargs -n1 dirname |
    LC_ALL=C sort -u | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' |
    sed 's#^#k8s.io/kubernetes/#' | paste -sd, -)
  "$WORK/openapi-gen" --logtostderr -i "$pkgs" -p k8s.io/kubernetes/pkg/generated/openapi \
    -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
    -r "$WORK/openapi-violations.report" >/dev/null
  # The generator's API-rule report equals upstream's list when it saw the same packages.
  if ! diff -q "$WORK/openapi-violations.report" api/api-rules/violation_exceptions.list >/dev/null; then
    log "warning: openapi violation report differs from api/api-rules/violation_exceptions.list"
  fi
fi

log "building kube-apiserver (about 5 minutes from a cold Go cache)"
go build -o "$OUT/kube-apiserver.tmp" ./cmd/kube-apiserver
log "building kube-controller-manager"
go build -o "$OUT/kube-controller-manager.tmp" ./cmd/kube-controller-manager
mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
mv "$OUT/kube-controller-manager.tmp" "$OUT/kube-controller-manager"
rm -rf "$WORK"
log "built into $OUT"
echo "$OUT"
