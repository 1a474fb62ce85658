#!/usr/bin/env bash
# Build the website from the stored notebook outputs, failing on any warning.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup-env.sh"
cd "$ROOT"
jupyter-book build . -W -n --keep-going
echo
echo "The website is at: $ROOT/_build/html/index.html"
