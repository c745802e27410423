#!/usr/bin/env bash
# Makes a real Bicep CLI available and prints the path of its executable on stdout (and nothing else).
#
#   1. $BICEP, if set and executable;
#   2. `bicep` on PATH;
#   3. `az bicep` (the Azure CLI's own copy, ~/.azure/bin/bicep) if the Azure CLI is installed;
#   4. otherwise the NuGet package Azure.Bicep.CommandLine.linux-x64, restored with `dotnet` into
#      <repo>/.cache/bicep (git-ignored) through a generated throwaway project with <PackageDownload>.
#      NuGet (the feeds of the machine's NuGet config) is the only network this needs; a second run
#      is offline (the package is cached).
#
# Override the version with BICEP_VERSION, the cache with BICEP_CACHE_DIR.
# Progress goes to stderr, so callers can do: BICEP="$(bash tools/bicep/install.sh)".
set -euo pipefail

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE_DIR="${BICEP_CACHE_DIR:-$REPO_ROOT/.cache/bicep}"

log() { printf 'bicep-install: %s\n' "$*" >&2; }

works() { "$1" --version >/dev/null 2>&1; }

# 1. Explicit override.
if [[ -n "${BICEP:-}" && -x "${BICEP}" ]] && works "$BICEP"; then
  printf '%s\n' "$BICEP"
  exit 0
fi

# 2. On PATH.
if command -v bicep >/dev/null 2>&1 && works "$(command -v bicep)"; then
  command -v bicep
  exit 0
fi

# 3. The Azure CLI's copy (installed by `az bicep install`; not installed from here: that downloads).
if command -v az >/dev/null 2>&1 && az bicep version >/dev/null 2>&1; then
  for candidate in "${AZURE_CONFIG_DIR:-$HOME/.azure}/bin/bicep"; do
    if [[ -x "$candidate" ]] && works "$candidate"; then
      printf '%s\n' "$candidate"
      exit 0
    fi
  done
fi

# 4. NuGet, through dotnet.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) RID=linux-x64 ;;
  Linux-aarch64) RID=linux-arm64 ;;
  Darwin-x86_64) RID=osx-x64 ;;
  Darwin-arm64) RID=osx-arm64 ;;
  *) log "no Bicep NuGet package for $(uname -s)-$(uname -m); install bicep and put it on PATH"; exit 1 ;;
esac
PKG="Azure.Bicep.CommandLine.${RID}"
PKG_LOWER="$(printf '%s' "$PKG" | tr '[:upper:]' '[:lower:]')"
PACKAGES_DIR="$CACHE_DIR/packages"
PKG_DIR="$PACKAGES_DIR/$PKG_LOWER/$BICEP_VERSION"

find_exe() {
  [[ -d "$PKG_DIR" ]] || return 1
  local exe
  exe="$(find "$PKG_DIR" -type f -name bicep -path '*/tools/*' 2>/dev/null | head -n 1)"
  [[ -n "$exe" ]] || exe="$(find "$PKG_DIR" -type f -name bicep 2>/dev/null | head -n 1)"
  [[ -n "$exe" ]] || return 1
  chmod +x "$exe" 2>/dev/null || true
  works "$exe" || return 1
  printf '%s\n' "$exe"
}

if exe="$(find_exe)"; then
  printf '%s\n' "$exe"
  exit 0
fi

if ! command -v dotnet >/dev/null 2>&1; then
  log "bicep is not on PATH and dotnet is not installed: install either (https://aka.ms/bicep-install)"
  exit 1
fi

log "restoring NuGet package $PKG $BICEP_VERSION into $PACKAGES_DIR"
PROJECT_DIR="$CACHE_DIR/restore-$BICEP_VERSION"
mkdir -p "$PROJECT_DIR" "$PACKAGES_DIR"
# A throwaway project whose only job is to download the package (no build, no reference).
cat >"$PROJECT_DIR/restore.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
    <EnableDefaultItems>false</EnableDefaultItems>
    <DisableImplicitNuGetFallbackFolder>true</DisableImplicitNuGetFallbackFolder>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$PKG" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
XML
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if ! dotnet restore "$PROJECT_DIR/restore.csproj" --packages "$PACKAGES_DIR" \
  --verbosity quiet >&2; then
  log "dotnet restore of $PKG $BICEP_VERSION failed"
  exit 1
fi

if exe="$(find_exe)"; then
  log "bicep $BICEP_VERSION ready"
  printf '%s\n' "$exe"
  exit 0
fi
log "restored $PKG but found no working bicep executable under $PKG_DIR"
exit 1
