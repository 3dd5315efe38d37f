#!/usr/bin/env bash
# The one command that sets up everything the tests need and runs every check CI runs:
#   Python deps into .venv, Node tools (anvil, hardhat, solc, OpenZeppelin, ethers, noble) via
#   `npm install` from the committed lockfile, lint, types, regenerated artefacts diffed clean,
#   then the whole pytest suite (unit, attacks, vectors, integration on real chains) with
#   branch coverage of the core.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}

step() { printf '\n== %s\n' "$*" >&2; }

step "python environment (.venv)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
export PATH="$ROOT/.venv/bin:$PATH"

step "node tools (npm install from package-lock.json)"
npm install --no-audit --no-fund --loglevel=error
# hardhat 3's native add-on (@nomicfoundation/edr-*) needs Node >= 22; npm on Node 20 skips it,
# so install again with the Node 22 that the first install brought (the lockfile is unchanged).
PATH="$ROOT/node_modules/node/bin:$PATH" npm install --no-audit --no-fund --loglevel=error
export PATH="$ROOT/node_modules/.bin:$PATH"

step "lint and format (ruff)"
ruff check .
ruff format --check .

step "types (mypy --strict on verifier/)"
mypy

step "import contracts (lint-imports: layers of DESIGN §8, pure layers do no IO, no devnet in verification)"
lint-imports

step "wheels for every supported pair (pip download --only-binary, CPython 3.11-3.14 x Linux x86_64/aarch64, macOS arm64, Windows x64)"
# porv's runtime dependencies must install from wheels on all 16 pairs; pip's cache lives in
# $TMPDIR/porv-wheel-check, outside the checkout (about 2 minutes with a warm cache).
python scripts/check_wheels.py --jobs 4

step "regenerate committed artefacts and diff (contracts, vectors)"
if [ -f contracts_abi/compile.js ]; then node contracts_abi/compile.js; fi
for gen in fixtures/vectors/gen-*.js; do
  [ -e "$gen" ] && node "$gen"
done
if [ -n "$(git status --porcelain -- contracts_abi fixtures verifier/chain/contracts)" ]; then
  echo "regenerated artefacts differ from the committed ones:" >&2
  git status --porcelain -- contracts_abi fixtures verifier/chain/contracts >&2
  git --no-pager diff --stat -- contracts_abi fixtures verifier/chain/contracts >&2
  exit 1
fi

step "chromium for the HTML report screenshot test (Debian's package, only when missing)"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium missing and not installable here (root + apt-get); its test skips outside CI" >&2
  fi
fi

step "tests (pytest, warnings are errors, branch coverage of verifier/)"
set +e
python -m pytest --cov=verifier --cov-branch --cov-report=term "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
[ "$rc" -eq 0 ] || exit "$rc"

step "the checkout is left clean"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git status --porcelain)" ]; then
  echo "the test command changed or left files in the checkout:" >&2
  git status --porcelain >&2
  exit 1
fi
