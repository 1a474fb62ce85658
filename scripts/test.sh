#!/usr/bin/env bash
# Run the whole test suite: unit tests, notebook tests (strict nbval), tooling and site tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k losses -x`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"
cd "$ROOT"
python -m pytest "$@"
