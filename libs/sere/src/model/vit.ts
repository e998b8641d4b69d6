/**
 * The Vision Transformer backbone of SERE (spec §1) with its self-relation heads.
 * Parameters live in a ParamStore under the reference's state-dict names.
 */
import * as T from '@sere/torch';
import { VitConfig } from './arch';
import { truncNormal, uniformFanIn } from './init';
import { ParamStore } from './params';
import { PosEmbedInterpolator } from './pos-embed';
import type { BatchNormSync } from '../distributed/sync-batch-norm';
import { Branch, channelRelation, headFeatures, initRelationHead, pixelRelation } from './relation-heads';

const LN_EPS = 1e-6;

export interface ForwardOptions {
  /** iBOT mask [B, g, g] (bool): patch embeddings replaced by the mask token (student, global crops). */
  mask?: T.Tensor | null;
  /** Use the *_local SERE heads and the local channel divisor. */
  localHeads?: boolean;
  /** Relation branches to compute: teacher uses 'z', student 'p' (spec §4.1). */
  branches?: Branch[];
  /** Apply stochastic depth (student in training). */
  dropPath?: boolean;
  /** Keep every block's output (parity checks). */
  keepBlocks?: boolean;
}

export interface Relations {
  channel: T.Tensor; // [B, D, D]
  pixel: T.Tensor; // [B, H, n, n]
}

export interface BackboneOutput {
  tokens: T.Tensor; // [B, 1+n, D] after the final LayerNorm
  prenorm: T.Tensor; // last block output
  relations: Partial<Record<Branch, Relations>>;
  blocks?: T.Tensor[];
}

export class VisionTransformer {
  private readonly pos = new PosEmbedInterpolator();
  /**
   * Set on several ranks: the relation heads' batch norms become SyncBatchNorms, as the
   * reference converts them (spec §4.1). Null in one process.
   */
  syncBatchNorm: BatchNormSync | null = null;

  constructor(
    readonly cfg: VitConfig,
    readonly params: ParamStore,
  ) {}

  /** Creates freshly initialised parameters (spec §1.6) in the reference's order. */
  static create(cfg: VitConfig, device = 'cpu'): VisionTransformer {
    const p = new ParamStore();
    const d = cfg.embedDim;
    const g = cfg.imgSize / cfg.patchSize;
    T.scope(() => {
      p.add('cls_token', truncNormal([1, 1, d], 0.02, device));
      p.add('pos_embed', truncNormal([1, 1 + g * g, d], 0.02, device));
      if (cfg.maskedEmbed) p.add('masked_embed', T.zeros([1, d], { device }));
      const fanIn = 3 * cfg.patchSize * cfg.patchSize;
      p.add('patch_embed.proj.weight', uniformFanIn([d, 3, cfg.patchSize, cfg.patchSize], fanIn, device));
      p.add('patch_embed.proj.bias', uniformFanIn([d], fanIn, device));
      const hidden = Math.round(d * cfg.mlpRatio);
      const linear = (name: string, out: number, inp: number) => {
        p.add(`${name}.weight`, truncNormal([out, inp], 0.02, device));
        p.add(`${name}.bias`, T.zeros([out], { device }));
      };
      const norm = (name: string) => {
        p.add(`${name}.weight`, T.ones([d], { device }));
        p.add(`${name}.bias`, T.zeros([d], { device }));
      };
      for (let i = 0; i < cfg.depth; i++) {
        norm(`blocks.${i}.norm1`);
        linear(`blocks.${i}.attn.qkv`, 3 * d, d);
        linear(`blocks.${i}.attn.proj`, d, d);
        norm(`blocks.${i}.norm2`);
        linear(`blocks.${i}.mlp.fc1`, hidden, d);
        linear(`blocks.${i}.mlp.fc2`, d, hidden);
      }
      norm('norm');
      for (const head of ['channel_sere', 'pixel_sere']) initRelationHead(p, head, d, device);
      if (cfg.localHeads) for (const head of ['channel_sere_local', 'pixel_sere_local']) initRelationHead(p, head, d, device);
    });
    return new VisionTransformer(cfg, p);
  }

  private dropPathRate(block: number): number {
    const { depth, dropPath } = this.cfg;
    return depth > 1 ? (dropPath * block) / (depth - 1) : 0;
  }

  /** Per-sample stochastic depth: keep with probability 1−r and rescale the kept samples. */
  private dropPath(x: T.Tensor, rate: number): T.Tensor {
    if (rate === 0) return x;
    const keep = 1 - rate;
    const b = x.shape[0];
    const m = T.call<T.Tensor>('aten::floor', '', [T.rand([b, 1, 1], { device: x.device, dtype: x.dtype }).add(keep)]);
    return x.mul(m.div(keep));
  }

  private block(i: number, x: T.Tensor, drop: boolean): T.Tensor {
    const p = this.params;
    const pre = `blocks.${i}`;
    const [b, n, d] = x.shape;
    const h = this.cfg.numHeads;
    const hd = d / h;
    const rate = drop ? this.dropPathRate(i) : 0;

    const y = T.layerNorm(x, p.get(`${pre}.norm1.weight`), p.get(`${pre}.norm1.bias`), LN_EPS);
    const qkv = T.linear(y, p.get(`${pre}.attn.qkv.weight`), p.get(`${pre}.attn.qkv.bias`))
      .view(b, n, 3, h, hd)
      .permute(2, 0, 3, 1, 4);
    const [q, k, v] = [qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2)];
    const att = T.attention(q, k, v, hd ** -0.5).transpose(1, 2).reshape(b, n, d);
    const attOut = T.linear(att, p.get(`${pre}.attn.proj.weight`), p.get(`${pre}.attn.proj.bias`));
    x = x.add(this.dropPath(attOut, rate));

    const z = T.layerNorm(x, p.get(`${pre}.norm2.weight`), p.get(`${pre}.norm2.bias`), LN_EPS);
    const hidden = T.gelu(T.linear(z, p.get(`${pre}.mlp.fc1.weight`), p.get(`${pre}.mlp.fc1.bias`)));
    const mlpOut = T.linear(hidden, p.get(`${pre}.mlp.fc2.weight`), p.get(`${pre}.mlp.fc2.bias`));
    return x.add(this.dropPath(mlpOut, rate));
  }

  /** Patch embedding, mask-token substitution, CLS token and positional embedding (spec §1.3, steps 1–4). */
  embed(x: T.Tensor, mask?: T.Tensor | null): T.Tensor {
    const p = this.params;
    const [b, , hgt, wid] = x.shape;
    const P = this.cfg.patchSize;
    if (hgt % P !== 0 || wid % P !== 0) throw new Error(`input of ${hgt}x${wid} px is not a multiple of the patch size ${P}`);
    let e = T.conv2d(x, p.get('patch_embed.proj.weight'), p.get('patch_embed.proj.bias'), P); // [B, D, gh, gw]
    const d = e.shape[1];
    if (mask) {
      const token = p.get('masked_embed').view(1, d, 1, 1).to({ dtype: e.dtype });
      e = T.where(mask.unsqueeze(1), token, e);
    }
    const tokens = e.flatten(2).transpose(1, 2);
    const cls = p.get('cls_token').expand(b, 1, d).to({ dtype: tokens.dtype });
    const gh = hgt / P;
    if (gh !== wid / P) throw new Error(`input of ${hgt}x${wid} px is not square`);
    const pos = this.pos.apply(p.get('pos_embed'), gh);
    return T.cat([cls, tokens], 1).add(pos);
  }

  forward(x: T.Tensor, opts: ForwardOptions = {}): BackboneOutput {
    const p = this.params;
    let h = this.embed(x, opts.mask);
    const blocks: T.Tensor[] = [];
    for (let i = 0; i < this.cfg.depth; i++) {
      h = this.block(i, h, !!opts.dropPath);
      if (opts.keepBlocks) blocks.push(h);
    }
    const tokens = T.layerNorm(h, p.get('norm.weight'), p.get('norm.bias'), LN_EPS);
    const relations: Partial<Record<Branch, Relations>> = {};
    const branches = opts.branches ?? [];
    if (branches.length) {
      // The heads read the patch tokens before the final norm (spec §1.3 step 6).
      const features = h.slice(1, 1, h.shape[1]).transpose(1, 2); // [B, D, n]
      const suffix = opts.localHeads ? '_local' : '';
      const divisor = opts.localHeads ? this.cfg.channelDivisorLocal : this.cfg.channelDivisorGlobal;
      const channel = headFeatures(p, `channel_sere${suffix}`, features, branches, this.syncBatchNorm);
      const pixel = headFeatures(p, `pixel_sere${suffix}`, features, branches, this.syncBatchNorm);
      for (const br of branches) {
        relations[br] = {
          channel: channelRelation(channel[br]!, divisor),
          pixel: pixelRelation(pixel[br]!, this.cfg.numHeads),
        };
      }
    }
    return { tokens, prenorm: h, relations, blocks: opts.keepBlocks ? blocks : undefined };
  }

  dispose(): void {
    this.pos.dispose();
    this.params.dispose();
  }
}
