#!/usr/bin/env bash
# Make sure a MySQL/MariaDB server answers for olist-segments (`start`, the default), or stop ours (`stop`).
#  - MYSQL_HOST set: that server must answer; we never start anything in its place.
#  - unset: use what answers on 127.0.0.1:${MYSQL_PORT:-3306}; if nothing does, start the project's own
#    throwaway MariaDB: data in ${OLIST_WAREHOUSE_DIR:-.warehouse}, loopback only, root with an empty
#    password, no system option file read (--no-defaults), so the machine's own server and its data are never
#    touched. Its binaries are installed from Debian packages first when they are missing and we are root.
#    Its InnoDB buffer pool is ${OLIST_WAREHOUSE_BUFFER_POOL:-1G} (the server's default, 128 MiB, makes the
#    key lookups of the joins read from disk beyond ~1x Olist).
# MARIADBD and MARIADB_INSTALL_DB override where the binaries are looked for.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${MYSQL_PORT:-3306}"
data=$(realpath -m "${OLIST_WAREHOUSE_DIR:-.warehouse}")
mariadbd="${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}"
install_db="${MARIADB_INSTALL_DB:-$(command -v mariadb-install-db || echo /usr/bin/mariadb-install-db)}"

die() { echo "warehouse: $*" >&2; exit 1; }

# What answers on host $1 port $2: "mysql" (a MySQL/MariaDB server speaks first, and the 5th byte of its first
# packet is protocol version 10, or 255 for an error packet), "other" or "none".
probe() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null || { echo none; return; }
  local byte
  byte=$( (exec 3<>"/dev/tcp/$1/$2" && timeout 2 head -c 5 <&3 | od -An -tu1 -j4) 2>/dev/null || true)
  case "${byte// /}" in 10 | 255) echo mysql ;; *) echo other ;; esac
}

# The pid of our server if it runs: the pid file's process, if it is a server on our data folder.
ours_pid() {
  local pid
  pid=$(cat "$data/mysqld.pid" 2>/dev/null) || return 1
  tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF -- "--datadir=$data/db" && echo "$pid"
}
port_of() { tr '\0' '\n' <"/proc/$1/cmdline" | sed -n 's/^--port=//p'; }

# The one branch the tests cannot take on a machine that has MariaDB: keep it small. Only the server
# binaries are installed (no system service, no system data directory); mariadb-install-db needs
# my_print_defaults from mariadb-client-core.
install_binaries() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "warehouse: MariaDB is not installed: apt-get install mariadb-server-core mariadb-client-core"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      mariadb-server-core mariadb-client-core >/dev/null
    mariadbd=/usr/sbin/mariadbd install_db=/usr/bin/mariadb-install-db
  else
    cat >&2 <<MSG
warehouse: nothing answers on 127.0.0.1:$port and MariaDB is not installed ($mariadbd or $install_db missing).
  Either install it and re-run:  sudo apt-get install mariadb-server-core mariadb-client-core
  or point olist-segments at an existing server:
    export MYSQL_HOST=… MYSQL_PORT=… MYSQL_USER=… MYSQL_PASSWORD=…   (and DBT_TARGET=mysql for MySQL 8)
MSG
    exit 1
  fi
}

start() {
  if [ -n "${MYSQL_HOST:-}" ]; then
    case $(probe "$MYSQL_HOST" "$port") in
      mysql) echo "warehouse: using the server at $MYSQL_HOST:$port (MYSQL_HOST is set: nothing started)" ;;
      other) die "$MYSQL_HOST:$port is not a MySQL/MariaDB server: check MYSQL_HOST and MYSQL_PORT" ;;
      none) die "nothing answers on MYSQL_HOST=$MYSQL_HOST port $port. Start that server, or unset" \
        "MYSQL_HOST to let olist-segments start its own local MariaDB." ;;
    esac
    return
  fi
  local pid
  pid=$(ours_pid) || true
  case $(probe 127.0.0.1 "$port") in
    mysql)
      if [ -n "$pid" ] && [ "$(port_of "$pid")" = "$port" ]; then
        echo "warehouse: our MariaDB is already running on 127.0.0.1:$port (pid $pid, data in $data)"
      else
        echo "warehouse: using the MySQL/MariaDB server that answers on 127.0.0.1:$port"
      fi
      return ;;
    other) die "127.0.0.1:$port is taken by something that is not a MySQL/MariaDB server:" \
      "choose another MYSQL_PORT" ;;
  esac
  [ -z "$pid" ] || die "our MariaDB (pid $pid, data in $data) runs on port $(port_of "$pid"), not $port:" \
    "use MYSQL_PORT=$(port_of "$pid"), or stop it first (make warehouse-stop)"
  if [ ! -x "$mariadbd" ] || [ ! -x "$install_db" ]; then install_binaries; fi

  if [ -d "$data/db/mysql" ]; then
    echo "warehouse: starting our own MariaDB on 127.0.0.1:$port (initialised before, data in $data)"
  else
    echo "warehouse: initialising and starting our own MariaDB on 127.0.0.1:$port (data in $data)"
    mkdir -p "$data"
    rm -rf "$data/db.new"  # a half-done earlier attempt; db/ appears only once initialisation succeeded
    "$install_db" --no-defaults --user="$(id -un)" --datadir="$data/db.new" --skip-test-db \
      --auth-root-authentication-method=normal >"$data/install.log" 2>&1 ||
      { cat "$data/install.log" >&2; die "initialisation failed (log above, also in $data/install.log)"; }
    mv -T "$data/db.new" "$data/db"
  fi
  # Its own session (setsid): a Ctrl-C in the make that started it does not reach it.
  setsid "$mariadbd" --no-defaults --user="$(id -un)" --datadir="$data/db" --socket="$data/mysqld.sock" \
    --pid-file="$data/mysqld.pid" --bind-address=127.0.0.1 --port="$port" --local-infile=1 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size="${OLIST_WAREHOUSE_BUFFER_POOL:-1G}" \
    </dev/null >>"$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 120); do
    [ "$(probe 127.0.0.1 "$port")" = mysql ] && return
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 15 "$data/server.log" >&2
  die "our MariaDB did not come up on 127.0.0.1:$port (log above, all of it in $data/server.log)"
}

stop() {
  local pid
  if ! pid=$(ours_pid); then
    echo "warehouse: our MariaDB is not running: nothing to stop (data in $data)"
    return
  fi
  kill -TERM "$pid"
  for _ in $(seq 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "warehouse: stopped our MariaDB (pid $pid; data kept in $data)"
      return
    fi
    sleep 0.5
  done
  die "our MariaDB (pid $pid) did not stop within 60 s; see $data/server.log"
}

action="${1:-start}"
case "$action" in
  start | stop) "$action" ;;
  *) die "usage: scripts/warehouse.sh [start|stop]" ;;
esac
