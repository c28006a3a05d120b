#!/usr/bin/env bash
# pg.sh - a throwaway PostgreSQL 15 cluster for tests and the demo.
#
#   scripts/pg.sh start DIR [PORT]   initdb DIR if needed, start on 127.0.0.1:PORT
#                                    (a free port when omitted), wait until ready,
#                                    create database "pane", and print
#                                      export DATABASE_URL=...  PANE_PG_DIR=...
#                                    for eval.
#   scripts/pg.sh stop DIR           stop the cluster in DIR (fast shutdown)
#   scripts/pg.sh status DIR         exit 0 when running
#   scripts/pg.sh -h | --help
#
# As root, the cluster runs as the 'postgres' system user (initdb refuses
# root); DIR is then created with that owner. Authentication is 'trust' on
# loopback only. pg_stat_statements is preloaded so the statistics source can
# be tested. Logs are in DIR/postgres.log.
set -euo pipefail

bindir=/usr/lib/postgresql/15/bin
die() { echo "pg.sh: $*" >&2; exit 1; }

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1; shift
case "$cmd" in -h|--help) usage; exit 0 ;; esac
[ $# -ge 1 ] || { echo "pg.sh: $cmd needs a data directory" >&2; usage >&2; exit 2; }
dir=$1
[ -x "$bindir/initdb" ] || die "PostgreSQL 15 is not installed ($bindir/initdb missing); run scripts/install-deps.sh"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$cmd" in
start)
  port=${2:-}
  chosen=0
  [ -z "$port" ] && chosen=1
  # A free port is picked below the kernel's ephemeral range: a port in
  # that range can be the local end of any outgoing connection, which a
  # listener cannot bind (bind fails, and the probe below cannot see it).
  pick_port() {
    local lo hi
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
    [ "$lo" -gt 12000 ] || lo=32768
    for _ in $(seq 1 50); do
      port=$((10000 + RANDOM % (lo - 10000)))
      port_in_use "$port" || return 0
    done
  }
  [ $chosen = 1 ] && pick_port
  if [ ! -s "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
      { cat "$dir.initdb.log" >&2; die "initdb failed"; }
    rm -f "$dir.initdb.log"
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
fsync = on
log_min_messages = warning
CONF
  fi
  # a stale postmaster.pid from a killed run would block the start
  if [ -f "$dir/postmaster.pid" ] && ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    rm -f "$dir/postmaster.pid"
  fi
  # a port we picked can still be taken between the probe and the bind by
  # another process: then another port, a few times (a port that was asked
  # for is not changed)
  for attempt in 1 2 3 4 5; do
    port_in_use "$port" && { [ $chosen = 1 ] && { pick_port; continue; }; die "port $port is already in use; pass another port"; }
    if as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >/dev/null; then
      break
    fi
    if [ $chosen = 1 ] && [ $attempt -lt 5 ] && tail -5 "$dir/postgres.log" | grep -q 'could not create any TCP/IP sockets'; then
      pick_port
      continue
    fi
    tail -20 "$dir/postgres.log" >&2
    die "PostgreSQL did not start (log: $dir/postgres.log)"
  done
  for _ in $(seq 1 100); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" || die "PostgreSQL is not ready on port $port"
  if ! psql -qAtX -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "SELECT 1 FROM pg_database WHERE datname='pane'" | grep -q 1; then
    psql -qAtX -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE pane" >/dev/null
  fi
  echo "export DATABASE_URL='postgresql://postgres@127.0.0.1:$port/pane'"
  echo "export PANE_PG_DIR='$dir'"
  echo "export PANE_PG_PORT='$port'"
  ;;
stop)
  [ -d "$dir" ] || exit 0
  as_pg "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  ;;
status)
  as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1
  ;;
*)
  echo "pg.sh: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
