import json, sys
t = json.load(open(sys.argv[1]))
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
out = []
for g in t['objects']['counties']['geometries']:
    fips = g['id']
    if not fips.startswith(sys.argv[2]): continue
    polys = g['arcs'] if g['type'] == 'MultiPolygon' else [g['arcs']]
    A = Cx = Cy = 0.0
    for poly in polys:
        for r in poly:
            p = ring(r)
            for (x0, y0), (x1, y1) in zip(p, p[1:]):
                c = x0 * y1 - x1 * y0
                A += c; Cx += (x0 + x1) * c; Cy += (y0 + y1) * c
    A /= 2
    out.append((fips, g['properties']['name'], Cy / (6 * A), Cx / (6 * A)))
print('fips,county,latitude,longitude,source')
for f, n, la, lo in sorted(out):
    print(f'{f},{n},{la:.5f},{lo:.5f},"us-atlas 3.0.1 counties-10m.json (US Census Bureau cartographic boundary file 1:10,000,000, 2017): area centroid of the county polygon in longitude/latitude"')
