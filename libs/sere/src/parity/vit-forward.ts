/** Parity of the backbone and its self-relations with vit_forward.json (spec §1, §4.1). */
import * as T from '@sere/torch';
import { vitConfig } from '../arch';
import { ParamStore } from '../params';
import { PosEmbedInterpolator } from '../pos-embed';
import { VisionTransformer } from '../vit';
import { Check, checkClose } from './compare';
import { fixtureToTensor, fixtureWeights, FixtureTensor } from './fixture-tensor';

interface VitCase {
  input: string;
  mask: string | null;
  local_crop: boolean;
  tokens: FixtureTensor;
  block_outputs: FixtureTensor[];
  prenorm_tokens: FixtureTensor;
  relation_channel_z: FixtureTensor;
  relation_channel_p: FixtureTensor;
  relation_pixel_z: FixtureTensor;
  relation_pixel_p: FixtureTensor;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkVitForward(fx: any, device = 'cpu'): Check[] {
  const c = fx.config;
  const cfg = vitConfig(
    { name: 'fixture', embedDim: c.embed_dim, depth: c.depth, numHeads: c.num_heads, mlpRatio: c.mlp_ratio },
    c.patch_size,
    {
      imgSize: c.img_size,
      channelDivisorGlobal: c.channel_sere_size_global,
      channelDivisorLocal: c.channel_sere_size_local,
      maskedEmbed: true,
      localHeads: true,
    },
  );
  return T.scope(() => {
    const params = fixtureWeights(fx.weights, device);
    const vit = new VisionTransformer(cfg, new ParamStore());
    for (const [k, v] of params) {
      if (k.endsWith('running_mean') || k.endsWith('running_var')) vit.params.addBuffer(k, v);
      else vit.params.add(k, v, false);
    }
    const checks: Check[] = [];
    const gLocal = c.local_size / c.patch_size;
    const interp = new PosEmbedInterpolator();
    const pos = T.noGrad(() => interp.apply(vit.params.get('pos_embed'), gLocal));
    checks.push(checkClose('vit_forward/pos_embed_interpolated_local', pos, fx.pos_embed_interpolated_local));
    interp.dispose();
    for (const [name, cs] of Object.entries(fx.cases as Record<string, VitCase>)) {
      const x = fixtureToTensor(fx.inputs[cs.input], device);
      const mask = cs.mask ? fixtureToTensor(fx.inputs[cs.mask], device) : null;
      const out = T.noGrad(() => vit.forward(x, { mask, localHeads: cs.local_crop, branches: ['z', 'p'], keepBlocks: true }));
      const pre = `vit_forward/${name}`;
      checks.push(checkClose(`${pre}/tokens`, out.tokens, cs.tokens));
      cs.block_outputs.forEach((b, i) => checks.push(checkClose(`${pre}/block_outputs[${i}]`, out.blocks![i], b)));
      checks.push(checkClose(`${pre}/prenorm_tokens`, out.prenorm, cs.prenorm_tokens));
      checks.push(checkClose(`${pre}/relation_channel_z`, out.relations.z!.channel, cs.relation_channel_z));
      checks.push(checkClose(`${pre}/relation_channel_p`, out.relations.p!.channel, cs.relation_channel_p));
      checks.push(checkClose(`${pre}/relation_pixel_z`, out.relations.z!.pixel, cs.relation_pixel_z));
      checks.push(checkClose(`${pre}/relation_pixel_p`, out.relations.p!.pixel, cs.relation_pixel_p));
    }
    vit.dispose();
    return checks;
  });
}
