#!/usr/bin/env bash
# Checks that no secret a test run created reached the tool's log.
#
#   scripts/check-log-secrets.sh LOG SECRETS
#
# LOG is the trace-level log the test run wrote (GUESTLINK_TEST_TRACE_LOG);
# SECRETS the file the tests recorded what they saw in
# (GUESTLINK_TEST_SECRETS): "secret VALUE" lines must not appear in the log,
# "canary VALUE" lines must (the tool is known to log them), which shows the
# check reads the right log and would see a secret if one were there.
set -euo pipefail
log=${1:?the trace log}
secrets=${2:?the recorded secrets}

[ -s "$log" ] || { echo "log check: the test run wrote no log to $log" >&2; exit 1; }
[ -s "$secrets" ] || { echo "log check: no secrets were recorded in $secrets" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -n 's/^canary //p' "$secrets" | sort -u > "$work/canaries"
sed -n 's/^secret //p' "$secrets" | sort -u > "$work/secrets"

if [ ! -s "$work/canaries" ]; then
  echo "log check: no canary was planted, so the check cannot show it works" >&2
  exit 1
fi
while IFS= read -r canary; do
  if ! grep -qF -- "$canary" "$log"; then
    echo "log check: the planted canary $canary is not in $log: the check does not see the log" >&2
    exit 1
  fi
done < "$work/canaries"

if grep -F -f "$work/secrets" "$log" > "$work/leaks"; then
  echo "log check: $(wc -l < "$work/leaks") log line(s) hold a secret a test created:" >&2
  head -n 20 "$work/leaks" >&2
  exit 1
fi
echo "log check: $(wc -l < "$work/secrets") secrets, none in $(wc -l < "$log") log lines; $(wc -l < "$work/canaries") canary found"
