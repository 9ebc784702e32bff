#!/usr/bin/env bash
# Every C++ file in the tree is as clang-format (.clang-format) writes it. Prints the files that
# are not and how to fix them; exits 1 if any. Usage: tests/gates/clang_format.sh [SOURCE_ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
unformatted=()
while IFS= read -r -d '' file; do
  clang-format --dry-run -Werror "$file" >/dev/null 2>&1 || unformatted+=("$file")
done < <(find operator crds acme controllers tests -type f \( -name '*.h' -o -name '*.cpp' \) -print0)
if ((${#unformatted[@]})); then
  printf 'clang_format: not formatted: %s\n' "${unformatted[@]}"
  echo "clang_format: fix with: clang-format -i ${unformatted[*]}"
  exit 1
fi
echo "clang_format: every C++ file formatted"
