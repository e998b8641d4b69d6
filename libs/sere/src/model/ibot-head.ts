/**
 * The iBOT projection head (spec §2): a 3-layer GELU MLP to a bottleneck, L2
 * normalisation, then weight-normalised bias-free last layers — `last_layer` for the CLS
 * token and `last_layer2` for patch tokens (the same module when the head is shared).
 */
import * as T from '@sere/torch';
import { truncNormal, uniformFanIn } from './init';
import { ParamStore } from './params';

export interface HeadConfig {
  inDim: number;
  outDim: number;
  patchOutDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  nlayers: number;
  sharedHead: boolean;
  /** Freeze the weight-norm gains at 1 (they still exist and are EMA-copied). */
  normLastLayer: boolean;
}

export function headConfig(inDim: number, o: Partial<HeadConfig> = {}): HeadConfig {
  return {
    inDim,
    outDim: 8192,
    patchOutDim: 8192,
    hiddenDim: 2048,
    bottleneckDim: 256,
    nlayers: 3,
    sharedHead: true,
    normLastLayer: true,
    ...o,
  };
}

export class IBOTHead {
  constructor(
    readonly cfg: HeadConfig,
    readonly params: ParamStore,
  ) {}

  static create(cfg: HeadConfig, device = 'cpu'): IBOTHead {
    const p = new ParamStore();
    T.scope(() => {
      const dims = [cfg.inDim, ...Array(cfg.nlayers - 1).fill(cfg.hiddenDim), cfg.bottleneckDim];
      for (let i = 0; i < cfg.nlayers; i++) {
        p.add(`mlp.${2 * i}.weight`, truncNormal([dims[i + 1], dims[i]], 0.02, device));
        p.add(`mlp.${2 * i}.bias`, T.zeros([dims[i + 1]], { device }));
      }
      const lastLayer = (name: string, out: number) => {
        p.add(`${name}.weight_g`, T.ones([out, 1], { device }), !cfg.normLastLayer);
        p.add(`${name}.weight_v`, uniformFanIn([out, cfg.bottleneckDim], cfg.bottleneckDim, device));
      };
      lastLayer('last_layer', cfg.outDim);
      if (cfg.sharedHead) {
        p.aliases.set('last_layer2.weight_g', 'last_layer.weight_g');
        p.aliases.set('last_layer2.weight_v', 'last_layer.weight_v');
      } else {
        lastLayer('last_layer2', cfg.patchOutDim);
      }
    });
    return new IBOTHead(cfg, p);
  }

  /** MLP + L2 normalisation: the bottleneck features of every token. */
  bottleneck(x: T.Tensor): T.Tensor {
    const p = this.params;
    let h = x;
    for (let i = 0; i < this.cfg.nlayers; i++) {
      h = T.linear(h, p.get(`mlp.${2 * i}.weight`), p.get(`mlp.${2 * i}.bias`));
      if (i < this.cfg.nlayers - 1) h = T.gelu(h);
    }
    return T.l2Normalize(h, -1);
  }

  /** W = g ⊙ v / ‖v‖ per output row. */
  lastLayerWeight(name: 'last_layer' | 'last_layer2'): T.Tensor {
    const g = this.params.get(`${name}.weight_g`);
    const v = this.params.get(`${name}.weight_v`);
    return v.mul(g.div(T.norm(v, [1], true)));
  }

  /** CLS outputs [B, K] from bottleneck features of CLS tokens [B, bottleneck]. */
  cls(bottleneckCls: T.Tensor): T.Tensor {
    return T.linear(bottleneckCls, this.lastLayerWeight('last_layer'));
  }

  /** Patch outputs [..., K_patch] from bottleneck features of patch tokens. */
  patch(bottleneckPatches: T.Tensor): T.Tensor {
    return T.linear(bottleneckPatches, this.lastLayerWeight(this.cfg.sharedHead ? 'last_layer' : 'last_layer2'));
  }

  /** Full forward on all tokens [B, 1+N, D] → {cls [B,K], patch [B,N,K2]}, as the reference. */
  forward(tokens: T.Tensor): { cls: T.Tensor; patch: T.Tensor } {
    const z = this.bottleneck(tokens);
    const n = z.shape[1];
    return { cls: this.cls(z.select(1, 0)), patch: this.patch(z.slice(1, 1, n)) };
  }

  dispose(): void {
    this.params.dispose();
  }
}
