/**
 * Student and teacher: each a ViT backbone (with its SERE heads) and an iBOT head.
 * The teacher starts as a copy of the student and then follows it by EMA (spec §6).
 */
import * as T from '@sere/torch';
import { VitConfig } from './arch';
import { HeadConfig, IBOTHead } from './ibot-head';
import { ParamStore } from './params';
import { VisionTransformer } from './vit';

export interface Network {
  backbone: VisionTransformer;
  head: IBOTHead;
}

export interface Networks {
  student: Network;
  teacher: Network;
}

/** Parameters of a network with the wrapper prefixes of the reference ("backbone.", "head."). */
export function namedParameters(net: Network): [string, T.Tensor][] {
  return [
    ...net.backbone.params.named().map(([k, v]) => [`backbone.${k}`, v] as [string, T.Tensor]),
    ...net.head.params.named().map(([k, v]) => [`head.${k}`, v] as [string, T.Tensor]),
  ];
}

/** Trainable parameters (frozen weight-norm gains excluded), in reference order. */
export function trainableParameters(net: Network): [string, T.Tensor][] {
  return namedParameters(net).filter(([, t]) => t.requiresGrad);
}

export function stateDict(net: Network): Map<string, T.Tensor> {
  const out = new Map<string, T.Tensor>();
  for (const [k, v] of net.backbone.params.stateDict()) out.set(`backbone.${k}`, v);
  for (const [k, v] of net.head.params.stateDict()) out.set(`head.${k}`, v);
  return out;
}

export function loadStateDict(net: Network, values: Map<string, T.Tensor>, opts: { strict?: boolean; source?: string } = {}): void {
  const split = (prefix: string) =>
    new Map([...values].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v] as [string, T.Tensor]));
  if (opts.strict) {
    for (const k of values.keys()) {
      if (!k.startsWith('backbone.') && !k.startsWith('head.')) throw new Error(`${opts.source ?? 'state dict'}: unexpected key '${k}'`);
    }
  }
  net.backbone.params.load(split('backbone.'), opts);
  net.head.params.load(split('head.'), opts);
}

export function createNetworks(
  studentVit: VitConfig,
  studentHead: HeadConfig,
  teacherHead: HeadConfig,
  device = 'cpu',
): Networks {
  const student = { backbone: VisionTransformer.create(studentVit, device), head: IBOTHead.create(studentHead, device) };
  const teacherVit = { ...studentVit, dropPath: 0, maskedEmbed: false };
  const teacher = { backbone: VisionTransformer.create(teacherVit, device), head: IBOTHead.create(teacherHead, device) };
  // The teacher starts as an exact copy of the student (every shared name).
  T.noGrad(() => loadStateDict(teacher, stateDict(student)));
  for (const [, p] of namedParameters(teacher)) p.setRequiresGrad(false);
  return { student, teacher };
}

export function disposeNetworks(n: Networks): void {
  for (const net of [n.student, n.teacher]) {
    net.backbone.dispose();
    net.head.dispose();
  }
}

export function fromParamStores(
  vit: VitConfig,
  head: HeadConfig,
  backbone: ParamStore,
  headParams: ParamStore,
): Network {
  return { backbone: new VisionTransformer(vit, backbone), head: new IBOTHead(head, headParams) };
}
