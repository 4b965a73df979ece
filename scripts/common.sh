# Shared helpers for the scripts in this directory. Source it; do not run it.
# It sets REPO_ROOT and CARGO_TARGET_DIR and defines the ensure_* installers.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Build output lives outside the clone by default so that fresh clones (CI)
# still build incrementally. An explicitly set CARGO_TARGET_DIR wins.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${GREENROOM_TARGET_DIR:-$HOME/.cache/greenroom/target}}"

# Tools the scripts install themselves (wasm-opt) go next to the build output,
# so they survive fresh clones too.
GREENROOM_TOOLS_DIR="${GREENROOM_TOOLS_DIR:-$CARGO_TARGET_DIR/greenroom-tools}"

WASM_TARGET=wasm32-unknown-unknown
BINARYEN_VERSION=132.0.0

# Exit status meaning "the WebAssembly toolchain is unavailable on this machine"
# (as opposed to a compile error), so callers can carry on without the web UI.
EXIT_NO_WASM_TOOLCHAIN=3

step() { printf '\n==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit "${2:-1}"; }

is_ci() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; }

# The version of a package as resolved in Cargo.lock.
locked_version() {
    awk -v pkg="$1" '
        $0 == "name = \"" pkg "\"" { found = 1; next }
        found && /^version = / { gsub(/version = |"/, ""); print; exit }
    ' "$REPO_ROOT/Cargo.lock"
}

ensure_wasm_target() {
    if command -v rustup >/dev/null 2>&1; then
        if rustup target list --installed | grep -qx "$WASM_TARGET"; then
            return 0
        fi
        step "Installing the Rust target $WASM_TARGET"
        if rustup target add "$WASM_TARGET"; then
            return 0
        fi
    elif [[ -d "$(rustc --print sysroot)/lib/rustlib/$WASM_TARGET" ]]; then
        return 0
    fi
    printf 'ERROR: the Rust target %s is not installed and could not be installed.\n' "$WASM_TARGET" >&2
    printf '       The web UI cannot be built on this machine; the server and its tests do not need it.\n' >&2
    printf '       Fix: install rustup and run "rustup target add %s".\n' "$WASM_TARGET" >&2
    exit "$EXIT_NO_WASM_TOOLCHAIN"
}

# wasm-bindgen's CLI must match the library version in Cargo.lock exactly.
ensure_wasm_bindgen() {
    local want have
    want="$(locked_version wasm-bindgen)"
    [[ -n "$want" ]] || die "wasm-bindgen is missing from Cargo.lock"
    have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
    if [[ "$have" == "$want" ]]; then
        return 0
    fi
    step "Installing wasm-bindgen-cli $want (found: ${have:-none}); this takes a few minutes once"
    cargo install wasm-bindgen-cli --version "=$want" ||
        die "could not install wasm-bindgen-cli $want" "$EXIT_NO_WASM_TOOLCHAIN"
}

# wasm-opt from the npm package `binaryen`, installed privately. Older
# distribution builds of binaryen produce modules that crash in browsers.
ensure_wasm_opt() {
    local dir="$GREENROOM_TOOLS_DIR/binaryen-$BINARYEN_VERSION"
    WASM_OPT="$dir/node_modules/.bin/wasm-opt"
    if [[ -x "$WASM_OPT" ]]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 ||
        die "npm is required to install wasm-opt (npm package binaryen $BINARYEN_VERSION); install Node.js and npm" "$EXIT_NO_WASM_TOOLCHAIN"
    step "Installing wasm-opt (npm package binaryen $BINARYEN_VERSION)"
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || printf '{ "name": "greenroom-tools", "private": true }\n' >"$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION" ||
        die "could not install binaryen $BINARYEN_VERSION from npm" "$EXIT_NO_WASM_TOOLCHAIN"
    [[ -x "$WASM_OPT" ]] || die "binaryen installed but $WASM_OPT is missing" "$EXIT_NO_WASM_TOOLCHAIN"
}
