# Copyright the SERE.ts authors. Licensed under the Apache License, Version 2.0.
"""Synthetic multi-crop batches: noise images, realistic crop rectangles, overlap grids (§4.2)
and block masks (§5.2). Only the geometry matters for the step's cost and numerics."""
import math

import numpy as np
import torch

LOCAL_GLOBAL_GRID = 6  # hard-coded in the reference (spec §9.2)


def sample_crop_rect(rng, width, height, scale):
    """Random-resized-crop rectangle [x0, y0, w, h, flip] on a width x height image (§5.1)."""
    area = width * height
    log_ratio = (math.log(3 / 4), math.log(4 / 3))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            y0 = int(rng.randint(0, height - h + 1))
            x0 = int(rng.randint(0, width - w + 1))
            return [x0, y0, w, h, int(rng.uniform() < 0.5)]
    w, h = width, height  # fallback: the whole image clamped to the aspect-ratio range
    if w / h < 3 / 4:
        h = int(round(w / (3 / 4)))
    elif w / h > 4 / 3:
        w = int(round(h * (4 / 3)))
    return [(width - w) // 2, (height - h) // 2, w, h, int(rng.uniform() < 0.5)]


def overlap_grids(rect_a, rect_b, size):
    """Sampling grids [size, size, 2] in [-1, 1] of the overlap of two crops, one per crop (§4.2).

    Computed in float32 like the reference; non-overlapping crops give grids of -2.
    """
    f = np.float32
    xa, ya, wa, ha, fa = [f(v) for v in rect_a]
    xb, yb, wb, hb, fb = [f(v) for v in rect_b]
    x0, y0 = max(xa, xb), max(ya, yb)
    x1, y1 = min(xa + wa, xb + wb), min(ya + ha, yb + hb)
    if not (x0 < x1 and y0 < y1):
        full = np.full((size, size, 2), -2.0, dtype=f)
        return full, full.copy()
    steps = np.arange(size, dtype=f)
    grids = []
    for x, y, w, h, flip in ((xa, ya, wa, ha, fa), (xb, yb, wb, hb, fb)):
        u = (x0 - x) / w + steps * (((x1 - x0) / w) / f(size - 1))
        v = (y0 - y) / h + steps * (((y1 - y0) / h) / f(size - 1))
        if flip:
            u = f(1) - u
        grid = np.stack(np.broadcast_arrays(u[None, :], v[:, None]), axis=-1).astype(f)
        grids.append(grid * f(2) - f(1))
    return grids[0], grids[1]


def block_mask(rng, side, ratio, min_aspect=0.3):
    """BEiT-style block mask on a side x side patch grid covering about ratio of it (§5.2)."""
    mask = np.zeros((side, side), dtype=bool)
    target = ratio * side * side
    min_area = (side // 3) ** 2
    log_aspect = (math.log(min_aspect), math.log(1 / min_aspect))
    while mask.sum() < target:
        remaining = target - mask.sum()
        for _ in range(10):
            area = rng.uniform(min_area, remaining)
            aspect = math.exp(rng.uniform(*log_aspect))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if w < side and h < side:
                top, left = rng.randint(0, side - h + 1), rng.randint(0, side - w + 1)
                new = (~mask[top:top + h, left:left + w]).sum()
                if 0 < new <= remaining:
                    mask[top:top + h, left:left + w] = True
                    break
        else:
            break
    return mask


def recipe_mask_ratio(rng, pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2)):
    """The recipes' ratio: half the crops unmasked, the others U(0.1, 0.5)."""
    candidates = [rng.uniform(m - v, m + v) if v > 0 else m for m, v in zip(pred_ratio, pred_ratio_var)]
    return candidates[rng.randint(len(candidates))]


def synthetic_batch(batch_size, local_crops_number, global_size, local_size, patch_size,
                    overlap_size, global_scale, local_scale, seed, device):
    rng = np.random.RandomState(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    side = global_size // patch_size
    n_local = local_crops_number
    rects, masks = [], [[], []]
    g1 = [[], []]
    g2 = [[], []]
    g_local = [[] for _ in range(2 * n_local)]
    g_global = [[] for _ in range(2 * n_local)]
    for _ in range(batch_size):
        width, height = int(rng.randint(256, 641)), int(rng.randint(256, 641))
        glob = [sample_crop_rect(rng, width, height, global_scale) for _ in range(2)]
        locs = [sample_crop_rect(rng, width, height, local_scale) for _ in range(n_local)]
        rects.append({'global1': glob[0], 'global2': glob[1], 'locals': locs})
        for q in range(2):
            masks[q].append(block_mask(rng, side, recipe_mask_ratio(rng)))
        for out, size in ((g1, overlap_size[0]), (g2, overlap_size[1])):
            a, b = overlap_grids(glob[0], glob[1], size)
            out[0].append(a)
            out[1].append(b)
        for q in range(2):
            for v in range(n_local):
                loc, glo = overlap_grids(locs[v], glob[q], LOCAL_GLOBAL_GRID)
                g_local[q * n_local + v].append(loc)
                g_global[q * n_local + v].append(glo)

    def stack(items):
        return torch.from_numpy(np.stack(items)).to(device)

    def noise(size):
        return torch.randn(batch_size, 3, size, size, generator=gen, device=device)

    return {
        'global_crops': [noise(global_size) for _ in range(2)],
        'local_crops': [noise(local_size) for _ in range(n_local)],
        'masks': [stack(m) for m in masks],
        'grid1': [stack(g) for g in g1],
        'grid2': [stack(g) for g in g2],
        'grid_local': [stack(g) for g in g_local],
        'grid_global': [stack(g) for g in g_global],
        'crop_rects': rects,
    }
