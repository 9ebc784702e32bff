#!/usr/bin/env bash
# Prints the path of Prometheus's promtool, unpacking it once from Debian's `prometheus` package
# into the test cache (outside the clone). Only the binary is taken: installing the package
# would also start a Prometheus server, which the tests do not want.
set -euo pipefail
CACHE_ROOT=${PORTICO_TEST_CACHE:-/var/cache/portico-test}
DIR=$CACHE_ROOT/prometheus
PROMTOOL=$DIR/usr/bin/promtool
if [[ ! -x $PROMTOOL ]]; then
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/prometheus.lock"
  flock 9  # tests running side by side unpack it once
  if [[ ! -x $PROMTOOL ]]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    chmod 755 "$scratch"  # apt's sandbox user writes the download here
    (cd "$scratch" && apt-get download -qq prometheus >/dev/null 2>&1) || {
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$scratch" && apt-get download -qq prometheus >/dev/null)
    }
    rm -rf "$DIR.tmp" && mkdir -p "$DIR.tmp"
    dpkg-deb -x "$scratch"/prometheus_*.deb "$DIR.tmp"
    rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
  fi
fi
echo "$PROMTOOL"
