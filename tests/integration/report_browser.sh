#!/usr/bin/env bash
# report.html in a real browser (issue 13): a year published by privagg demo is
# rendered by Debian's chromium, headless; a PNG screenshot is saved under the
# test's output folder, and the DOM (chromium --dump-dom) must hold every cell and
# margin of the statewide table, one bar group per offense bucket and one county
# shape per county.  No chromium: SKIP (exit 77), never a silent pass.
set -euo pipefail
PRIVAGG=$(readlink -f "$1")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${PA_TEST_OUT:-$(dirname "$PRIVAGG")/test-output/report_browser}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then echo "SKIP: chromium is not installed (scripts/install-deps.sh installs it)"; exit 77; fi
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$SRC"
fail() { echo "FAIL: $*"; exit 1; }
D="$OUT/year"
"$PRIVAGG" demo --agencies 120 --min-agencies 3 --months 3 --release all --out "$D" >"$OUT/demo.txt" 2>"$OUT/demo.err" \
  || { tail -20 "$OUT/demo.err"; fail "demo"; }
R="$D/report/report.html"
[ -s "$R" ] || fail "no report.html"
grep -Eq '(src|href)="https?:' "$R" && fail "report.html refers to the network"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync)
timeout 120 "$CHROMIUM" "${flags[@]}" --user-data-dir="$(mktemp -d "$OUT/profile-XXXX")" --window-size=1200,3000 \
  --screenshot="$OUT/report.png" "file://$R" >"$OUT/chromium-shot.log" 2>&1 || { cat "$OUT/chromium-shot.log"; fail "screenshot"; }
[ -s "$OUT/report.png" ] || fail "no screenshot"
head -c 8 "$OUT/report.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "screenshot is not a PNG"
timeout 120 "$CHROMIUM" "${flags[@]}" --user-data-dir="$(mktemp -d "$OUT/profile-XXXX")" --dump-dom "file://$R" \
  >"$OUT/dom.html" 2>"$OUT/chromium-dom.log" || { cat "$OUT/chromium-dom.log"; fail "dump-dom"; }
python3 - "$OUT/dom.html" "$D/task.json" "$SRC/data/mo_county_shapes.csv" <<'PY'
import html.parser, json, sys, csv
dom, task, shapes = sys.argv[1:4]
t = json.load(open(task))
dims = t['schema']['dimensions']
import itertools
# every cell but the structural zeros (schema.structural_zeros: partial cells), and
# every margin that holds at least one cell
zeros = t['schema'].get('structural_zeros', [])
def structural(c):
    return any(all(c[[d['name'] for d in dims].index(k)] == v for k, v in z.items()) for z in zeros)
live = [c for c in itertools.product(*[d['categories'] for d in dims]) if not structural(c)]
cells = len(live)
margins = sum(1 for i, d in enumerate(dims) for cat in d['categories'] if any(c[i] == cat for c in live))
offense = [d for d in dims if d['name'] == 'offense'][0]['categories']
counties = sum(1 for _ in csv.DictReader(open(shapes)))
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.rows = {}; s.groups = []; s.paths = 0; s.in_table = 0; s.in_chart = 0; s.in_map = 0
    def handle_starttag(s, tag, a):
        a = dict(a); cls = a.get('class', '')
        if tag == 'table' and a.get('id') == 'state-table': s.in_table = 1
        if tag == 'svg' and a.get('id') == 'chart-offense': s.in_chart = 1
        if tag == 'svg' and a.get('id') == 'map': s.in_map = 1
        if tag == 'tr' and s.in_table: s.rows[cls] = s.rows.get(cls, 0) + 1
        if tag == 'g' and s.in_chart and cls == 'bar-group': s.groups.append(a.get('data-offense'))
        if tag == 'path' and s.in_map and cls == 'county': s.paths += 1
    def handle_endtag(s, tag):
        if tag == 'table': s.in_table = 0
        if tag == 'svg': s.in_chart = s.in_map = 0
p = P(); p.feed(open(dom).read())
errs = []
if p.rows.get('cell') != cells: errs.append('state table: %s cell rows, want %d' % (p.rows.get('cell'), cells))
if p.rows.get('margin') != margins: errs.append('state table: %s margin rows, want %d' % (p.rows.get('margin'), margins))
if p.rows.get('total') != 1: errs.append('state table: %s total rows, want 1' % p.rows.get('total'))
if p.groups != offense: errs.append('chart: %d bar groups, want one per offense bucket (%d)' % (len(p.groups), len(offense)))
if p.paths != counties: errs.append('map: %d county shapes, want %d' % (p.paths, counties))
print('DOM: %d cell rows, %d margin rows, %d total; %d bar groups; %d county shapes' %
      (p.rows.get('cell', 0), p.rows.get('margin', 0), p.rows.get('total', 0), len(p.groups), p.paths))
if errs:
    print('\n'.join(errs)); sys.exit(1)
PY
echo "screenshot: $OUT/report.png"
echo "PASS: report.html rendered by $("$CHROMIUM" --version 2>/dev/null | head -1)"
