import * as path from 'node:path';
import { decodeImage, Rng } from '@sere/augment';
import { evalTransform, evalView, makeView, shorterSideSize, trainTransform, trainView, transformKey } from './transforms';
import { runPython, tempDir } from './testing/python';

// Images are written as PNG by Pillow so both sides decode identical pixels (JPEG decoders
// may differ by a level); the comparison is then exact.
const REFERENCE = `
import sys, json
import numpy as np
from PIL import Image
import torch
from torchvision import transforms as T
out_dir, cases = sys.argv[1], json.loads(sys.argv[2])
rs = np.random.RandomState(7)
for i, (w, h, resize, size) in enumerate(cases):
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 90 * np.sin(xx / (5.0 + c) + yy / 9.0) for c in range(3)], -1)
    edges = np.where(((xx // 7) + (yy // 5)) % 2 == 0, 40, -40)[..., None]
    img = np.clip(base + edges + rs.randint(-12, 13, size=(h, w, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(f"{out_dir}/img{i}.png")
    pil = Image.open(f"{out_dir}/img{i}.png").convert("RGB")
    t = T.Compose([T.Resize(resize, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size), T.ToTensor(),
                   T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    t(pil).numpy().astype(np.float32).tofile(f"{out_dir}/ref{i}.f32")
print("ok")
`;

describe('eval transform', () => {
  it('matches torchvision Resize(bicubic) + CenterCrop + ToTensor + Normalize exactly', async () => {
    const cases: [number, number, number, number][] = [
      [500, 375, 256, 224], // the protocol on a landscape photo: shrink
      [128, 96, 146, 128], // demo scale: enlarge a small image
      [96, 131, 110, 96], // portrait, odd sizes, enlarge
      [224, 224, 256, 224], // square
      [300, 257, 256, 224], // shorter side barely above the target
    ];
    const { dir, remove } = tempDir('sere-eval-tf-');
    try {
      expect(runPython(REFERENCE, [dir, JSON.stringify(cases)]).trim()).toBe('ok');
      const fs = await import('node:fs');
      for (let i = 0; i < cases.length; i++) {
        const [, , resize, size] = cases[i];
        const img = await decodeImage(path.join(dir, `img${i}.png`));
        const ours = evalView(img, evalTransform(size, resize));
        const buf = fs.readFileSync(path.join(dir, `ref${i}.f32`));
        const ref = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        expect(ours.length).toBe(3 * size * size);
        let worst = 0;
        for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(ours[j] - ref[j]));
        expect({ case: cases[i], worst }).toEqual({ case: cases[i], worst: 0 });
      }
    } finally {
      remove();
    }
  });

  it('scales the 256/224 recipe with the crop size and rejects bad sizes', () => {
    expect(evalTransform()).toEqual({ kind: 'eval', size: 224, resize: 256 });
    expect(evalTransform(128).resize).toBe(146);
    expect(evalTransform(96).resize).toBe(110);
    expect(() => evalTransform(0)).toThrow(/size must be a positive integer/);
    expect(() => evalTransform(224, 200)).toThrow(/at least the crop size/);
    expect(shorterSideSize(500, 375, 256)).toEqual([341, 256]);
    expect(shorterSideSize(375, 500, 256)).toEqual([256, 341]);
    expect(transformKey(evalTransform(128))).not.toBe(transformKey(evalTransform(128, 160)));
  });
});

describe('train transform', () => {
  const img = { width: 160, height: 120, rgb: Uint8Array.from({ length: 160 * 120 * 3 }, (_, i) => (i * 37) % 251) };

  it('gives size×size CHW views that repeat with the seed and vary without it', () => {
    const t = trainTransform(64);
    const a = trainView(img, t, Rng.fromKey([1, 2]));
    const b = trainView(img, t, Rng.fromKey([1, 2]));
    const c = trainView(img, t, Rng.fromKey([1, 3]));
    expect(a.length).toBe(3 * 64 * 64);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    expect(a.every(Number.isFinite)).toBe(true);
  });

  it('always flips with p = 1: the view is the mirror of the p = 0 view of the same crop', () => {
    const noFlip = trainView(img, trainTransform(32, [0.5, 0.5], 0), Rng.fromKey([9]));
    const flip = trainView(img, trainTransform(32, [0.5, 0.5], 1), Rng.fromKey([9]));
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) expect(flip[(c * 32 + y) * 32 + x]).toBe(noFlip[(c * 32 + y) * 32 + (31 - x)]);
      }
    }
  });

  it('needs a generator', () => {
    expect(() => makeView(img, trainTransform(32))).toThrow(/seeded generator/);
    expect(makeView(img, evalTransform(32)).length).toBe(3 * 32 * 32);
  });
});
