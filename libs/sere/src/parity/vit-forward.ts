/** Parity of the backbone and its self-relations with vit_forward.json (spec §1, §4.1). */
import * as T from '@sere/torch';
import { vitConfig, VitConfig } from '../model/arch';
import { PosEmbedInterpolator } from '../model/pos-embed';
import { VisionTransformer } from '../model/vit';
import { Check, checkClose } from './compare';
import { FixtureNode, within } from './fixture-node';
import { fixtureToTensor, loadFixtureWeights } from './fixture-tensor';

/** The backbone a fixture's `vit` config describes; sizes that cannot tile fail naming the field. */
export function fixtureVitConfig(c: FixtureNode, opts: Partial<VitConfig>): VitConfig {
  const patch = c.dim('patch_size');
  const d = c.dim('embed_dim');
  const heads = c.dim('num_heads');
  if (d % heads) c.at('num_heads').fail(`a divisor of embed_dim ${d}`);
  const imgSize = c.dim('img_size');
  if (imgSize % patch) c.at('img_size').fail(`a multiple of patch_size ${patch}`);
  if (c.dim('local_size') % patch) c.at('local_size').fail(`a multiple of patch_size ${patch}`);
  return vitConfig({ name: 'fixture', embedDim: d, depth: c.dim('depth'), numHeads: heads, mlpRatio: c.num('mlp_ratio') }, patch, {
    imgSize,
    channelDivisorGlobal: c.num('channel_sere_size_global'),
    channelDivisorLocal: c.num('channel_sere_size_local'),
    ...opts,
  });
}

export function checkVitForward(fx: FixtureNode, device = 'cpu'): Check[] {
  const c = fx.at('config');
  const patch = c.dim('patch_size');
  const cfg = fixtureVitConfig(c, { maskedEmbed: true, localHeads: true });
  const inputs = fx.at('inputs');
  return T.scope(() => {
    const vit = VisionTransformer.create(cfg, device);
    const interp = new PosEmbedInterpolator();
    try {
      loadFixtureWeights(fx.at('weights'), [['', vit.params]], device);
      const checks: Check[] = [];
      const gLocal = c.dim('local_size') / patch;
      const pos = T.noGrad(() => interp.apply(vit.params.get('pos_embed'), gLocal));
      checks.push(checkClose('vit_forward/pos_embed_interpolated_local', pos, fx.tensor('pos_embed_interpolated_local')));
      for (const [name, cs] of fx.entries('cases')) {
        const x = fixtureToTensor(inputs.tensor(cs.str('input'), { shape: [null, 3, null, null] }), device);
        const [batch, , height, width] = x.shape;
        if (height % patch || width % patch) inputs.at(cs.str('input')).fail(`images whose sides are multiples of patch_size ${patch}`);
        const maskName = cs.opt('mask')?.str();
        const mask = maskName ? fixtureToTensor(inputs.tensor(maskName, { dtype: 'bool', shape: [batch, height / patch, width / patch] }), device) : null;
        const localHeads = cs.bool('local_crop');
        const out = within(cs, 'the forward pass', () => T.noGrad(() => vit.forward(x, { mask, localHeads, branches: ['z', 'p'], keepBlocks: true })));
        const pre = `vit_forward/${name}`;
        checks.push(checkClose(`${pre}/tokens`, out.tokens, cs.tensor('tokens')));
        const blocks = cs.tensors('block_outputs');
        if (blocks.length !== cfg.depth) cs.at('block_outputs').fail(`a list of ${cfg.depth} (config depth)`);
        blocks.forEach((b, i) => checks.push(checkClose(`${pre}/block_outputs[${i}]`, out.blocks![i], b)));
        checks.push(checkClose(`${pre}/prenorm_tokens`, out.prenorm, cs.tensor('prenorm_tokens')));
        checks.push(checkClose(`${pre}/relation_channel_z`, out.relations.z!.channel, cs.tensor('relation_channel_z')));
        checks.push(checkClose(`${pre}/relation_channel_p`, out.relations.p!.channel, cs.tensor('relation_channel_p')));
        checks.push(checkClose(`${pre}/relation_pixel_z`, out.relations.z!.pixel, cs.tensor('relation_pixel_z')));
        checks.push(checkClose(`${pre}/relation_pixel_p`, out.relations.p!.pixel, cs.tensor('relation_pixel_p')));
      }
      return checks;
    } finally {
      interp.dispose();
      vit.dispose();
    }
  });
}
