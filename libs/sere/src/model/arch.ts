import { FlagError } from '@sere/config';

/** ViT variants of the reference (spec §1.1). All use MLP ratio 4 and qkv bias. */
export interface VitArch {
  name: string;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
}

export const ARCHS: Record<string, VitArch> = {
  vit_tiny: { name: 'vit_tiny', embedDim: 192, depth: 12, numHeads: 3, mlpRatio: 4 },
  vit_small: { name: 'vit_small', embedDim: 384, depth: 12, numHeads: 6, mlpRatio: 4 },
  vit_base: { name: 'vit_base', embedDim: 768, depth: 12, numHeads: 12, mlpRatio: 4 },
  vit_large: { name: 'vit_large', embedDim: 1024, depth: 24, numHeads: 16, mlpRatio: 4 },
};

export function archByName(name: string): VitArch {
  const a = ARCHS[name];
  if (!a) throw new FlagError(`--arch: '${name}' is not one of ${Object.keys(ARCHS).join(', ')}`, '--arch');
  return a;
}

/** Everything the backbone needs to know about its shape. */
export interface VitConfig {
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  patchSize: number;
  /** Side of the image the positional table is built for (224 in the reference, always). */
  imgSize: number;
  /** Hard-coded channel-relation divisors of the reference (14 global, 6 local; spec §9.2). */
  channelDivisorGlobal: number;
  channelDivisorLocal: number;
  /** Student drop-path rate (linearly increasing over blocks). */
  dropPath: number;
  /** Student only: the mask token exists when masked image modelling is on. */
  maskedEmbed: boolean;
  /** Build the *_local SERE heads (the reference does when local_crops_number > 0). */
  localHeads: boolean;
}

export function vitConfig(arch: VitArch, patchSize: number, opts: Partial<VitConfig> = {}): VitConfig {
  return {
    embedDim: arch.embedDim,
    depth: arch.depth,
    numHeads: arch.numHeads,
    mlpRatio: arch.mlpRatio,
    patchSize,
    imgSize: 224,
    channelDivisorGlobal: 14,
    channelDivisorLocal: 6,
    dropPath: 0,
    maskedEmbed: false,
    localHeads: true,
    ...opts,
  };
}
