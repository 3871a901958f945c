"""Derive PyRadiomics' marching-cubes triangulation from its behaviour, and write it as Rust.

PyRadiomics' mesh shape features (MeshVolume, SurfaceArea, SurfaceVolumeRatio, Sphericity)
depend on which triangles its marching cubes puts in each of the 256 corner configurations of
a 2 x 2 x 2 cube: on a face with two diagonal ROI corners the surface can join the edge
midpoints in two ways, and a non-planar polygon has several triangulations of different area.

This script does not copy PyRadiomics' table. It measures PyRadiomics' compiled shape routine
(`radiomics.cShape.calculate_coefficients`) on each configuration alone, at three
anisotropic spacings, and finds the triangulation that reproduces those surface areas and
volumes among all candidates it enumerates itself:

- for every face, the segments joining the midpoints of the face's cut edges (on a face with
  four cut edges, both non-crossing pairings), oriented so that the ROI lies on their left
  when the face is seen from outside the cube;
- the closed polygons those segments form, and every triangulation of every polygon (the
  triangles keep the polygon's orientation, so their normals point out of the ROI).

Every configuration has at least one match; where several match, they give the same area and
volume (to 1e-14) at random spacings too (planar polygons, mirror images), so any of them
reproduces PyRadiomics. The first match is written.

Corner c of a cube is the voxel at offset (c >> 2 & 1, c >> 1 & 1, c & 1) along the numpy
axes (z, y, x); edge k joins the k-th pair (a, b), a < b, of corners one step apart, in
lexicographic order. Output: crates/adamss-radiomics/src/mc_table.rs.

    .venv/bin/python tools/mc_table.py
"""

import itertools
import os

import numpy as np
from radiomics import cShape

SPACINGS = [(1.0, 1.0, 1.0), (1.3, 1.7, 2.9), (2.3, 0.7, 1.1)]
CORNERS = [np.array((c >> 2 & 1, c >> 1 & 1, c & 1)) for c in range(8)]
EDGES = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
MID = [(CORNERS[a] + CORNERS[b]) / 2 for a, b in EDGES]
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "adamss-radiomics", "src", "mc_table.rs")


def faces():
    """(edges of the face in ring order, outward normal) for the cube's six faces."""
    out = []
    for axis in range(3):
        for side in (0, 1):
            corners = [c for c in range(8) if CORNERS[c][axis] == side]
            edges = [e for e, (a, b) in enumerate(EDGES) if a in corners and b in corners]
            ring = [edges[0]]
            while len(ring) < 4:
                shared = [e for e in edges if e not in ring and set(EDGES[e]) & set(EDGES[ring[-1]])]
                ring.append(shared[0])
            normal = np.zeros(3)
            normal[axis] = 1.0 if side else -1.0
            out.append((ring, normal))
    return out


def triangulations(poly):
    """Every triangulation of the polygon `poly` (vertex list in cycle order)."""
    if len(poly) == 3:
        return [[tuple(poly)]]
    out = []
    for m in range(1, len(poly) - 1):
        left = [[]] if m == 1 else triangulations(poly[: m + 1])
        right = [[]] if m == len(poly) - 2 else triangulations(poly[m:])
        for a in left:
            for b in right:
                out.append(a + b + [(poly[0], poly[m], poly[-1])])
    return out


def area_volume(tris, spacing):
    s = np.asarray(spacing)
    area = vol = 0.0
    for t in tris:
        a, b, c = (MID[v] * s for v in t)
        area += 0.5 * np.linalg.norm(np.cross(b - a, c - a))
        vol += np.dot(a, np.cross(b, c)) / 6.0
    return area, vol


def candidates(idx, face_list):
    inside = [bool(idx >> c & 1) for c in range(8)]
    options = []
    for ring, normal in face_list:
        cut = [e for e in ring if inside[EDGES[e][0]] != inside[EDGES[e][1]]]
        if not cut:
            continue
        if len(cut) == 2:
            pairings = [[tuple(cut)]]
        else:
            pairings = [[(ring[0], ring[1]), (ring[2], ring[3])], [(ring[1], ring[2]), (ring[3], ring[0])]]
        oriented = []
        for pairing in pairings:
            segs = []
            for p, q in pairing:
                a, b = EDGES[p]
                roi_corner = CORNERS[a] if inside[a] else CORNERS[b]
                turn = np.dot(np.cross(MID[q] - MID[p], roi_corner - MID[p]), normal)
                segs.append((p, q) if turn < 0 else (q, p))
            oriented.append(segs)
        options.append(oriented)
    for choice in itertools.product(*options):
        succ = {p: q for segs in choice for p, q in segs}
        seen, cycles = set(), []
        for v in succ:
            if v in seen:
                continue
            cycle = [v]
            seen.add(v)
            w = succ[v]
            while w != v:
                cycle.append(w)
                seen.add(w)
                w = succ[w]
            cycles.append(cycle)
        for parts in itertools.product(*[triangulations(c) for c in cycles]):
            yield [t for part in parts for t in part]


def main():
    face_list = faces()
    rng = np.random.default_rng(0)
    table = [[] for _ in range(256)]
    for idx in range(1, 255):
        mask = np.zeros((2, 2, 2), bool)
        for c in range(8):
            if idx >> c & 1:
                mask[tuple(CORNERS[c])] = True
        measured = [cShape.calculate_coefficients(mask, np.array(s))[:2] for s in SPACINGS]
        matches = [
            tris
            for tris in candidates(idx, face_list)
            if all(
                np.allclose(area_volume(tris, s), m, rtol=0, atol=1e-12) for s, m in zip(SPACINGS, measured)
            )
        ]
        assert matches, f"configuration {idx}: no candidate reproduces PyRadiomics"
        for _ in range(5):
            s = rng.uniform(0.3, 4.0, 3)
            values = np.array([area_volume(t, s) for t in matches])
            assert np.ptp(values, axis=0).max() < 1e-12, f"configuration {idx}: matches disagree"
        table[idx] = matches[0]
    rows = []
    for idx, tris in enumerate(table):
        body = ", ".join(f"[{a}, {b}, {c}]" for a, b, c in tris)
        rows.append(f"    &[{body}],")
    text = (
        "//! Generated by `tools/mc_table.py` (do not edit): the triangles PyRadiomics' marching\n"
        "//! cubes puts in each corner configuration, derived from its measured areas and volumes.\n"
        "//!\n"
        "//! Index: bit c set when corner c (offset (c >> 2 & 1, c >> 1 & 1, c & 1) along the\n"
        "//! numpy axes z, y, x) is in the ROI. A triangle lists three edges, numbered as\n"
        "//! [`EDGES`]; its vertices are the edges' midpoints, counter-clockwise seen from outside\n"
        "//! the ROI.\n\n"
        "/// Corner pairs joined by each of the twelve cube edges.\n"
        "pub(crate) const EDGES: [(u8, u8); 12] = [\n"
        + "".join(f"    ({a}, {b}),\n" for a, b in EDGES)
        + "];\n\n"
        "/// Triangles (as edge triples) for each of the 256 corner configurations.\n"
        "pub(crate) const TRIANGLES: [&[[u8; 3]]; 256] = [\n" + "\n".join(rows) + "\n];\n"
    )
    with open(OUT, "w") as f:
        f.write(text)
    print("wrote", os.path.normpath(OUT), sum(len(t) for t in table), "triangles")


if __name__ == "__main__":
    main()
