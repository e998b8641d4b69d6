/** Parity of the iBOT head with head_forward.json (spec §2). */
import * as T from '@sere/torch';
import { HeadConfig, IBOTHead } from '../model/ibot-head';
import { Check, checkClose } from './compare';
import { FixtureError, FixtureNode, within } from './fixture-node';
import { fixtureToTensor, loadFixtureWeights } from './fixture-tensor';

/**
 * The head a fixture head config describes. Its input width and its sharing and
 * normalisation flags come from the caller: full_step.json keeps them elsewhere or per network.
 */
export function fixtureHeadConfig(c: FixtureNode, inDim: number, sharedHead: boolean, normLastLayer: boolean): HeadConfig {
  return {
    inDim,
    outDim: c.dim('out_dim'),
    patchOutDim: c.dim('patch_out_dim'),
    hiddenDim: c.dim('hidden_dim'),
    bottleneckDim: c.dim('bottleneck_dim'),
    nlayers: c.dim('nlayers'),
    sharedHead,
    normLastLayer,
  };
}

/** Builds a head of a fixture head config and loads its weights (names as the reference state dict). */
export function headFromFixture(c: FixtureNode, weights: FixtureNode, device = 'cpu'): IBOTHead {
  const head = IBOTHead.create(fixtureHeadConfig(c, c.dim('in_dim'), c.bool('shared_head'), c.bool('norm_last_layer')), device);
  try {
    loadFixtureWeights(weights, [['', head.params]], device);
  } catch (e) {
    head.dispose();
    throw e;
  }
  return head;
}

export function checkHeadForward(fx: FixtureNode, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  T.scope(() => {
    const inputs = fx.at('inputs');
    for (const [name, h] of fx.entries('heads')) {
      const inDim = h.at('config').dim('in_dim');
      const tokens = fixtureToTensor(inputs.tensor('tokens', { shape: [null, null, inDim] }), device);
      const flat = fixtureToTensor(inputs.tensor('flat', { shape: [null, inDim] }), device);
      const head = headFromFixture(h.at('config'), h.at('weights'), device);
      try {
        const outputs = h.at('outputs');
        within(h, 'the head forward pass', () => T.noGrad(() => {
          const pre = `head_forward/${name}`;
          const out = head.forward(tokens);
          checks.push(checkClose(`${pre}/cls`, out.cls, outputs.tensor('cls')));
          checks.push(checkClose(`${pre}/patch`, out.patch, outputs.tensor('patch')));
          checks.push(checkClose(`${pre}/flat_input_output`, head.cls(head.bottleneck(flat)), outputs.tensor('flat_input_output')));
          checks.push(checkClose(`${pre}/bottleneck_l2normalized`, head.bottleneck(tokens), outputs.tensor('bottleneck_l2normalized')));
          for (const [ln, w] of h.entries('effective_last_layer_weight')) {
            if (ln !== 'last_layer' && ln !== 'last_layer2') throw new FixtureError(`${w.path}: not a last layer (expected last_layer or last_layer2)`);
            checks.push(checkClose(`${pre}/effective_weight/${ln}`, head.lastLayerWeight(ln), w.tensor()));
          }
        }));
      } finally {
        head.dispose();
      }
    }
  });
  return checks;
}
