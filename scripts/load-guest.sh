#!/usr/bin/env bash
# Measures guest entries through guest links on SQLite and, when
# LOAD_DATABASE_URL is given, on PostgreSQL: for each backend it starts
# `guestlink demo` on a fresh data directory with the guest rate limit off
# (GUESTLINK_GUEST_RATE_LIMIT=0: the whole load comes from one address), runs
# examples/load_guest.rs against it (entry pages timed on their own, the
# admitting POSTs timed, the guest views timed; for one hot link, then for
# 1,000 links; then the click-limit check) and prints the server's resident
# memory before and after the load.
#
#   scripts/load-guest.sh                       # SQLite, 5000 guests per run
#   LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guestlink_load?sslmode=disable \
#     scripts/load-guest.sh -n 5000             # SQLite, then PostgreSQL
#   scripts/load-guest.sh --rate 1000,2500      # the targets: 1,000 entries/s on
#                                               # one link, 2,500/s over 1,000
#
# Arguments are passed on to the example (-n, --links, --concurrency, --rate,
# --warmup, --check-limit, --check-guests, --lms). Without --rate each timed
# phase runs as fast as --concurrency connections go (saturation: latency is
# then about concurrency / rate); with --rate the requests come at that pace
# and p50/p99 say how the server answers at it.
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

load_example=load_guest
load_server_env=(GUESTLINK_GUEST_RATE_LIMIT=0)
# shellcheck source=scripts/lib/load-common.sh
source scripts/lib/load-common.sh
