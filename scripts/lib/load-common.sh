# The shared part of scripts/load-*.sh, sourced by them after they set
#   load_example     the example that makes the load (examples/<name>.rs)
#   load_server_env  settings the server needs for that load (an array)
# and run from the repository's root. It builds the server and the example
# (release), then for each backend starts `guestlink demo` on a fresh data
# directory, runs the example against it and reports the server's memory.
# The environment it reads is described in the scripts that source it.

target_dir="${CARGO_TARGET_DIR:-target}"
if [ -n "${LOAD_BIN_DIR:-}" ]; then
  # Binaries built before (another commit's, for side-by-side runs).
  server_bin="$LOAD_BIN_DIR/guestlink"
  client_bin="$LOAD_BIN_DIR/examples/$load_example"
  if [ ! -x "$client_bin" ]; then client_bin="$LOAD_BIN_DIR/$load_example"; fi
else
  cargo build --release --bin guestlink --example "$load_example"
  server_bin="$target_dir/release/guestlink"
  client_bin="$target_dir/release/examples/$load_example"
fi

backends="${LOAD_BACKENDS:-sqlite${LOAD_DATABASE_URL:+ postgres}}"

# Pin the server and the client to one core each, when there are two.
pin_server=()
pin_client=()
if [ "${LOAD_PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc --all)" -ge 2 ]; then
  pin_server=(taskset -c 0)
  pin_client=(taskset -c 1)
fi

rss() { awk '/^VmRSS/ {print $2 " " $3}' "/proc/$1/status" 2>/dev/null || echo "?"; }
peak_rss() { awk '/^VmHWM/ {print $2 " " $3}' "/proc/$1/status" 2>/dev/null || echo "?"; }

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port found" >&2
  exit 1
}

# PostgreSQL: the database of LOAD_DATABASE_URL, and the same server's
# maintenance database for creating and dropping it.
pg_db=""
pg_admin_url=""
pg_created=0
if [ -n "${LOAD_DATABASE_URL:-}" ]; then
  no_query="${LOAD_DATABASE_URL%%\?*}"
  pg_db="${no_query##*/}"
  pg_admin_url="${no_query%/*}/postgres"
  case "$pg_db" in
    "" | *[!A-Za-z0-9_]*) echo "LOAD_DATABASE_URL must end in a plain database name, got '$pg_db'" >&2; exit 2 ;;
  esac
fi

server_pid=""
data_dir=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$data_dir" ]; then rm -rf "$data_dir"; fi
  if [ "$pg_created" = 1 ]; then
    psql "$pg_admin_url" -qAtc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null || true
    pg_created=0
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

status=0
for backend in $backends; do
  echo
  echo "=== $backend ==="
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/guestlink-$load_example.XXXXXX")"
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  server_env=(
    GUESTLINK_BIND="127.0.0.1:$port"
    GUESTLINK_DATA_DIR="$data_dir"
    GUESTLINK_LOG="${GUESTLINK_LOG:-warn}"
    "${load_server_env[@]}"
  )
  case "$backend" in
    sqlite) ;;
    postgres)
      if [ -z "${LOAD_DATABASE_URL:-}" ]; then echo "postgres needs LOAD_DATABASE_URL" >&2; exit 2; fi
      if [ "$(psql "$pg_admin_url" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$pg_db'")" != 1 ]; then
        psql "$pg_admin_url" -qAtc "CREATE DATABASE \"$pg_db\"" >/dev/null
        pg_created=1
        echo "created database $pg_db (dropped at the end)"
      else
        echo "note: database $pg_db already exists: its data is kept and not dropped"
      fi
      server_env+=(DATABASE_URL="$LOAD_DATABASE_URL")
      ;;
    *) echo "unknown backend '$backend' (sqlite or postgres)" >&2; exit 2 ;;
  esac
  if [ -n "${LOAD_DB_POOL_SIZE:-}" ]; then server_env+=(GUESTLINK_DB_POOL_SIZE="$LOAD_DB_POOL_SIZE"); fi
  if [ -n "${LOAD_WORKERS:-}" ]; then server_env+=(GUESTLINK_WORKERS="$LOAD_WORKERS"); fi
  # shellcheck disable=SC2206 # LOAD_SERVER_ENV is a list of words on purpose
  server_env+=(${LOAD_SERVER_ENV:-})

  env "${server_env[@]}" "${pin_server[@]}" "$server_bin" demo >"$data_dir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "the server stopped at start:" >&2
      cat "$data_dir/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  curl -fsS -o /dev/null "$url/healthz"
  sleep 1
  echo "server pid $server_pid on $url, ${pin_server[*]:-not pinned}; settings: ${server_env[*]}" | sed 's#://[^@/ ]*@#://***@#g'
  idle_rss="$(rss "$server_pid")"
  echo "server RSS idle: $idle_rss"

  if "${pin_client[@]}" "$client_bin" --url "$url" --data-dir "$data_dir" --server-pid "$server_pid" "$@"; then
    :
  else
    status=$?
    echo "$load_example failed on $backend (exit $status); server log:" >&2
    tail -n 20 "$data_dir/server.log" >&2
  fi
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "server RSS after load: $(rss "$server_pid") (peak $(peak_rss "$server_pid"))"
    echo "RESULT backend=$backend rss_idle_kb=${idle_rss%% *} rss_peak_kb=$(peak_rss "$server_pid" | cut -d' ' -f1)"
  else
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""
    echo "the server died during the load (exit status $server_status$( [ "$server_status" -gt 128 ] && echo ", signal $((server_status - 128))"))" >&2
    status=1
  fi
  if grep -qiE "warn|error" "$data_dir/server.log"; then
    echo "server log ($(grep -ciE "warn|error" "$data_dir/server.log") warnings or errors), first lines:"
    grep -iE "warn|error" "$data_dir/server.log" | head -n 5
  fi

  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
  rm -rf "$data_dir"
  data_dir=""
  if [ "$pg_created" = 1 ]; then
    psql "$pg_admin_url" -qAtc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null
    pg_created=0
  fi
done
exit "$status"
