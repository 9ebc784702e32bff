# shellcheck shell=bash
# Checking a Prometheus exposition scraped from /metrics (source after checks.sh).

# The sum of the samples named NAME that carry every LABEL="VALUE" given; empty when none.
metric_sum() {  # FILE NAME [LABEL="VALUE" ...]
  local file=$1 name=$2
  shift 2
  awk -v name="$name" -v want="$*" '
    /^#/ { next }
    {
      series = $1; base = series; labels = ""
      brace = index(series, "{")
      if (brace) { base = substr(series, 1, brace - 1); labels = "," substr(series, brace + 1) }
      if (base != name) next
      n = split(want, pairs, " ")
      for (i = 1; i <= n; i++) if (index(labels, "," pairs[i]) == 0) next
      sum += $2; found = 1
    }
    END { if (found) printf "%.15g\n", sum }' "$file"
}

# pass when the series exists with a value above MIN (default 0), fail otherwise.
check_metric_above() {  # DESCRIPTION FILE MIN NAME [LABEL="VALUE" ...]
  local description=$1 file=$2 min=$3
  shift 3
  local value
  value=$(metric_sum "$file" "$@")
  if [[ -n $value ]] && awk -v v="$value" -v m="$min" 'BEGIN { exit !(v > m) }'; then
    pass "$description ($value)"
  else
    fail "$description: $* expected above $min, got [${value:-no such series}]"
  fi
}

# promtool's lint of the whole exposition (names, types, HELP, counters ending in _total).
check_promtool() {  # FILE
  local promtool problems
  promtool=$("$(dirname "${BASH_SOURCE[0]}")/promtool.sh") || { fail "promtool available"; return; }
  if problems=$("$promtool" check metrics <"$1" 2>&1); then
    pass "the exposition passes promtool check metrics"
  else
    fail "promtool check metrics: $(echo "$problems" | head -n 5 | tr '\n' ' ')"
  fi
}

# The Grafana dashboard against this exposition (tests/lib/dashboard_check.py; FILTER: --only or
# --skip a name prefix, for families a run cannot produce).
check_dashboard() {  # FILE DESCRIPTION [FILTER PREFIX]
  local file=$1 description=$2 problems
  shift 2
  local here
  here=$(dirname "${BASH_SOURCE[0]}")
  if problems=$(python3 "$here/dashboard_check.py" "$here/../../manifests/base/grafana-dashboard.json" "$file" \
    "$("$here/promtool.sh")" "$@"); then
    pass "$description (${problems##*# })"
  else
    fail "$description: $(echo "$problems" | head -n 5 | tr '\n' ' ')"
  fi
}
