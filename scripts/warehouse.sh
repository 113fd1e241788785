#!/usr/bin/env bash
# Make sure a MySQL/MariaDB server answers for olist-segments.
#  - MYSQL_HOST set: that server must answer; we never start anything in its place.
#  - unset: use whatever answers on 127.0.0.1:${MYSQL_PORT:-3306}; if nothing does, start the project's own
#    throwaway MariaDB (data in .warehouse/, loopback only, root with an empty password), installing
#    mariadb-server from Debian/Ubuntu packages first when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${MYSQL_PORT:-3306}"

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if [ -n "${MYSQL_HOST:-}" ]; then
  if answers "$MYSQL_HOST" "$port"; then exit 0; fi
  echo "warehouse: nothing answers on MYSQL_HOST=$MYSQL_HOST port $port. Start that server, or unset MYSQL_HOST" >&2
  echo "           to let olist-segments start its own local MariaDB." >&2
  exit 1
fi
answers 127.0.0.1 "$port" && exit 0

mariadbd=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
if [ -z "$mariadbd" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "warehouse: installing mariadb-server (apt-get)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
    mariadbd=/usr/sbin/mariadbd
  else
    cat >&2 <<MSG
warehouse: no MySQL/MariaDB answers on 127.0.0.1:$port and mariadb-server is not installed.
  Either install it (sudo apt-get install mariadb-server) and re-run, or point olist-segments at an existing
  server: export MYSQL_HOST=… MYSQL_PORT=… MYSQL_USER=… MYSQL_PASSWORD=… (and DBT_TARGET=mysql for MySQL 8).
MSG
    exit 1
  fi
fi

data="$PWD/.warehouse"
mkdir -p "$data"
if [ ! -d "$data/db/mysql" ]; then
  echo "warehouse: initialising a throwaway MariaDB in $data"
  mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$data/db" --auth-root-authentication-method=normal \
    --skip-test-db >"$data/install.log" 2>&1 || { cat "$data/install.log" >&2; exit 1; }
fi
echo "warehouse: starting MariaDB on 127.0.0.1:$port (data in $data, log in $data/server.log)"
"$mariadbd" --no-defaults --user="$(id -un)" --datadir="$data/db" --socket="$data/mysqld.sock" \
  --pid-file="$data/mysqld.pid" --bind-address=127.0.0.1 --port="$port" --local-infile=1 \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci >"$data/server.log" 2>&1 &
for _ in $(seq 60); do answers 127.0.0.1 "$port" && exit 0; sleep 0.5; done
echo "warehouse: MariaDB did not start; see $data/server.log" >&2
exit 1
