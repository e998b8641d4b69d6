/**
 * The frozen teacher backbone of a training checkpoint, ready for evaluation. Loading
 * checks that every backbone weight is present: a wrong key or prefix would otherwise leave
 * the randomly initialised weights in place and the evaluation would score noise.
 */
import { archByName, stateDictOf, VisionTransformer, vitConfig } from '@sere/sere';
import * as T from '@sere/torch';

export interface BackboneSource {
  /** ViT variant (vit_tiny, vit_small, vit_base, vit_large). */
  arch: string;
  patchSize: number;
  device?: string;
  /** Entry of the checkpoint holding the state dict (default 'teacher'; null for a plain state dict). */
  key?: string | null;
  /** Prefix of the backbone's names inside that entry (default 'backbone.'; '' for a bare backbone). */
  prefix?: string;
}

export function loadTeacherBackbone(file: string, src: BackboneSource): VisionTransformer {
  return backboneFromCheckpoint(T.readPthFile(file), file, src);
}

/** The same from a checkpoint already parsed (say, from a store's bytes); `file` names it in errors. */
export function backboneFromCheckpoint(value: T.PthValue, file: string, src: BackboneSource): VisionTransformer {
  const key = src.key === undefined ? 'teacher' : src.key;
  const prefix = src.prefix ?? 'backbone.';
  // The self-relation heads are not used by the evaluation; only the backbone proper is checked.
  const vit = VisionTransformer.create(vitConfig(archByName(src.arch), src.patchSize, { localHeads: false }), src.device ?? 'cpu');
  try {
    T.scope(() => {
      const state = stateDictOf(value, file, src.device ?? 'cpu', key ?? undefined, prefix);
      const needed = [...vit.params.tensors.keys()].filter((n) => !n.includes('_sere'));
      const missing = needed.filter((n) => !state.has(n));
      if (missing.length > 0) {
        const where = `${key === null ? 'the file' : `entry '${key}'`} with prefix '${prefix}'`;
        throw new Error(`${file}: ${where} lacks backbone weight '${prefix}${missing[0]}'${missing.length > 1 ? ` and ${missing.length - 1} more` : ''} (wrong --arch, key or prefix?)`);
      }
      vit.params.load(new Map(needed.map((n) => [n, state.get(n)!])), { source: file });
    });
  } catch (e) {
    vit.dispose();
    throw e;
  }
  return vit;
}
