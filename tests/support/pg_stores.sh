# Sourced by integration tests (tests/integration/*.sh): the aggregators'
# stores on PostgreSQL when PA_TEST_PG_URL is set (tests/support/with-pg.sh),
# SQLite files otherwise.
#   pg_use_stores DIR ROLE...   point DIR/ROLE.json's "store" at a fresh schema
#                               (no-op without PA_TEST_PG_URL); the schemas are
#                               dropped by pg_drop_stores (call it on exit)
#   pg_new_store DIR ROLE       a fresh schema for ROLE's store: its URL in
#                               DIR/ROLE.store-url (and printed)
#   demo_store_args DIR         DEMO_STORES=(--leader-store URL --helper-store URL)
#                               for `privagg demo --out DIR` (empty on SQLite)
#   store_sql DIR ROLE SQL      one query's result on ROLE's store (psql or sqlite3)
#   store_arg DIR ROLE          what --db takes for ROLE's store (the URL or the file)
PG_SCHEMAS=()

pg_url_of() { # schema -> URL with that search_path
  local sep='?'; case "$PA_TEST_PG_URL" in *'?'*) sep='&' ;; esac
  printf '%s%soptions=-csearch_path%%3D%s' "$PA_TEST_PG_URL" "$sep" "$1"
}

pg_new_store() {
  local dir=$1 role=$2 schema="it_$$_${2}_${RANDOM}"
  psql "$PA_TEST_PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null || return 1
  PG_SCHEMAS+=("$schema")
  mkdir -p "$dir"
  pg_url_of "$schema" >"$dir/$role.store-url"
  cat "$dir/$role.store-url"
}

pg_use_stores() {
  local dir=$1; shift
  [ -n "${PA_TEST_PG_URL:-}" ] || return 0
  for role in "$@"; do
    pg_new_store "$dir" "$role" >/dev/null || return 1
    # '&' and '|' in a sed replacement: escaped
    local esc; esc=$(sed 's/[&|\\]/\\&/g' "$dir/$role.store-url")
    sed -i "s|\"store\": \"[^\"]*\"|\"store\": \"$esc\"|" "$dir/$role.json" || return 1
  done
}

demo_store_args() {
  DEMO_STORES=()
  [ -n "${PA_TEST_PG_URL:-}" ] || return 0
  pg_new_store "$1" leader >/dev/null && pg_new_store "$1" helper >/dev/null || return 1
  DEMO_STORES=(--leader-store "$(cat "$1/leader.store-url")" --helper-store "$(cat "$1/helper.store-url")")
}

pg_drop_stores() {
  [ -n "${PA_TEST_PG_URL:-}" ] || return 0
  for s in "${PG_SCHEMAS[@]}"; do
    psql "$PA_TEST_PG_URL" -qAt -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1
  done
  PG_SCHEMAS=()
}

store_arg() {
  if [ -s "$1/$2.store-url" ]; then cat "$1/$2.store-url"; else echo "$1/$2.db"; fi
}

store_sql() {
  if [ -s "$1/$2.store-url" ]; then psql "$(cat "$1/$2.store-url")" -qAt -c "$3"
  else sqlite3 "$1/$2.db" "$3"; fi
}
