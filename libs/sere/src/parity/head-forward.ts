/** Parity of the iBOT head with head_forward.json (spec §2). */
import * as T from '@sere/torch';
import { IBOTHead } from '../ibot-head';
import { ParamStore } from '../params';
import { Check, checkClose } from './compare';
import { fixtureToTensor, fixtureWeights } from './fixture-tensor';

/** Builds a head from fixture weights (names as the reference state dict). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function headFromFixture(c: any, weights: Map<string, T.Tensor>): IBOTHead {
  const p = new ParamStore();
  for (const [k, v] of weights) {
    const frozen = c.norm_last_layer && k.endsWith('weight_g');
    if (c.shared_head && k.startsWith('last_layer2.')) p.aliases.set(k, k.replace('last_layer2', 'last_layer'));
    else p.add(k, v, !frozen);
  }
  return new IBOTHead(
    {
      inDim: c.in_dim,
      outDim: c.out_dim,
      patchOutDim: c.patch_out_dim,
      hiddenDim: c.hidden_dim,
      bottleneckDim: c.bottleneck_dim,
      nlayers: c.nlayers,
      sharedHead: c.shared_head,
      normLastLayer: c.norm_last_layer,
    },
    p,
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkHeadForward(fx: any, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  T.scope(() => {
    const tokens = fixtureToTensor(fx.inputs.tokens, device);
    const flat = fixtureToTensor(fx.inputs.flat, device);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const [name, h] of Object.entries(fx.heads as Record<string, any>)) {
      const head = headFromFixture(h.config, fixtureWeights(h.weights, device));
      T.noGrad(() => {
        const pre = `head_forward/${name}`;
        const out = head.forward(tokens);
        checks.push(checkClose(`${pre}/cls`, out.cls, h.outputs.cls));
        checks.push(checkClose(`${pre}/patch`, out.patch, h.outputs.patch));
        checks.push(checkClose(`${pre}/flat_input_output`, head.cls(head.bottleneck(flat)), h.outputs.flat_input_output));
        checks.push(checkClose(`${pre}/bottleneck_l2normalized`, head.bottleneck(tokens), h.outputs.bottleneck_l2normalized));
        for (const [ln, w] of Object.entries(h.effective_last_layer_weight)) {
          checks.push(checkClose(`${pre}/effective_weight/${ln}`, head.lastLayerWeight(ln as 'last_layer'), w as never));
        }
      });
      head.dispose();
    }
  });
  return checks;
}
