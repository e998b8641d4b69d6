"""Reference multi-crop pipeline (PIL + torchvision 0.14), written from SERE_SPEC.md §5 for
benchmarking only: the per-image work one data-loader worker of the reference does.

Per image: open + convert to RGB; global crop 1 (random-resized-crop 224 bicubic, flip,
colour jitter p .8, grayscale p .2, blur p 1), global crop 2 (same, blur p .1, solarise
p .2), L local crops (96 px, blur p .5); ToTensor + Normalize on every view; iBOT block
masks for the two global crops; the overlap grids of spec §4.2 from the crop rectangles.

Usage: /usr/bin/python3 bench/data/reference_views.py [--json] [--rounds N] IMAGE...
Prints images per CPU-second of this process (time.process_time, all threads; torch is
held to one thread, as inside a data-loader worker).
"""
import argparse
import json
import math
import random
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image, ImageFilter, ImageOps

BICUBIC = T.InterpolationMode.BICUBIC
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class Blur:
    def __init__(self, p):
        self.p = p

    def __call__(self, img):
        if random.random() <= self.p:
            return img.filter(ImageFilter.GaussianBlur(radius=random.uniform(0.1, 2.0)))
        return img


class Solarize:
    def __init__(self, p):
        self.p = p

    def __call__(self, img):
        return ImageOps.solarize(img) if random.random() < self.p else img


class View:
    """Random-resized-crop that records its rectangle, then the view's own transforms."""

    def __init__(self, size, scale, after):
        self.size, self.scale = size, scale
        self.flip_colour = T.Compose([
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
        ])
        self.after = T.Compose(after + [T.ToTensor(), T.Normalize(MEAN, STD)])

    def __call__(self, img):
        i, j, h, w = T.RandomResizedCrop.get_params(img, self.scale, (3 / 4, 4 / 3))
        out = F.resized_crop(img, i, j, h, w, [self.size, self.size], BICUBIC)
        flip = random.random() < 0.5
        if flip:
            out = F.hflip(out)
        return self.after(self.flip_colour(out)), (j, i, w, h, flip)


def grid(a, b, s):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if not (x0 < x1 and y0 < y1):
        return [torch.full((s, s, 2), -2.0), torch.full((s, s, 2), -2.0)]
    out = []
    for c in (a, b):
        j = torch.arange(s, dtype=torch.float32)
        u = (x0 - c[0]) / c[2] + j * ((x1 - x0) / c[2]) / (s - 1)
        v = (y0 - c[1]) / c[3] + j * ((y1 - y0) / c[3]) / (s - 1)
        if c[4]:
            u = 1 - u
        gy, gx = torch.meshgrid(v, u, indexing="ij")
        out.append(torch.stack([gx, gy], dim=-1) * 2 - 1)
    return out


def block_mask(size, ratio):
    mask = np.zeros((size, size), dtype=bool)
    high, count, low = ratio * size * size, 0, (size // 3) ** 2
    while count < high:
        remaining, delta = high - count, 0
        for _ in range(10):
            area = random.uniform(low, remaining)
            aspect = math.exp(random.uniform(math.log(0.3), math.log(1 / 0.3)))
            h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if w < size and h < size:
                top, left = random.randint(0, size - h), random.randint(0, size - w)
                fresh = h * w - mask[top:top + h, left:left + w].sum()
                if 0 < fresh <= remaining:
                    mask[top:top + h, left:left + w] = True
                    delta = fresh
            if delta > 0:
                break
        if delta == 0:
            break
        count += delta
    return mask


class MultiCrop:
    def __init__(self, global_scale=(0.4, 1.0), local_scale=(0.05, 0.4), local_number=10, overlap=(13, 13)):
        self.global1 = View(224, global_scale, [Blur(1.0)])
        self.global2 = View(224, global_scale, [Blur(0.1), Solarize(0.2)])
        self.local = View(96, local_scale, [Blur(0.5)])
        self.local_number, self.overlap = local_number, overlap

    def __call__(self, path):
        with open(path, "rb") as fh:
            img = Image.open(fh).convert("RGB")
        views = [self.global1(img), self.global2(img)] + [self.local(img) for _ in range(self.local_number)]
        rects = [r for _, r in views]
        masks = [block_mask(14, random.choice([0.0, random.uniform(0.1, 0.5)])) for _ in range(2)]
        grids = grid(rects[0], rects[1], self.overlap[0]) + grid(rects[0], rects[1], self.overlap[1])
        for q in (0, 1):
            for v in range(self.local_number):
                grids += grid(rects[2 + v], rects[q], 6)
        return [t for t, _ in views], masks, grids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("images", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(1)
    random.seed(0)
    torch.manual_seed(0)
    pipeline = MultiCrop()
    pipeline(args.images[0])  # warm-up
    t0 = time.process_time()
    w0 = time.perf_counter()
    n = 0
    for _ in range(args.rounds):
        for path in args.images:
            pipeline(path)
            n += 1
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    result = {"images": n, "cpu_s": cpu, "wall_s": wall, "images_per_s_per_core": n / cpu}
    if args.json:
        json.dump(result, sys.stdout)
        print()
    else:
        print(f"reference (PIL + torchvision): {n} images, {cpu:.2f} CPU-s, {n / cpu:.1f} images/s per core")


if __name__ == "__main__":
    main()
