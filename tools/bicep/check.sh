#!/usr/bin/env bash
# Compiles and lints every Bicep file under infra/ with the real Bicep CLI and fails on ANY error or
# warning. `bicep lint` exits 0 when it finds only warnings, so its output is parsed, not its exit code.
#
#   bash tools/bicep/check.sh            (from any directory; CI: .ci/run)
#
# The Bicep CLI comes from tools/bicep/install.sh (PATH, az bicep, or the NuGet package via dotnet).
# Linter levels are in infra/bicepconfig.json. Compiled ARM JSON goes to a temporary directory.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INFRA_DIR="$REPO_ROOT/infra"

BICEP_BIN="$(bash "$REPO_ROOT/tools/bicep/install.sh")"
echo "bicep-check: $("$BICEP_BIN" --version)"

OUT_DIR="$(mktemp -d)"
trap 'rm -rf "$OUT_DIR"' EXIT

mapfile -t FILES < <(find "$INFRA_DIR" -type f \( -name '*.bicep' -o -name '*.bicepparam' \) | LC_ALL=C sort)
if [[ ${#FILES[@]} -eq 0 ]]; then
  echo "bicep-check: no .bicep files under $INFRA_DIR" >&2
  exit 1
fi

failures=0
diagnostics=0
# A diagnostic line looks like: <path>(<line>,<col>) : Warning|Error <code>: <message>
DIAG_RE='\) : (Error|Warning) [A-Za-z0-9_-]+:'

run() {
  # run <label> <file> <command...>: runs the command, prints its output, counts errors and warnings.
  local label="$1" file="$2"
  shift 2
  local output rc=0
  output="$("$@" 2>&1)" || rc=$?
  local count
  count="$(printf '%s\n' "$output" | grep -cE "$DIAG_RE" || true)"
  if [[ -n "$output" ]]; then printf '%s\n' "$output"; fi
  if [[ $rc -ne 0 || $count -gt 0 ]]; then
    echo "bicep-check: FAIL $label ${file#"$REPO_ROOT"/} (exit $rc, $count error(s)/warning(s))"
    failures=$((failures + 1))
    diagnostics=$((diagnostics + count))
  else
    echo "bicep-check: ok   $label ${file#"$REPO_ROOT"/}"
  fi
}

for file in "${FILES[@]}"; do
  rel="${file#"$INFRA_DIR"/}"
  out="$OUT_DIR/${rel//\//_}.json"
  if [[ "$file" == *.bicepparam ]]; then
    run build-params "$file" "$BICEP_BIN" build-params "$file" --outfile "$out"
  else
    run build "$file" "$BICEP_BIN" build "$file" --outfile "$out"
  fi
  run lint "$file" "$BICEP_BIN" lint "$file"
done

if [[ $failures -gt 0 ]]; then
  echo "bicep-check: FAILED: $failures step(s), $diagnostics error(s)/warning(s) in ${#FILES[@]} file(s)"
  exit 1
fi
echo "bicep-check: ${#FILES[@]} file(s) built and linted: 0 errors, 0 warnings"
