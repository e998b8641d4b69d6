/**
 * Parity of one complete training iteration with full_step.json (spec §4.6, §6): all losses,
 * the gradient of every student parameter, parameter groups, last-layer freezing, and per
 * listed parameter the clipping, the AdamW step and the EMA. A parameter without gradient
 * (the weight-norm gain with norm_last_layer) is checked as frozen: unchanged by the step,
 * and the teacher's EMA still applied to it.
 */
import * as T from '@sere/torch';
import { emaUpdate } from '../optimisation/ema';
import { maskedRows } from '../objective/ibot-loss';
import { computeObjective } from '../objective/objective';
import { AdamW, paramGroups } from '../optimisation/adamw';
import { cancelLastLayerGradients, clipGradientsPerParameter } from '../optimisation/gradients';
import { namedParameters, Network, Networks } from '../model/networks';
import { lossWeights } from '../objective/sere-loss';
import { IBOTHead } from '../model/ibot-head';
import { VisionTransformer } from '../model/vit';
import { Check, checkClose, checkGradient, checkScalar } from './compare';
import { FixtureNode, within } from './fixture-node';
import { fixtureToTensor, loadFixtureWeights } from './fixture-tensor';
import { fixtureHeadConfig } from './head-forward';
import { ibotLossFromFixture } from './ibot-loss';
import { fixtureTeacherTemps } from './schedules';
import { gridsFromFixture } from './sere-loss';
import { fixtureVitConfig } from './vit-forward';

function disposeNetwork(net: Network): void {
  net.backbone.dispose();
  net.head.dispose();
}

function networksFromFixture(fx: FixtureNode, device: string): Networks {
  const c = fx.at('config');
  const base = fixtureVitConfig(c.at('vit'), { localHeads: c.int('local_crops_number') > 0 });
  const h = c.at('head');
  const build = (maskedEmbed: boolean, shared: string, norm: string, weights: string): Network => {
    const net = {
      backbone: VisionTransformer.create({ ...base, maskedEmbed }, device),
      head: IBOTHead.create(fixtureHeadConfig(h, base.embedDim, h.bool(shared), h.bool(norm)), device),
    };
    try {
      loadFixtureWeights(fx.at(weights), [['backbone.', net.backbone.params], ['head.', net.head.params]], device);
    } catch (e) {
      disposeNetwork(net);
      throw e;
    }
    return net;
  };
  const student = build(true, 'shared_head', 'student_norm_last_layer', 'student_weights');
  let teacher: Network;
  try {
    teacher = build(false, 'shared_head_teacher', 'teacher_norm_last_layer', 'teacher_weights');
  } catch (e) {
    disposeNetwork(student);
    throw e;
  }
  for (const [, p] of namedParameters(teacher)) p.setRequiresGrad(false);
  return { student, teacher };
}

function sameNames(name: string, actual: string[], expected: string[]): Check {
  const a = [...actual].sort();
  const e = [...expected].sort();
  const missing = e.filter((x) => !a.includes(x));
  const extra = a.filter((x) => !e.includes(x));
  const ok = missing.length === 0 && extra.length === 0;
  return { name, maxAbs: ok ? 0 : Infinity, bound: 0, ok, detail: ok ? undefined : `missing [${missing}] extra [${extra}]` };
}

/** The two global crops, the local crops, masks and grids of the step, shapes from the config. */
function batchFromFixture(fx: FixtureNode, device: string) {
  const c = fx.at('config');
  const v = c.at('vit');
  const inp = fx.at('inputs');
  const B = c.dim('batch_size');
  const L = c.int('local_crops_number');
  const img = v.dim('img_size');
  const local = v.dim('local_size');
  const G = img / v.dim('patch_size');
  const globals = inp.tensors('global_crops', { dtype: 'float32', shape: [B, 3, img, img] });
  if (globals.length !== 2) inp.at('global_crops').fail('a list of 2 crops');
  const locals = inp.tensors('local_crops', { dtype: 'float32', shape: [B, 3, local, local] });
  if (locals.length !== L) inp.at('local_crops').fail(`a list of ${L} crops (config local_crops_number)`);
  const masks = inp.tensors('masks', { dtype: 'bool', shape: [B, G, G] });
  if (masks.length !== 2) inp.at('masks').fail('a list of 2 masks (one per global crop)');
  const { grids } = gridsFromFixture(c, inp, B, L, device);
  return {
    globalCrops: T.cat(globals.map((g) => fixtureToTensor(g, device)), 0),
    localCrops: locals.length ? T.cat(locals.map((g) => fixtureToTensor(g, device)), 0) : null,
    masks: T.cat(masks.map((m) => fixtureToTensor(m, device)), 0),
    rows: maskedRows(masks.map((m) => Uint8Array.from(m.values)), B, device),
    grids,
  };
}

export function checkFullStep(fx: FixtureNode, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  const c = fx.at('config');
  /** Our student's parameters: name → trainable. */
  const ours = new Map<string, boolean>();
  T.scope(() => {
    const nets = within(fx, 'building the networks from config and weights', () => networksFromFixture(fx, device));
    // Whatever a malformed file stops, the networks and the loss's centres are freed.
    const owned: { dispose(): void }[] = [nets.student.backbone, nets.student.head, nets.teacher.backbone, nets.teacher.head];
    const own = <D extends { dispose(): void }>(d: D): D => {
      owned.push(d);
      return d;
    };
    try {
      const inp = fx.at('inputs');
      const h = c.at('head');
      const ib = c.at('ibot');
      const K = h.dim('out_dim');
      const Kp = h.bool('shared_head') || h.bool('shared_head_teacher') ? K : h.dim('patch_out_dim');
      const loss = own(ibotLossFromFixture(ib, inp, K, Kp, device));
      const epoch = c.int('epoch');
      const nepochs = ib.dim('nepochs');
      if (epoch >= nepochs) c.at('epoch').fail(`an epoch below ibot.nepochs ${nepochs}`);
      const [teacherTemps, teacherPatchTemps] = within(ib, 'the teacher temperature schedules', () => fixtureTeacherTemps(ib, nepochs, ib.int('mim_start_epoch')));
      const temps = { teacherTemp: teacherTemps[epoch], teacherPatchTemp: teacherPatchTemps[epoch] };
      const sere = c.at('sere');
      const objectiveConfig = {
        temperaturePixel: sere.num('temperature_pixel'),
        temperatureChannel: sere.num('temperature_channel'),
        alpha: sere.num('alpha'),
        beta: sere.num('beta'),
        compatLocalHeads: false,
      };
      const batch = batchFromFixture(fx, device);
      const objective = within(fx, 'the forward pass and losses', () => computeObjective(nets, loss, objectiveConfig, batch, temps, false));
      const o = fx.at('outputs');
      checks.push(checkScalar('full_step/total_loss', objective.total.item(), o.num('total_loss')));
      checks.push(checkScalar('full_step/ibot_loss', objective.ibot.item(), o.num('ibot_loss')));
      checks.push(checkScalar('full_step/ibot_cls', objective.ibotCls.item(), o.num('ibot_cls')));
      checks.push(checkScalar('full_step/ibot_patch', objective.ibotPatch.item(), o.num('ibot_patch')));
      checks.push(checkScalar('full_step/sere_pixel', objective.pixel.item(), o.num('sere_pixel')));
      checks.push(checkScalar('full_step/sere_channel', objective.channel.item(), o.num('sere_channel')));
      const w = lossWeights(objectiveConfig.alpha, objectiveConfig.beta);
      for (const k of ['ibot', 'pixel', 'channel'] as const) checks.push(checkScalar(`full_step/loss_weights/${k}`, w[k], o.at('loss_weights').num(k), 1e-12, 1e-12));
      checks.push(checkClose('full_step/teacher_cls', objective.teacherCls, o.tensor('teacher_cls')));
      checks.push(checkClose('full_step/student_cls', objective.studentCls, o.tensor('student_cls')));
      if (objective.studentLocalCls) checks.push(checkClose('full_step/student_local_cls', objective.studentLocalCls, o.tensor('student_local_cls')));
      loss.updateCenter(objective.teacherCls, objective.teacherPatchMean);
      checks.push(checkClose('full_step/center_after', loss.center, o.tensor('center_after'), 1e-6, 1e-5));
      checks.push(checkClose('full_step/center2_after', loss.center2, o.tensor('center2_after'), 1e-6, 1e-5));

      within(fx, 'the backward pass', () => objective.total.backward());
      const all = namedParameters(nets.student);
      for (const [name, p] of all) ours.set(name, p.requiresGrad);
      const named = all.filter(([, p]) => p.requiresGrad);
      const byName = new Map(named);
      const grads = fx.entries('grads');
      for (const [name, expected] of grads) {
        const p = byName.get(name);
        const g = p?.grad;
        if (!g) checks.push({ name: `full_step/grad/${name}`, maxAbs: Infinity, bound: 0, ok: false, detail: p ? 'no gradient' : 'no such trainable parameter' });
        else checks.push(checkGradient(`full_step/grad/${name}`, g, expected.tensor()));
      }
      checks.push(sameNames('full_step/trainable_parameters', named.map(([n]) => n), grads.map(([n]) => n)));
      const withoutGrad = fx.opt('params_without_grad');
      if (withoutGrad) {
        // Parameters the reference left without a gradient: frozen ones, or any the loss does not reach.
        const ungraded = all.filter(([, p]) => !p.grad).map(([n]) => n);
        // A shared last layer has a second name (last_layer2.*) for the same parameter.
        for (const [alias, target] of nets.student.head.params.aliases) if (ungraded.includes(`head.${target}`)) ungraded.push(`head.${alias}`);
        const listed = withoutGrad.strs();
        const unexplained = listed.filter((n) => !ungraded.includes(n));
        checks.push({ name: 'full_step/params_without_grad', maxAbs: unexplained.length ? Infinity : 0, bound: 0, ok: !unexplained.length, detail: `with a gradient here: [${unexplained}]` });
      }
      const groups = paramGroups(named);
      const pg = fx.at('param_groups');
      checks.push(sameNames('full_step/param_groups/regularized', groups.regularized.map(([n]) => n), pg.strs('regularized')));
      checks.push(sameNames('full_step/param_groups/not_regularized', groups.notRegularized.map(([n]) => n), pg.strs('not_regularized')));
      const cancelled = cancelLastLayerGradients(named, epoch, c.at('optimizer').int('freeze_last_layer'));
      // A frozen parameter has no gradient to cancel, whether or not the file lists it.
      const listedCancelled = (fx.opt('last_layer_grads_cancelled')?.strs() ?? []).filter((n) => ours.get(n) !== false);
      checks.push(sameNames('full_step/last_layer_grads_cancelled', cancelled, listedCancelled));
    } finally {
      for (const d of owned) d.dispose();
    }
  });
  checks.push(...checkOptimiserStep(fx, ours, device));
  return checks;
}

/** True for a step entry of a parameter without gradient (norm_last_layer's weight_g). */
function isFrozenEntry(st: FixtureNode): boolean {
  if (st.has('requires_grad')) return !st.bool('requires_grad');
  return !st.has('grad_before_clip');
}

/** Clipping, AdamW and EMA for each parameter listed under `step`, from the fixture's own values. */
function checkOptimiserStep(fx: FixtureNode, ours: Map<string, boolean>, device: string): Check[] {
  const checks: Check[] = [];
  const opt = fx.at('config').at('optimizer');
  const [beta1, beta2] = opt.nums('betas');
  const adamConfig = { beta1, beta2, eps: opt.num('eps') };
  const lr = opt.num('lr');
  const decay: [number, number] = [opt.num('weight_decay_group0'), opt.num('weight_decay_group1')];
  const clip = opt.num('clip_grad');
  const momentum = fx.at('config').num('teacher_momentum');
  for (const [name, st] of fx.entries('step')) {
    within(st, 'the optimiser step', () =>
      T.scope(() => {
        const pre = `full_step/step/${name}`;
        const before = st.tensor('param_before');
        const p = fixtureToTensor(before, device);
        const frozen = isFrozenEntry(st);
        let group: [string, T.Tensor][];
        let regularized = false;
        if (frozen) {
          // Frozen here too, so our parameter groups leave it out and AdamW never touches it.
          const trainable = ours.get(name);
          checks.push({ name: `${pre}/frozen`, maxAbs: trainable === false ? 0 : Infinity, bound: 0, ok: trainable === false, detail: trainable === undefined ? 'no such student parameter' : 'trainable here' });
          const groups = paramGroups([[name, p]]);
          group = [...groups.regularized, ...groups.notRegularized];
        } else {
          p.setRequiresGrad(true);
          p.grad = fixtureToTensor(st.tensor('grad_before_clip', { shape: before.shape }), device);
          if (clip > 0) {
            const norms = clipGradientsPerParameter([p], clip)!;
            checks.push(checkScalar(`${pre}/grad_norm_before_clip`, norms.select(0, 0).item(), st.num('grad_norm_before_clip')));
          }
          checks.push(checkGradient(`${pre}/grad_after_clip`, p.grad!, st.tensor('grad_after_clip', { shape: before.shape })));
          if (st.bool('grad_cancelled')) p.grad = null;
          const kind = st.str('group');
          if (kind !== 'regularized' && kind !== 'not_regularized') st.at('group').fail("'regularized' or 'not_regularized'");
          regularized = kind === 'regularized';
          group = [[name, p]];
        }
        const prior = frozen ? null : st.opt('adam_state_before');
        // Read before anything is kept, so that a malformed entry leaves nothing behind.
        const priorState = prior && {
          step: prior.int('step'),
          expAvg: prior.tensor('exp_avg', { shape: before.shape }),
          expAvgSq: prior.tensor('exp_avg_sq', { shape: before.shape }),
        };
        const adam = new AdamW(regularized ? { regularized: group, notRegularized: [] } : { regularized: [], notRegularized: group }, adamConfig);
        try {
          if (priorState) {
            adam.state.set(name, {
              step: priorState.step,
              expAvg: T.keep(fixtureToTensor(priorState.expAvg, device)),
              expAvgSq: T.keep(fixtureToTensor(priorState.expAvgSq, device)),
            });
          }
          adam.step(lr, decay);
        } finally {
          adam.dispose();
        }
        checks.push(checkClose(`${pre}/param_after`, p, st.tensor('param_after', { shape: before.shape }), 1e-6, 0));
        const teacherBefore = st.opt('teacher_before');
        if (teacherBefore) {
          const teacher = fixtureToTensor(teacherBefore.tensor(undefined, { shape: before.shape }), device);
          emaUpdate({ student: [p], teacher: [teacher] }, momentum);
          checks.push(checkClose(`${pre}/teacher_after`, teacher, st.tensor('teacher_after', { shape: before.shape }), 1e-6, 0));
        }
      }),
    );
  }
  return checks;
}
