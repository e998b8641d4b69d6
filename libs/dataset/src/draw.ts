/**
 * Procedural pictures for synthetic datasets and benchmarks: a 1/f value-noise background
 * (natural images have roughly 1/f amplitude spectra, which is what makes JPEG sizes and
 * decode costs realistic) under a class-specific grating, plus one shaded class-specific
 * shape. Classes differ in shape, hue and grating angle, so a probe can tell them apart;
 * two harder styles keep only the shape as the class's mark (see drawPicture).
 */
import { Rng } from '@sere/augment';

export const SHAPES = ['disc', 'square', 'triangle', 'ring', 'cross', 'diamond', 'bar', 'blob'] as const;

function hsv(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  return ([[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]] as const)[i].map((c) => c * 255) as [number, number, number];
}

/** Bilinear value noise with octaves from `size/4` down to 4 px, amplitude proportional to scale. */
function valueNoise(w: number, h: number, rng: Rng): Float32Array {
  const out = new Float32Array(w * h);
  let total = 0;
  for (let cell = Math.max(4, Math.floor(Math.max(w, h) / 4)); cell >= 4; cell = Math.floor(cell / 2)) {
    const gw = Math.ceil(w / cell) + 2;
    const gh = Math.ceil(h / cell) + 2;
    const grid = Float32Array.from({ length: gw * gh }, () => rng.next() - 0.5);
    for (let y = 0; y < h; y++) {
      const gy = y / cell;
      const y0 = Math.floor(gy);
      const fy = gy - y0;
      for (let x = 0; x < w; x++) {
        const gx = x / cell;
        const x0 = Math.floor(gx);
        const fx = gx - x0;
        const a = grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x0 + 1] * fx;
        const b = grid[(y0 + 1) * gw + x0] * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1] * fx;
        out[y * w + x] += cell * (a * (1 - fy) + b * fy);
      }
    }
    total += cell;
  }
  for (let k = 0; k < out.length; k++) out[k] /= total / 2;
  return out;
}

function inside(shape: (typeof SHAPES)[number], u: number, v: number): boolean {
  const r = Math.hypot(u, v);
  switch (shape) {
    case 'disc':
      return r < 1;
    case 'square':
      return Math.abs(u) < 0.8 && Math.abs(v) < 0.8;
    case 'triangle':
      return v < 0.7 && v > -0.9 + 1.6 * Math.abs(u) * 1.1;
    case 'ring':
      return r < 1 && r > 0.6;
    case 'cross':
      return (Math.abs(u) < 0.25 && Math.abs(v) < 1) || (Math.abs(v) < 0.25 && Math.abs(u) < 1);
    case 'diamond':
      return Math.abs(u) + Math.abs(v) < 1;
    case 'bar':
      return Math.abs(u) < 1 && Math.abs(v) < 0.3;
    case 'blob':
      return r < 0.75 + 0.25 * Math.sin(5 * Math.atan2(v, u));
  }
}

export const PICTURE_STYLES = ['classic', 'shape-only', 'scattered', 'motifs', 'even-motifs'] as const;
export type PictureStyle = (typeof PICTURE_STYLES)[number];

/**
 * One picture of class `cls` (of `classes`), HWC RGB uint8.
 * - classic: shape, hue and grating angle all follow the class (an easy probe target).
 * - shape-only: hue, grating and background drawn at random for every picture, so only the
 *   shape tells the class: colour statistics, which even a random network picks up, carry
 *   nothing.
 * - scattered: several light copies of the class's shape, each of its own size, place and
 *   faint tint, on a darker grey textured background. Self-supervised pretraining learns
 *   what the crops of one picture share; here that is the shape and little else: no
 *   picture-wide hue or grating, and no colours (random colours per copy were tried: crops
 *   of one picture share them, so pretraining learnt the colours).
 * - motifs: the class's shape, small, repeated on a jittered lattice over the whole picture,
 *   in colours that wander across it (see drawMotifs). Every crop holds several copies, so
 *   the shape is what crops share; colour, which dominates a random network's features,
 *   changes from crop to crop and tells nothing.
 * - even-motifs: motifs with the first-order cues taken out. Every shape covers the same
 *   area (in 'motifs' a disc covers 2.6 times what a bar does, so mean brightness tells the
 *   class), and the lattice spacing, shape size and brightness levels are the same for
 *   every picture, so the crops of one picture share little but the shape.
 */
export function drawPicture(width: number, height: number, cls: number, classes: number, rng: Rng, style: PictureStyle = 'classic'): Uint8Array {
  if (style === 'scattered') return drawScattered(width, height, cls, rng);
  if (style === 'motifs' || style === 'even-motifs') return drawMotifs(width, height, cls, rng, style === 'even-motifs');
  const shapeOnly = style === 'shape-only';
  const rgb = new Uint8Array(width * height * 3);
  const hue = shapeOnly ? rng.next() : (cls * 0.618034) % 1;
  const bg = hsv((hue + 0.5) % 1, 0.25 + 0.2 * rng.next(), 0.55 + 0.2 * rng.next());
  const fg = hsv((hue + 0.04 * (rng.next() - 0.5) + 1) % 1, 0.7, 0.85);
  const angle = shapeOnly ? Math.PI * rng.next() : (Math.PI * cls) / classes;
  const freq = (2 * Math.PI) / (6 + (shapeOnly ? Math.floor(4 * rng.next()) : cls % 4) * 3);
  const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
  const noise = valueNoise(width, height, rng);
  const shape = SHAPES[cls % SHAPES.length];
  const scale = Math.min(width, height) * (0.2 + 0.15 * rng.next());
  const cx = width * (0.3 + 0.4 * rng.next());
  const cy = height * (0.3 + 0.4 * rng.next());
  const rot = rng.uniform(-0.4, 0.4);
  const [cr, sr] = [Math.cos(rot), Math.sin(rot)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = y * width + x;
      const grating = 18 * Math.sin(freq * (x * ca + y * sa));
      const light = 1 + 0.25 * ((x / width - 0.5) * ca - (y / height - 0.5) * sa);
      const u = ((x - cx) * cr + (y - cy) * sr) / scale;
      const v = (-(x - cx) * sr + (y - cy) * cr) / scale;
      const onShape = inside(shape, u, v);
      const base = onShape ? fg : bg;
      const shade = onShape ? 1 - 0.3 * (u + v) * 0.5 : light;
      const n = 70 * noise[k] + (onShape ? 0 : grating) + (rng.next() - 0.5) * 10;
      for (let c = 0; c < 3; c++) rgb[k * 3 + c] = Math.max(0, Math.min(255, Math.round(base[c] * shade + n)));
    }
  }
  return rgb;
}

/** One copy of a shape: centre, size and rotation (as its cosine and sine). */
interface Copy {
  cx: number;
  cy: number;
  scale: number;
  cos: number;
  sin: number;
}

/**
 * Area of each shape in its unit frame (|u|, |v| ≤ 1.05), measured on a 400 × 400 grid:
 * from 1.19 (bar) to 3.14 (disc). 'even-motifs' scales every shape to EVEN_AREA.
 * Measured once per shape, on first use.
 */
const shapeAreas = new Map<(typeof SHAPES)[number], number>();
function shapeArea(shape: (typeof SHAPES)[number]): number {
  let area = shapeAreas.get(shape);
  if (area === undefined) {
    const n = 400;
    let on = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (inside(shape, -1.05 + (2.1 * (i + 0.5)) / n, -1.05 + (2.1 * (j + 0.5)) / n)) on++;
    shapeAreas.set(shape, (area = (on * 2.1 * 2.1) / (n * n)));
  }
  return area;
}
const EVEN_AREA = 2;

/** Whether pixel (x, y) lies on copy `c` of `shape`. */
function covers(shape: (typeof SHAPES)[number], c: Copy, x: number, y: number): boolean {
  const u = ((x - c.cx) * c.cos + (y - c.cy) * c.sin) / c.scale;
  const v = (-(x - c.cx) * c.sin + (y - c.cy) * c.cos) / c.scale;
  return Math.abs(u) <= 1.05 && Math.abs(v) <= 1.05 && inside(shape, u, v);
}

function drawScattered(width: number, height: number, cls: number, rng: Rng): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const side = Math.min(width, height);
  const grey = 50 + 100 * rng.next();
  const noise = valueNoise(width, height, rng);
  const shape = SHAPES[cls % SHAPES.length];
  // Three to five copies, large enough to span a patch after the 128 -> 64 px resize of
  // the demo's global crops, and many enough that most local crops hold part of one.
  const count = 3 + Math.floor(3 * rng.next());
  const copies: (Copy & { colour: [number, number, number] })[] = [];
  for (let i = 0; i < count; i++) {
    const rot = rng.uniform(-0.4, 0.4);
    copies.push({
      cx: width * rng.next(),
      cy: height * rng.next(),
      scale: side * (0.12 + 0.1 * rng.next()),
      cos: Math.cos(rot),
      sin: Math.sin(rot),
      colour: [0, 0, 0].map(() => 205 + 30 * rng.next()) as [number, number, number],
    });
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = y * width + x;
      let base: [number, number, number] = [grey, grey, grey];
      // Later copies lie on top of earlier ones.
      for (const c of copies) if (covers(shape, c, x, y)) base = c.colour;
      const n = 40 * noise[k] + (rng.next() - 0.5) * 10;
      for (let ch = 0; ch < 3; ch++) rgb[k * 3 + ch] = Math.max(0, Math.min(255, Math.round(base[ch] + n)));
    }
  }
  return rgb;
}

/**
 * The 'motifs' style. Shapes sit on a lattice of spacing 15-20 % of the picture side with a
 * jitter of 15 % of the spacing, so a 64-px global crop holds 9 to 40 of them and a local
 * crop one or more, each covering about one 16-px patch after the resize. Hue follows a
 * 1/f noise field with a range of 1.5 turns, so it changes within a crop and between the
 * crops of one picture; shapes are light on a dark complementary background at levels
 * drawn per picture, so brightness and contrast carry no class either.
 */
function drawMotifs(width: number, height: number, cls: number, rng: Rng, even = false): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const shape = SHAPES[cls % SHAPES.length];
  // The draws happen in both variants so that a picture's other draws stay in step.
  const [spacingDraw, radiusDraw] = [rng.next(), rng.next()];
  const spacing = Math.min(width, height) * (even ? 0.175 : 0.15 + 0.05 * spacingDraw);
  const radius = even ? spacing * 0.36 * Math.sqrt(EVEN_AREA / shapeArea(shape)) : spacing * (0.36 + 0.08 * radiusDraw);
  const hueField = valueNoise(width, height, rng);
  const satField = valueNoise(width, height, rng);
  const hue0 = rng.next();
  const [shapeDraw, groundDraw] = [rng.next(), rng.next()];
  const [vShape, vGround] = even ? [0.9, 0.3] : [0.75 + 0.25 * shapeDraw, 0.15 + 0.35 * groundDraw];
  const noise = valueNoise(width, height, rng);
  const cols = Math.ceil(width / spacing) + 1;
  const rows = Math.ceil(height / spacing) + 1;
  const [ox, oy] = [spacing * rng.next(), spacing * rng.next()];
  // Cell (i, j) of the lattice, i and j from -1, holds one copy.
  const copies: Copy[] = [];
  for (let j = -1; j < rows - 1; j++) {
    for (let i = -1; i < cols - 1; i++) {
      const rot = rng.uniform(-0.4, 0.4);
      copies.push({
        cx: ox + (i + 0.5) * spacing + (rng.next() - 0.5) * 0.3 * spacing,
        cy: oy + (j + 0.5) * spacing + (rng.next() - 0.5) * 0.3 * spacing,
        scale: radius * (0.85 + 0.3 * rng.next()),
        cos: Math.cos(rot),
        sin: Math.sin(rot),
      });
    }
  }
  for (let y = 0; y < height; y++) {
    const gy = Math.floor((y - oy) / spacing);
    for (let x = 0; x < width; x++) {
      const k = y * width + x;
      const gx = Math.floor((x - ox) / spacing);
      // A jittered copy reaches at most into the neighbouring cells.
      let on = false;
      for (let j = gy - 1; j <= gy + 1 && !on; j++) {
        for (let i = gx - 1; i <= gx + 1 && !on; i++) {
          if (i >= -1 && j >= -1 && i < cols - 1 && j < rows - 1) on = covers(shape, copies[(j + 1) * cols + (i + 1)], x, y);
        }
      }
      const h = (hue0 + 1.5 * hueField[k] + 10) % 1;
      const sat = Math.max(0, Math.min(1, 0.55 + 0.8 * satField[k]));
      const colour = on ? hsv(h, sat, vShape) : hsv((h + 0.5) % 1, sat * 0.6, vGround);
      const n = 30 * noise[k] + (rng.next() - 0.5) * 10;
      for (let ch = 0; ch < 3; ch++) rgb[k * 3 + ch] = Math.max(0, Math.min(255, Math.round(colour[ch] + n)));
    }
  }
  return rgb;
}
