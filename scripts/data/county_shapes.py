# Derives data/<st>_county_shapes.csv from us-atlas's counties-10m.json (TopoJSON).
# usage: python3 scripts/data/county_shapes.py counties-10m.json 29 > data/mo_county_shapes.csv
# Each county's rings are decoded from the TopoJSON arcs (delta-encoded, quantized,
# with the file's transform), projected equirectangularly (x = lon * cos(phi0),
# y = -lat, phi0 = the mean latitude of the state's points), scaled into a
# 1000-unit-wide box with a 10-unit margin, and written as one SVG path per county
# (absolute M/L commands, 1 decimal, consecutive duplicate points dropped).
import json, math, sys
t = json.load(open(sys.argv[1]))
st = sys.argv[2]
sx, sy = t['transform']['scale']; tx, ty = t['transform']['translate']
arcs = []
for a in t['arcs']:
    x = y = 0; pts = []
    for dx, dy in a:
        x += dx; y += dy
        pts.append((x * sx + tx, y * sy + ty))
    arcs.append(pts)
def ring(idx):
    pts = []
    for i in idx:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a if not pts else a[1:])
    return pts
geo = []
for g in t['objects']['counties']['geometries']:
    if not g['id'].startswith(st): continue
    polys = g['arcs'] if g['type'] == 'MultiPolygon' else [g['arcs']]
    geo.append((g['id'], g['properties']['name'], [[ring(r) for r in p] for p in polys]))
allpts = [p for _, _, ps in geo for poly in ps for r in poly for p in r]
phi0 = sum(p[1] for p in allpts) / len(allpts)
k = math.cos(math.radians(phi0))
xs = [p[0] * k for p in allpts]; ys = [-p[1] for p in allpts]
x0, y0 = min(xs), min(ys)
s = 980.0 / (max(xs) - x0)
height = (max(ys) - y0) * s + 20
print(f'fips,county,path,source')
for fips, name, ps in sorted(geo):
    parts = []
    for poly in ps:
        for r in poly:
            out = []; last = None
            for lon, lat in r:
                q = (round((lon * k - x0) * s + 10, 1), round((-lat - y0) * s + 10, 1))
                if q != last: out.append(q); last = q
            parts.append('M' + 'L'.join(f'{a:.1f} {b:.1f}' for a, b in out) + 'Z')
    print(f'{fips},{name},{"".join(parts)},"us-atlas 3.0.1 counties-10m.json (US Census Bureau cartographic boundary file 1:10,000,000, 2017); viewBox 0 0 1000 {height:.0f}"')
