# Shared by scripts/start and scripts/test: a virtualenv in .venv, reinstalled when pyproject.toml changes.
ensure_venv() {
  local extras="$1"
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    for candidate in python3.11 python3.12 python3.13 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
    done
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "setting up .venv with $py" >&2
    "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >&2
  fi
  local stamp=".venv/.installed${extras:+-$extras}"
  # The dev install holds everything the plain one does: a dev venv needs no second install.
  if [ -z "$extras" ] && [ -f .venv/.installed-dev ] && [ ! pyproject.toml -nt .venv/.installed-dev ]; then
    stamp=".venv/.installed-dev"
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "installing hookline${extras:+ [$extras]} into .venv" >&2
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}" >&2
    touch "$stamp"
  fi
}
