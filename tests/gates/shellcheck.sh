#!/usr/bin/env bash
# ShellCheck over every shell script in the tree, warnings and errors (style notes are left to
# the author). Exits 1 on any finding. Usage: tests/gates/shellcheck.sh [SOURCE_ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
command -v shellcheck >/dev/null || { echo "shellcheck not installed: skipped"; exit 77; }
scripts=()
while IFS= read -r -d '' file; do scripts+=("$file"); done < <(find .ci tests -type f \
  \( -name '*.sh' -o -path .ci/run \) -print0)
shellcheck --severity=warning --format=gcc "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
