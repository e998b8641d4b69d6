/** A small backbone and image folder shared by the feature and report specs (fast on a CPU). */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { synthDataset } from '@sere/dataset';
import { VisionTransformer, vitConfig } from '@sere/sere';
import * as T from '@sere/torch';

/** A 4-block, 32-wide ViT with 8-px patches: 32-px crops are 4×4 tokens. */
export function smallBackbone(seed: number): VisionTransformer {
  T.manualSeed(seed);
  return VisionTransformer.create(vitConfig({ name: 'spec', embedDim: 32, depth: 4, numHeads: 2, mlpRatio: 2 }, 8, { localHeads: false }));
}

/**
 * 3 classes × 4 JPEGs of 40×40 px, plus one file in class_00 that is not an image (the
 * extractor must skip and list it). Returns the root folder.
 */
export async function smallFolder(dir: string): Promise<string> {
  const root = path.join(dir, 'images');
  await synthDataset(root, { classes: 3, perClass: 4, size: 40, seed: 1 });
  await fs.writeFile(path.join(root, 'class_00', 'zz_not_an_image.jpg'), 'this is text, not a JPEG');
  return root;
}
