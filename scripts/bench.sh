#!/usr/bin/env bash
# The hot-path benchmark: launches, guest admissions (one hot link, and
# spread over 900 links) and media pages, on SQLite and PostgreSQL, with the
# server's idle and loaded memory, printed as one table.
#
#   scripts/bench.sh                 # one run of everything
#   BENCH_RUNS=3 scripts/bench.sh    # three runs; the table gives medians
#
# The set-up is fixed so that figures compare across commits and days:
# - 16 client connections; the server, PostgreSQL and the load client share
#   the machine's cores unpinned, as a small deployment runs them;
# - PostgreSQL on 127.0.0.1 without TLS (sslmode=disable), with the
#   server's own synchronous_commit (printed; it should be `on`), a database
#   made for the run and dropped after; the pool at the server's default;
# - SQLite as `guestlink demo` ships it (WAL, synchronous=NORMAL);
# - the limits on guest entries and logins per address are off
#   (GUESTLINK_GUEST_RATE_LIMIT=0, GUESTLINK_LOGIN_RATE_LIMIT=0): every
#   request comes from one address;
# - a launch is POST /lti/launch with the login done beforehand and the
#   id_token signed beforehand (examples/load_launch.rs);
# - a media page is what a launched user's browser loads: the same-origin
#   POST of the session to /media/{id} (the tool's links navigate so), which
#   reads the session and the item and issues the page's file URL (a grant
#   row written per page);
# - an admission is the guest's POST of the entry form: a click counted
#   under the link's limit, the visit and the guest session written
#   (examples/load_guest.rs).
#
# Environment:
#   BENCH_RUNS          runs of the whole set (default 1); medians are shown
#   BENCH_DATABASE_URL  PostgreSQL to use (default
#                       postgres://postgres@127.0.0.1:5432/guestlink_bench?sslmode=disable)
#   BENCH_BACKENDS      default "sqlite postgres"
#   BENCH_LAUNCHES, BENCH_PAGES, BENCH_GUESTS   requests per phase
#                       (default 10000, 40000, 8000)
#   LOAD_BIN_DIR        prebuilt binaries to measure (see scripts/load-launch.sh)
#   BENCH_LOG           where the full output goes (default a temporary file)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${BENCH_RUNS:-1}"
backends="${BENCH_BACKENDS:-sqlite postgres}"
pg_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/guestlink_bench?sslmode=disable}"
launches="${BENCH_LAUNCHES:-10000}"
pages="${BENCH_PAGES:-40000}"
guests="${BENCH_GUESTS:-8000}"
log="${BENCH_LOG:-$(mktemp "${TMPDIR:-/tmp}/guestlink-bench.XXXXXX")}"
: >"$log"

if [ -z "${LOAD_BIN_DIR:-}" ]; then
  cargo build --release --bin guestlink --example load_launch --example load_guest
  export LOAD_BIN_DIR="${CARGO_TARGET_DIR:-target}/release"
fi

export LOAD_PIN=0
export LOAD_SERVER_ENV="GUESTLINK_GUEST_RATE_LIMIT=0 GUESTLINK_LOGIN_RATE_LIMIT=0 ${LOAD_SERVER_ENV:-}"
sync_commit="$(psql "${pg_url%%\?*}" -qAtc 'SHOW synchronous_commit' 2>/dev/null \
  || psql "${pg_url%/*}/postgres" -qAtc 'SHOW synchronous_commit' 2>/dev/null || echo '?')"

# Results: one line per backend, run and measure: "backend measure value".
results="$(mktemp "${TMPDIR:-/tmp}/guestlink-bench-results.XXXXXX")"
trap 'rm -f "$results"' EXIT

# The RESULT line's value of `key`.
value() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

for run in $(seq 1 "$runs"); do
  for backend in $backends; do
    echo "run $run of $runs: $backend ..." >&2
    db_env=()
    if [ "$backend" = postgres ]; then db_env=(LOAD_DATABASE_URL="$pg_url"); fi

    out="$(env "${db_env[@]}" LOAD_BACKENDS="$backend" scripts/load-launch.sh \
      -n "$launches" --pages "$pages" --concurrency 16 --lms canvas 2>&1)" || { echo "$out" >&2; exit 1; }
    printf '%s\n' "$out" >>"$log"
    line="$(grep '^RESULT logins_per_s' <<<"$out")"
    mem="$(grep '^RESULT backend=' <<<"$out")"
    {
      echo "$backend launch $(value "$line" launches_per_s) $(value "$line" launch_p50_ms) $(value "$line" launch_p99_ms)"
      echo "$backend page $(value "$line" media_pages_per_s) $(value "$line" page_p50_ms) $(value "$line" page_p99_ms)"
      echo "$backend rss $(value "$mem" rss_idle_kb) $(value "$mem" rss_peak_kb)"
    } >>"$results"

    out="$(env "${db_env[@]}" LOAD_BACKENDS="$backend" scripts/load-guest.sh \
      -n "$guests" --links 1,900 --concurrency 16 --check-limit 0 2>&1)" || { echo "$out" >&2; exit 1; }
    printf '%s\n' "$out" >>"$log"
    while read -r line; do
      case "$(value "$line" links)" in
        1) path=admit_hot ;;
        *) path=admit_spread ;;
      esac
      echo "$backend $path $(value "$line" admissions_per_s) $(value "$line" admit_p50_ms) $(value "$line" admit_p99_ms)" >>"$results"
    done < <(grep '^RESULT links=' <<<"$out")
    mem="$(grep '^RESULT backend=' <<<"$out")"
    echo "$backend rss $(value "$mem" rss_idle_kb) $(value "$mem" rss_peak_kb)" >>"$results"
  done
done

# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() { awk -v b="$1" -v m="$2" -v c="$3" '$1 == b && $2 == m { print $c }' "$results" | median; }

echo
echo "guestlink hot paths, $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo);" \
  "16 connections, unpinned; PostgreSQL $(psql "${pg_url%/*}/postgres" -qAtc 'SHOW server_version' 2>/dev/null | cut -d' ' -f1) (synchronous_commit=$sync_commit, no TLS);" \
  "medians of $runs run(s)"
printf '| %-8s | %-32s | %9s | %8s | %8s |\n' backend path "per s" "p50 ms" "p99 ms"
printf '|%s|%s|%s|%s|%s|\n' ---------- ---------------------------------- ----------: ---------: ---------:
for backend in $backends; do
  for m in launch admit_hot admit_spread page; do
    case "$m" in
      launch) label="launches" ;;
      admit_hot) label="guest admissions, one hot link" ;;
      admit_spread) label="guest admissions, 900 links" ;;
      page) label="media pages" ;;
    esac
    printf '| %-8s | %-32s | %9.0f | %8.2f | %8.2f |\n' "$backend" "$label" \
      "$(column_of "$backend" "$m" 3)" "$(column_of "$backend" "$m" 4)" "$(column_of "$backend" "$m" 5)"
  done
done
echo
printf '| %-8s | %14s | %16s |\n' backend "idle RSS MiB" "loaded RSS MiB"
printf '|%s|%s|%s|\n' ---------- ----------------: ------------------:
for backend in $backends; do
  idle="$(awk -v b="$backend" '$1 == b && $2 == "rss" { print $3 }' "$results" | median)"
  # Loaded: the highest peak of the runs' servers (a median would hide one).
  peak="$(awk -v b="$backend" '$1 == b && $2 == "rss" { print $4 }' "$results" | sort -g | tail -n 1)"
  printf '| %-8s | %14.1f | %16.1f |\n' "$backend" "$(awk -v k="$idle" 'BEGIN { print k / 1024 }')" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')"
done
echo
echo "full output: $log"
