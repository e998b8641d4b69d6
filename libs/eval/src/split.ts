/**
 * The labelled images of an evaluation: a train folder and a validation folder (ImageNet
 * layout, labels by class folder name), or one folder split per class.
 *
 * The split holds out round(fraction · m) of each class's m images (at least one when the
 * class has two or more, never all of them), chosen by a permutation seeded with (seed,
 * class index): the same files on every machine, for every checkpoint, so scores of
 * different checkpoints compare; and independent of file-name order, which often follows
 * capture order.
 */
import { Rng } from '@sere/augment';
import { DataError, indexImageFolder, type IndexEntry } from '@sere/dataset';

const DOMAIN_SPLIT = 0x73706c74; // 'splt'

export interface LabelledImage {
  path: string;
  label: number;
}

export interface EvalSplit {
  classes: string[];
  train: LabelledImage[];
  val: LabelledImage[];
  /** How the validation images were chosen, for the report. */
  description: string;
}

export interface SplitOptions {
  trainDir: string;
  valDir?: string;
  /** Without valDir: the fraction of each class held out (default 0.2). */
  valFraction?: number;
  seed?: number;
}

/** Splits index entries per class; both halves keep the index order. */
export function splitPerClass(entries: readonly IndexEntry[], fraction: number, seed = 0): { train: LabelledImage[]; val: LabelledImage[] } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`eval split: the validation fraction must be in (0, 1), got ${fraction}`);
  const byClass = new Map<number, number[]>();
  entries.forEach((e, i) => {
    const list = byClass.get(e.label) ?? [];
    list.push(i);
    byClass.set(e.label, list);
  });
  const held = new Set<number>();
  for (const [label, rows] of byClass) {
    const m = rows.length;
    const count = m < 2 ? 0 : Math.min(m - 1, Math.max(1, Math.round(fraction * m)));
    const perm = Rng.fromKey([DOMAIN_SPLIT, seed >>> 0, label]).permutation(m);
    for (let i = 0; i < count; i++) held.add(rows[perm[i]]);
  }
  const pick = (e: IndexEntry) => ({ path: e.path, label: e.label });
  return {
    train: entries.filter((_, i) => !held.has(i)).map(pick),
    val: entries.filter((_, i) => held.has(i)).map(pick),
  };
}

export async function evalSplit(opts: SplitOptions): Promise<EvalSplit> {
  const train = await indexImageFolder(opts.trainDir);
  if (!opts.valDir) {
    const fraction = opts.valFraction ?? 0.2;
    const seed = opts.seed ?? 0;
    const parts = splitPerClass(train.entries, fraction, seed);
    if (parts.val.length === 0) throw new DataError(`eval split: ${train.root} has no class with two or more images to hold one out`);
    return { classes: train.classes, ...parts, description: `${Math.round(fraction * 100)} % of each class of ${train.root} (seed ${seed})` };
  }
  const val = await indexImageFolder(opts.valDir);
  const labelOf = new Map(train.classes.map((c, i) => [c, i]));
  const unknown = val.classes.filter((c) => !labelOf.has(c));
  if (unknown.length > 0) {
    throw new DataError(`validation folder ${val.root} has class folders that ${train.root} lacks: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
  }
  return {
    classes: train.classes,
    train: train.entries.map((e) => ({ path: e.path, label: e.label })),
    val: val.entries.map((e) => ({ path: e.path, label: labelOf.get(val.classes[e.label])! })),
    description: `folder ${val.root}`,
  };
}
