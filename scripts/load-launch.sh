#!/usr/bin/env bash
# Measures LTI launches on SQLite and, when LOAD_DATABASE_URL is given, on
# PostgreSQL: for each backend it starts `guestlink demo` on a fresh data
# directory, runs examples/load_launch.rs against it (logins timed, id_token
# signing not timed, launches timed) and prints the server's resident memory
# before and after the load.
#
#   scripts/load-launch.sh                      # SQLite, 5000 launches
#   LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guestlink_load \
#     scripts/load-launch.sh -n 3000            # SQLite, then PostgreSQL
#
# Arguments are passed on to the example (-n, --concurrency, --lms, --warmup).
# Environment:
#   LOAD_DATABASE_URL   PostgreSQL URL; its database is created if missing and
#                       dropped afterwards (only if this script created it)
#   LOAD_BACKENDS       which backends to run, default "sqlite" plus "postgres"
#                       when LOAD_DATABASE_URL is set
#   LOAD_DB_POOL_SIZE   GUESTLINK_DB_POOL_SIZE for the server (default: the
#                       server's)
#   LOAD_WORKERS        GUESTLINK_WORKERS for the server (default: the server's,
#                       one per CPU it may run on)
#   LOAD_PIN=0          do not pin the server to CPU 0 and the client to CPU 1
#   LOAD_SERVER_ENV     extra VAR=value settings for the server, space-separated
#   LOAD_BIN_DIR        take guestlink and the example from this directory
#                       instead of building them (another commit's, for
#                       side-by-side runs)
set -euo pipefail
cd "$(dirname "$0")/.."

load_example=load_launch
load_server_env=()
# shellcheck source=scripts/lib/load-common.sh
source scripts/lib/load-common.sh
