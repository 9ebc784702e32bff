#!/usr/bin/env bash
# Every C++ file in the tree is as clang-format (.clang-format) writes it. Prints the files that
# are not and how to fix them; exits 1 if any. Usage: tests/gates/clang_format.sh [SOURCE_ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
# One clang-format per batch of files; a file that is not formatted yields "file:line:col:
# error: code should be clang-formatted".
unformatted=$(find operator crds acme controllers tests -type f \( -name '*.h' -o -name '*.cpp' \) -print0 |
  xargs -0 -n 40 -P 2 clang-format --dry-run -Werror 2>&1 |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u ||
  true)
if [[ -n $unformatted ]]; then
  printf 'clang_format: not formatted: %s\n' $unformatted
  echo "clang_format: fix with: clang-format -i" $unformatted
  exit 1
fi
echo "clang_format: every C++ file formatted"
