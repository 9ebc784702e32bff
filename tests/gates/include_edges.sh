#!/usr/bin/env bash
# The layers of docs/architecture.md as a check: every project #include in a folder must name a
# folder that folder may use. Prints each forbidden edge (file: include) and exits 1 if any.
# Usage: tests/gates/include_edges.sh [SOURCE_ROOT]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"

base="operator/base"
# folder → the folders its files may include (besides its own).
declare -A allowed=(
  [operator/base]=""
  [operator/http]="$base"
  [operator/kube]="$base"
  [operator/runtime]="$base operator/kube"
  [operator/proxy]="$base"
  [operator/local]="$base operator/kube operator/runtime"
  [crds]="$base"
  [acme]="$base"
  [controllers/selection]="$base crds"
  [controllers/common]="$base operator/kube operator/runtime crds"
  [controllers/routes]="$base operator/kube operator/runtime operator/proxy crds controllers/selection"
  [controllers/certificate]="$base operator/kube operator/runtime operator/proxy crds acme
    controllers/common controllers/routes controllers/selection"
  [controllers/ingressclassconfig]="$base operator/kube operator/runtime operator/proxy crds
    controllers/common controllers/routes controllers/selection"
  [controllers/ingress]="$base operator/kube operator/runtime operator/proxy crds acme
    controllers/common controllers/routes controllers/selection controllers/certificate"
  [controllers]="$base operator/kube operator/runtime operator/proxy crds acme controllers/common
    controllers/routes controllers/selection controllers/certificate controllers/ingress
    controllers/ingressclassconfig"
  [operator/commands]="$base operator/http operator/kube operator/runtime operator/proxy
    operator/local crds acme controllers controllers/common controllers/routes
    controllers/selection controllers/certificate controllers/ingress controllers/ingressclassconfig"
)

violations=0
for folder in "${!allowed[@]}"; do
  [[ -d $folder ]] || { echo "include_edges: no folder $folder" >&2; exit 2; }
  # Only the folder's own files: subfolders have entries of their own.
  while IFS= read -r -d '' file; do
    while IFS= read -r included; do
      target=$(dirname "$included")
      [[ $target == "$folder" || $target == "." ]] && continue
      ok=0
      for permitted in ${allowed[$folder]}; do [[ $target == "$permitted" ]] && ok=1; done
      if ((!ok)); then
        echo "include_edges: $file includes $included ($folder may not use $target)"
        violations=$((violations + 1))
      fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  done < <(find "$folder" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cpp' \) -print0)
done

# Every source folder must have an entry, so a new one cannot slip past the check.
while IFS= read -r -d '' file; do
  folder=$(dirname "$file")
  [[ -v "allowed[$folder]" ]] || { echo "include_edges: $folder has no entry"; violations=$((violations + 1)); }
done < <(find operator crds acme controllers -type f \( -name '*.h' -o -name '*.cpp' \) \
  ! -path operator/main.cpp -print0)

((violations == 0)) && echo "include_edges: layers as drawn" && exit 0
exit 1
