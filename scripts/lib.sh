# Shared by the scripts in this folder: paths, the tool folder, logging.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tools we build from source (wasm-bindgen) live outside the checkout, so they survive
# fresh clones and CI runs on the same machine.
TOOLS="${YT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/yt-export-tools}"
WASM_BINDGEN_VERSION="0.2.130"
# Storage emulators for the behaviour suite (worker/tests/storage_backends.rs).
MOTO_VERSION="5.2.5"
GCS_EMULATOR_VERSION="2026.7.19"
AZURITE_VERSION="3.37.0"
SITE_ROOT="$ROOT/target/site"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
