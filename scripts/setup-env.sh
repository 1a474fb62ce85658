# Sourced by build.sh and test.sh: make sure .venv exists and matches requirements.txt.
# A stamp file records the hash of requirements.txt; when it changes, the install runs again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${COURSE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "This course needs Python 3.11; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
  echo "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
STAMP="$VENV/.requirements.sha256"
WANT="$(cd "$ROOT" && cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "Setting up the virtual environment in $VENV (about a minute the first time) ..."
  "$PYTHON" -m venv "$VENV"
  (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt)
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
