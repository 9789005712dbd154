#!/usr/bin/env bash
# Install everything negah needs on a fresh Debian machine, idempotently:
# Debian packages (driver headers, chromium for browser tests), a virtualenv in .venv
# with negah and its extras, and the local PostgreSQL / MariaDB servers the tests use.
# Usage: scripts/bootstrap.sh [runtime|dev]
set -euo pipefail
mode=${1:-dev}
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libmariadb-dev pkg-config; do have_pkg "$p" || need_apt+=("$p"); done
if [ "$mode" = dev ]; then
  for p in chromium fonts-dejavu-core; do have_pkg "$p" || need_apt+=("$p"); done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: apt-get install ${need_apt[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
  else
    echo "bootstrap: please install the Debian packages: ${need_apt[*]}" >&2
  fi
fi

stamp=.venv/.negah-installed-$mode
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >&2 2>/dev/null || true
  extras="all,mysql"
  [ "$mode" = dev ] && extras="all,mysql,dev"
  echo "bootstrap: pip install -e .[$extras]" >&2
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[$extras]" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import negah, ibis, duckdb" || { echo "bootstrap: install failed" >&2; exit 1; }
  touch "$stamp"
fi

if [ "$mode" = dev ]; then
  # The test databases: start them when they are installed and down.
  if [ -d /etc/postgresql ] && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
    echo "bootstrap: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
  fi
  if [ -x /usr/sbin/mariadbd ] && ! mysqladmin -h 127.0.0.1 -u root status >/dev/null 2>&1; then
    echo "bootstrap: starting MariaDB" >&2
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 || true
    for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -u root status >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
