#!/usr/bin/env python3
"""Makes the console's world map and country names, once, from public data.

Inputs (neither is needed to build or run the project; the outputs are committed):
- the `world-atlas` package, version 2.0.2 (Natural Earth's public-domain Admin 0 countries as
  TopoJSON, ISC licence): `npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz`;
- ISO 3166-1 codes and names from Debian's `iso-codes` package
  (/usr/share/iso-codes/json/iso_3166-1.json).

Outputs:
- console/js/world.js: each country's outline at 1:110m, projected once with the Equal Earth
  projection (equal-area, so a choropleth does not inflate countries near the poles) into a
  1000-wide SVG view box, as SVG path data keyed by ISO 3166-1 alpha-2 code; countries too
  small for the 1:110m outlines (Malta, Singapore, Bahrain...) as a point at their centroid
  taken from the 1:50m outlines. Antarctica is left out.
- console/js/countries.js: every ISO 3166-1 alpha-2 code with its short English name.

Usage: python3 tools/console_world.py PATH/TO/world-atlas/package [iso_3166-1.json]
"""

import json
import math
import os
import sys

WIDTH = 1000.0
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "console", "js")

# Equal Earth projection (Šavrič, Patterson, Jenny 2018).
A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
M = math.sqrt(3) / 2


def equal_earth(lon, lat):
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)))
    y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))
    return x, y


X_MAX = equal_earth(180, 0)[0]
Y_MAX = equal_earth(0, 90)[1]
Y_TOP = equal_earth(0, 84)[1]      # northernmost land
Y_BOTTOM = equal_earth(0, -56)[1]  # Tierra del Fuego; Antarctica is left out
SCALE = WIDTH / (2 * X_MAX)
HEIGHT = round((Y_TOP - Y_BOTTOM) * SCALE, 1)


def project(lon, lat):
    x, y = equal_earth(lon, lat)
    return round((x + X_MAX) * SCALE, 1), round((Y_TOP - y) * SCALE, 1)


def arcs_of(topology):
    """Decodes the quantized, delta-encoded arcs into lists of (lon, lat)."""
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def ring(arcs, indexes):
    points = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        points.extend(arc if not points else arc[1:])
    return points


def polygons(geometry, arcs):
    if geometry["type"] == "Polygon":
        return [[ring(arcs, r) for r in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[ring(arcs, r) for r in p] for p in geometry["arcs"]]
    return []


def unwrap(r):
    """A ring that crosses the antimeridian (Fiji at 1:110m) keeps to the side most of it lies on."""
    if not (any(lon > 170 for lon, _ in r) and any(lon < -170 for lon, _ in r)):
        return r
    east = sum(1 for lon, _ in r if lon > 0) * 2 >= len(r)
    return [((180.0 if east else -180.0) if (lon < 0) == east else lon, lat) for lon, lat in r]


def path_data(polys):
    parts = []
    for poly in polys:
        for r in poly:
            r = unwrap(r)
            pts = []
            for lon, lat in r:
                p = project(lon, lat)
                if not pts or p != pts[-1]:
                    pts.append(p)
            if len(pts) < 3:
                continue
            parts.append("M" + "L".join(f"{fmt(x)},{fmt(y)}" for x, y in pts) + "Z")
    return "".join(parts)


def fmt(v):
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def centroid(polys):
    """The area-weighted centroid of the largest outer ring (planar, in degrees: enough for a dot)."""
    best = max((p[0] for p in polys), key=lambda r: abs(area(r)))
    a = area(best)
    if a == 0:
        return best[0]
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(best, best[1:] + best[:1]):
        f = x0 * y1 - x1 * y0
        cx += (x0 + x1) * f
        cy += (y0 + y1) * f
    return cx / (6 * a), cy / (6 * a)


def area(r):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(r, r[1:] + r[:1])) / 2


def main():
    atlas = sys.argv[1]
    iso_path = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/iso-codes/json/iso_3166-1.json"
    iso = json.load(open(iso_path, encoding="utf-8"))["3166-1"]
    alpha2 = {c["numeric"]: c["alpha_2"] for c in iso}
    names = {c["alpha_2"]: c.get("common_name", c["name"]) for c in iso}

    shapes, dots = {}, {}
    small = json.load(open(os.path.join(atlas, "countries-110m.json"), encoding="utf-8"))
    arcs = arcs_of(small)
    for g in small["objects"]["countries"]["geometries"]:
        code = alpha2.get(g.get("id"))
        if code is None or code == "AQ":
            continue  # Kosovo, N. Cyprus, Somaliland have no ISO 3166-1 code; Antarctica is left out
        data = path_data(polygons(g, arcs))
        if data:
            shapes[code] = shapes.get(code, "") + data
    large = json.load(open(os.path.join(atlas, "countries-50m.json"), encoding="utf-8"))
    arcs = arcs_of(large)
    for g in large["objects"]["countries"]["geometries"]:
        code = alpha2.get(g.get("id"))
        if code is None or code in shapes or code == "AQ":
            continue
        polys = polygons(g, arcs)
        if polys:
            dots[code] = list(project(*centroid(polys)))

    header = (
        "// Generated by tools/console_world.py from world-atlas 2.0.2 (Natural Earth, public domain;\n"
        "// world-atlas: ISC licence, see console/vendor/LICENSE-world-atlas). Do not edit by hand.\n"
    )
    with open(os.path.join(OUT, "world.js"), "w", encoding="utf-8") as out:
        out.write(header)
        out.write("// Equal Earth projection; SVG view box 0 0 WIDTH HEIGHT.\n")
        out.write(f"export const WIDTH = {fmt(WIDTH)};\nexport const HEIGHT = {fmt(HEIGHT)};\n")
        out.write("/** Outline of each country, as SVG path data, by ISO 3166-1 alpha-2 code. */\n")
        out.write("export const SHAPES = {\n")
        for code in sorted(shapes):
            out.write(f'  {code}: "{shapes[code]}",\n')
        out.write("};\n/** Countries too small for the outlines: a point [x, y] at their centroid. */\n")
        out.write("export const DOTS = {\n")
        for code in sorted(dots):
            out.write(f"  {code}: [{fmt(dots[code][0])}, {fmt(dots[code][1])}],\n")
        out.write("};\n")
    with open(os.path.join(OUT, "countries.js"), "w", encoding="utf-8") as out:
        out.write("// Generated by tools/console_world.py from Debian's iso-codes (ISO 3166-1). Do not edit by hand.\n")
        out.write("/** Short English name of every ISO 3166-1 alpha-2 code. */\n")
        out.write("export const NAMES = {\n")
        for code in sorted(names):
            out.write(f"  {code}: {json.dumps(names[code], ensure_ascii=False)},\n")
        out.write("};\n")
    print(f"{len(shapes)} outlines, {len(dots)} dots, {len(names)} names; view box {fmt(WIDTH)} x {fmt(HEIGHT)}")


if __name__ == "__main__":
    main()
