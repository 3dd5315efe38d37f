#!/usr/bin/env bash
# The main job from a fresh clone: install porv into .venv and run `porv demo` on the embedded
# in-process chain. Extra arguments go to `porv demo` (e.g. --chain anvil after `npm install`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check .
exec .venv/bin/porv demo "$@"
