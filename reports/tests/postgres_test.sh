#!/usr/bin/env bash
# The results database on a real PostgreSQL server (Debian's postgresql package): starts one on
# a Unix socket in a temporary folder (as user nobody when run as root: initdb refuses root),
# then checks that
#   - two hosts ingesting at once into a fresh database (schema creation included) lose nothing:
#     every table holds exactly what the same folders give on SQLite, one after the other;
#   - the same folder ingested again, or by both at once, counts once;
#   - the page from the database shows the fleet (two machines), the history and the
#     regressions against each machine's previous run (exit 3), and, with chromium, draws a
#     trend chart of several runs;
#   - a broken folder, a foreign database, a schema from a newer zbl and an unreachable server
#     give one clear message and change nothing.
# Stops the server and removes everything at exit. Exits 77 (skip) when the server binaries
# are absent.
#   postgres_test.sh ZBL_REPORT_BIN TESTDATA_DIR
set -euo pipefail
bin=$1
data=$2
pgbin=${ZBL_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)}
for t in initdb pg_ctl postgres psql; do
  if [ -z "$pgbin" ] || [ ! -x "$pgbin/$t" ]; then
    echo "SKIP: PostgreSQL server binaries not found (${pgbin:-/usr/lib/postgresql/*/bin}/$t;" \
         "apt-get install postgresql, listed in ci/report-deps.txt)"
    exit 77
  fi
done
for t in sqlite3 python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (ci/report-deps.txt)"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zbl-pg-XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$tmp"
  as=(runuser -u nobody --)
  # A $TMPDIR only root can enter would keep the server out of its folder: use /tmp then.
  if ! "${as[@]}" test -w "$tmp"; then
    rm -rf "$tmp"
    tmp=$(mktemp -d /tmp/zbl-pg-XXXXXX)
    chown nobody "$tmp"
  fi
fi
sock=$tmp/sock
pgdata=$tmp/data
cleanup() {
  "${as[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${as[@]}" mkdir "$sock"
"${as[@]}" "$pgbin/initdb" -D "$pgdata" -U zbl --auth=trust -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log"; exit 1; }
# -F: no fsync (a throwaway server); no TCP listener, only the socket.
"${as[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/server.log" -w -t 60 \
  -o "-k $sock -c listen_addresses= -F" start >/dev/null || { cat "$tmp/server.log"; exit 1; }
psql() { "$pgbin/psql" -X -q -A -t -h "$sock" -U zbl "$@"; }
psql -d postgres -c "CREATE DATABASE zbl" -c "CREATE DATABASE other" -c "CREATE DATABASE future"
url="postgresql:///zbl?host=$sock&user=zbl"

fail=0
check() {  # check WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected '$2', got '$3'"; fail=1; fi
}
contains() {  # contains WHAT NEEDLE TEXT
  if [[ "$3" == *"$2"* ]]; then echo "ok: $1"; else echo "FAIL: $1: no '$2' in: $3"; fail=1; fi
}

# Runs: six of machine ci-nullblk-1:nullblk (the baseline folder with other dates, then the
# fleet folder as the latest) and one of ci-zns-1:zns. One folder a run, as CI jobs have them.
runs=$tmp/runs
mkdir -p "$runs"
for i in 1 2 3 4 5; do
  mkdir -p "$runs/r$i"
  cp -r "$data/baseline/nullblk" "$runs/r$i/"
  sed -i "s/2026-11-25T10:00:00Z/2026-11-1${i}T10:00:00Z/" "$runs/r$i/nullblk/devices.json"
done
mkdir -p "$runs/r6" "$runs/zns"
cp -r "$data/fleet/nullblk" "$runs/r6/"
rm "$runs/r6/nullblk/broken.json"
cp -r "$data/fleet/zns" "$runs/zns/"

# Two hosts at once on a fresh database: one ingests r1 r3 r5, the other r2 r4 r6, both zns.
host_a() { for r in r1 r3 r5 zns; do "$bin" ingest -q --db "$url" "$runs/$r/"*; done; }
host_b() { for r in r2 r4 r6 zns; do "$bin" ingest -q --db "$url" "$runs/$r/"*; done; }
host_a >"$tmp/a.log" 2>&1 & pa=$!
host_b >"$tmp/b.log" 2>&1 & pb=$!
sa=0; sb=0
wait $pa || sa=$?
wait $pb || sb=$?
check "concurrent ingest A exit status" 0 "$sa"
check "concurrent ingest B exit status" 0 "$sb"
cat "$tmp/a.log" "$tmp/b.log"

# The same folders one after the other into SQLite: the reference counts.
ref=$tmp/ref.sqlite
for r in r1 r2 r3 r4 r5 r6 zns; do "$bin" ingest -q --db "$ref" "$runs/$r/"*; done
for table in runs files warnings devices fingerprints results benchmarks bench_values \
             comparisons compare_results compare_ratios; do
  check "rows in $table (PostgreSQL = SQLite)" "$(sqlite3 "$ref" "SELECT count(*) FROM $table")" \
    "$(psql -d zbl -c "SELECT count(*) FROM $table")"
done
check "runs" 7 "$(psql -d zbl -c "SELECT count(*) FROM runs")"
check "schema version" 2 "$(psql -d zbl -c "SELECT max(version) FROM zbl_schema")"
check "each migration recorded once" 2 "$(psql -d zbl -c "SELECT count(*) FROM zbl_schema")"
check "figures keep their values" \
  "$(sqlite3 "$ref" "SELECT printf('%.6e', sum(value)) FROM bench_values")" \
  "$(psql -d zbl -c "SELECT to_char(sum(value), '9.999999EEEE') FROM bench_values" | tr -d ' ' | sed 's/e+/e+/')"

out=$("$bin" ingest --db "$url" "$runs/r1/nullblk" 2>&1)
contains "the same folder again counts once" "0 run(s) added, 1 already there" "$out"
out=$("$bin" ingest --db "postgresql:host=$sock user=zbl dbname=zbl" "$runs/r2/nullblk" 2>&1)
contains "a key=value conninfo reaches the same database" "0 run(s) added, 1 already there" "$out"

# The page from PostgreSQL: the fleet, history, regressions against the previous run.
page=$tmp/page.html
st=0
"$bin" -q --db "$url" --out "$page" >/dev/null 2>"$tmp/page.err" || st=$?
check "page exit status (regressions against the previous run)" 3 "$st"
summary=$(python3 - "$page" <<'PY'
import json, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<script type="application/json" id="zbl-model">(.*?)</script>', html, re.S)
model = json.loads(m.group(1))
h = model["history"]
longest = max(len(t["points"]) for t in h["trends"])
print(len(h["runs"]), len(h["machines"]), len(model["sources"]), longest,
      model["regressions"]["count"] > 0, model["fleet"])
PY
)
check "page model: runs machines sources longest-trend regressions fleet" "7 2 2 6 True True" "$summary"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chromium" ]; then
  profile=$tmp/chromium
  mkdir -p "$profile"
  dom=$(timeout 180 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --virtual-time-budget=10000 --window-size=1400,1000 \
        --dump-dom "file://$page" 2>/dev/null | grep -o '<body [^>]*>' | head -n 1 || true)
  contains "the page drew itself" 'data-rendered="1"' "$dom"
  # A figure both machines measure is charted over all seven runs (six of one machine, one of
  # the other) in date order.
  contains "a trend chart over the runs" 'data-trend-max-runs="7"' "$dom"
  contains "two machines in the history" 'data-history-machines="2"' "$dom"
else
  echo "note: chromium not installed; the page was checked from its model only"
fi

# Bad input: nothing changes, one message naming what was wrong.
before=$(psql -d zbl -c "SELECT count(*) FROM results")
broken=$tmp/broken
mkdir -p "$broken"
cp -r "$data/fleet/nullblk" "$broken/"
st=0; out=$("$bin" ingest --db "$url" "$runs/zns/zns" "$broken/nullblk" 2>&1) || st=$?
check "broken folder: exit status" 1 "$st"
contains "broken folder: names the file" "$broken/nullblk/broken.json: not valid JSON" "$out"
check "broken folder: nothing written" "$before" "$(psql -d zbl -c "SELECT count(*) FROM results")"

psql -d other -c "CREATE TABLE people (name TEXT)"
st=0; out=$("$bin" ingest --db "postgresql:///other?host=$sock&user=zbl" "$runs/zns/zns" 2>&1) || st=$?
check "foreign database: exit status" 1 "$st"
contains "foreign database: said" "not a zbl results database" "$out"
check "foreign database: unchanged" "people" "$(psql -d other -c "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = 'public'")"

"$bin" ingest -q --db "postgresql:///future?host=$sock&user=zbl"
psql -d future -c "INSERT INTO zbl_schema VALUES (99, 'from the future', 'later')"
st=0; out=$("$bin" ingest --db "postgresql:///future?host=$sock&user=zbl" "$runs/zns/zns" 2>&1) || st=$?
check "newer schema: exit status" 1 "$st"
contains "newer schema: said" "schema version 99 is newer than this zbl-report knows" "$out"
check "newer schema: nothing written" 0 "$(psql -d future -c "SELECT count(*) FROM runs")"

st=0; out=$("$bin" ingest --db "postgresql://zbl:secret@/zbl?host=$tmp/nowhere" "$runs/zns/zns" 2>&1) || st=$?
check "unreachable server: exit status" 1 "$st"
contains "unreachable server: said" "cannot connect" "$out"
if [[ "$out" == *secret* ]]; then echo "FAIL: the password shows in: $out"; fail=1; else echo "ok: password not shown"; fi

exit $fail
