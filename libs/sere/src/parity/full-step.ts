/**
 * Parity of one complete training iteration with full_step.json (spec §4.6, §6): all losses,
 * the gradient of every student parameter, parameter groups, last-layer freezing, and per
 * listed parameter the clipping, the AdamW step and the EMA.
 */
import * as T from '@sere/torch';
import { vitConfig } from '../arch';
import { emaUpdate } from '../ema';
import { IBOT_LOSS_DEFAULTS, IBOTLoss, maskedRows } from '../ibot-loss';
import { computeObjective } from '../objective';
import { cancelLastLayerGradients, clipGradientsPerParameter, AdamW, paramGroups } from '../optim';
import { fromParamStores, namedParameters, Networks } from '../networks';
import { ParamStore } from '../params';
import { teacherTempSchedule } from '../schedules';
import { lossWeights } from '../sere-loss';
import { HeadConfig } from '../ibot-head';
import { Check, checkClose, checkGradient, checkScalar } from './compare';
import { fixtureToTensor, FixtureTensor, flatValues } from './fixture-tensor';
import { stackGrids } from './sere-loss';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function storesFromFixture(weights: Record<string, FixtureTensor>, shared: boolean, normLastLayer: boolean, device: string) {
  const backbone = new ParamStore();
  const head = new ParamStore();
  for (const [name, value] of Object.entries(weights)) {
    const [store, key] = name.startsWith('backbone.') ? [backbone, name.slice(9)] : [head, name.slice(5)];
    if (shared && key.startsWith('last_layer2.')) {
      store.aliases.set(key, key.replace('last_layer2', 'last_layer'));
      continue;
    }
    const t = fixtureToTensor(value, device, name);
    if (key.endsWith('running_mean') || key.endsWith('running_var')) store.addBuffer(key, t);
    else store.add(key, t, !(normLastLayer && key.endsWith('weight_g')));
  }
  return { backbone, head };
}

function networksFromFixture(fx: Json, device: string): Networks {
  const c = fx.config;
  const v = c.vit;
  const base = vitConfig({ name: 'fixture', embedDim: v.embed_dim, depth: v.depth, numHeads: v.num_heads, mlpRatio: v.mlp_ratio }, v.patch_size, {
    imgSize: v.img_size,
    channelDivisorGlobal: v.channel_sere_size_global,
    channelDivisorLocal: v.channel_sere_size_local,
    localHeads: c.local_crops_number > 0,
  });
  const h = c.head;
  const head = (shared: boolean, norm: boolean): HeadConfig => ({
    inDim: v.embed_dim,
    outDim: h.out_dim,
    patchOutDim: h.patch_out_dim,
    hiddenDim: h.hidden_dim,
    bottleneckDim: h.bottleneck_dim,
    nlayers: h.nlayers,
    sharedHead: shared,
    normLastLayer: norm,
  });
  const s = storesFromFixture(fx.student_weights, h.shared_head, h.student_norm_last_layer, device);
  const t = storesFromFixture(fx.teacher_weights, h.shared_head_teacher, h.teacher_norm_last_layer, device);
  for (const [, p] of [...t.backbone.named(), ...t.head.named()]) p.setRequiresGrad(false);
  return {
    student: fromParamStores({ ...base, maskedEmbed: true }, head(h.shared_head, h.student_norm_last_layer), s.backbone, s.head),
    teacher: fromParamStores(base, head(h.shared_head_teacher, h.teacher_norm_last_layer), t.backbone, t.head),
  };
}

function sameNames(name: string, actual: string[], expected: string[]): Check {
  const a = [...actual].sort();
  const e = [...expected].sort();
  const missing = e.filter((x) => !a.includes(x));
  const extra = a.filter((x) => !e.includes(x));
  const ok = missing.length === 0 && extra.length === 0;
  return { name, maxAbs: ok ? 0 : Infinity, bound: 0, ok, detail: ok ? undefined : `missing [${missing}] extra [${extra}]` };
}

export function checkFullStep(fx: Json, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  const c = fx.config;
  T.scope(() => {
    const nets = networksFromFixture(fx, device);
    const inp = fx.inputs;
    const batch = c.batch_size;
    const ib = c.ibot;
    const loss = new IBOTLoss(
      { ...IBOT_LOSS_DEFAULTS, studentTemp: ib.student_temp, centerMomentum: ib.center_momentum, centerMomentum2: ib.center_momentum2, lambda1: ib.lambda1, lambda2: ib.lambda2 },
      c.head.out_dim,
      c.head.shared_head || c.head.shared_head_teacher ? c.head.out_dim : c.head.patch_out_dim,
      device,
    );
    T.call('aten::copy_', '', [loss.center, fixtureToTensor(inp.center_before, device)]);
    T.call('aten::copy_', '', [loss.center2, fixtureToTensor(inp.center2_before, device)]);
    const temps = {
      teacherTemp: teacherTempSchedule(ib.warmup_teacher_temp, ib.teacher_temp, ib.warmup_teacher_temp_epochs, ib.nepochs)[c.epoch],
      teacherPatchTemp: teacherTempSchedule(ib.warmup_teacher_patch_temp, ib.teacher_patch_temp, ib.warmup_teacher_temp_epochs, ib.nepochs, ib.mim_start_epoch)[c.epoch],
    };
    const masks = inp.masks.map((m: FixtureTensor) => Uint8Array.from(flatValues(m)));
    const objective = computeObjective(
      nets,
      loss,
      { temperaturePixel: c.sere.temperature_pixel, temperatureChannel: c.sere.temperature_channel, alpha: c.sere.alpha, beta: c.sere.beta, compatLocalHeads: false },
      {
        globalCrops: T.cat(inp.global_crops.map((g: FixtureTensor) => fixtureToTensor(g, device)), 0),
        localCrops: inp.local_crops.length ? T.cat(inp.local_crops.map((g: FixtureTensor) => fixtureToTensor(g, device)), 0) : null,
        masks: T.cat(inp.masks.map((m: FixtureTensor) => fixtureToTensor(m, device)), 0),
        rows: maskedRows(masks, batch, device),
        grids: {
          global1: stackGrids(inp.grid1, device)!,
          global2: stackGrids(inp.grid2, device)!,
          local: stackGrids(inp.grid_local, device),
          globalSide: stackGrids(inp.grid_global, device),
        },
      },
      temps,
      false,
    );
    const o = fx.outputs;
    checks.push(checkScalar('full_step/total_loss', objective.total.item(), o.total_loss));
    checks.push(checkScalar('full_step/ibot_loss', objective.ibot.item(), o.ibot_loss));
    checks.push(checkScalar('full_step/ibot_cls', objective.ibotCls.item(), o.ibot_cls));
    checks.push(checkScalar('full_step/ibot_patch', objective.ibotPatch.item(), o.ibot_patch));
    checks.push(checkScalar('full_step/sere_pixel', objective.pixel.item(), o.sere_pixel));
    checks.push(checkScalar('full_step/sere_channel', objective.channel.item(), o.sere_channel));
    const w = lossWeights(c.sere.alpha, c.sere.beta);
    for (const k of ['ibot', 'pixel', 'channel'] as const) checks.push(checkScalar(`full_step/loss_weights/${k}`, w[k], o.loss_weights[k], 1e-12, 1e-12));
    checks.push(checkClose('full_step/teacher_cls', objective.teacherCls, o.teacher_cls));
    checks.push(checkClose('full_step/student_cls', objective.studentCls, o.student_cls));
    if (objective.studentLocalCls) checks.push(checkClose('full_step/student_local_cls', objective.studentLocalCls, o.student_local_cls));
    loss.updateCenter(objective.teacherCls, objective.teacherPatchMean);
    checks.push(checkClose('full_step/center_after', loss.center, o.center_after, 1e-6, 1e-5));
    checks.push(checkClose('full_step/center2_after', loss.center2, o.center2_after, 1e-6, 1e-5));

    objective.total.backward();
    const named = namedParameters(nets.student).filter(([, p]) => p.requiresGrad);
    const byName = new Map(named);
    for (const [name, expected] of Object.entries(fx.grads as Record<string, FixtureTensor>)) {
      const p = byName.get(name);
      const g = p?.grad;
      if (!g) checks.push({ name: `full_step/grad/${name}`, maxAbs: Infinity, bound: 0, ok: false, detail: p ? 'no gradient' : 'no such trainable parameter' });
      else checks.push(checkGradient(`full_step/grad/${name}`, g, expected));
    }
    checks.push(sameNames('full_step/trainable_parameters', named.map(([n]) => n), Object.keys(fx.grads)));
    const groups = paramGroups(named);
    checks.push(sameNames('full_step/param_groups/regularized', groups.regularized.map(([n]) => n), fx.param_groups.regularized));
    checks.push(sameNames('full_step/param_groups/not_regularized', groups.notRegularized.map(([n]) => n), fx.param_groups.not_regularized));
    const cancelled = cancelLastLayerGradients(named, c.epoch, c.optimizer.freeze_last_layer);
    checks.push(sameNames('full_step/last_layer_grads_cancelled', cancelled, fx.last_layer_grads_cancelled ?? []));
    loss.dispose();
    for (const net of [nets.student, nets.teacher]) {
      net.backbone.dispose();
      net.head.dispose();
    }
  });
  checks.push(...checkOptimiserStep(fx, device));
  return checks;
}

/** Clipping, AdamW and EMA for each parameter listed under `step`, from the fixture's own values. */
function checkOptimiserStep(fx: Json, device: string): Check[] {
  const checks: Check[] = [];
  const opt = fx.config.optimizer;
  for (const [name, st] of Object.entries(fx.step as Record<string, Json>)) {
    T.scope(() => {
      const pre = `full_step/step/${name}`;
      const p = fixtureToTensor(st.param_before, device).setRequiresGrad(true);
      p.grad = fixtureToTensor(st.grad_before_clip, device);
      const norms = clipGradientsPerParameter([p], opt.clip_grad)!;
      checks.push(checkScalar(`${pre}/grad_norm_before_clip`, norms.select(0, 0).item(), st.grad_norm_before_clip));
      checks.push(checkGradient(`${pre}/grad_after_clip`, p.grad!, st.grad_after_clip));
      if (st.grad_cancelled) p.grad = null;
      const group: [string, T.Tensor][] = [[name, p]];
      const adam = new AdamW(
        st.group === 'regularized' ? { regularized: group, notRegularized: [] } : { regularized: [], notRegularized: group },
        { beta1: opt.betas[0], beta2: opt.betas[1], eps: opt.eps },
      );
      const prior = st.adam_state_before;
      if (prior) {
        adam.state.set(name, {
          step: prior.step,
          expAvg: T.keep(fixtureToTensor(prior.exp_avg, device)),
          expAvgSq: T.keep(fixtureToTensor(prior.exp_avg_sq, device)),
        });
      }
      adam.step(opt.lr, [opt.weight_decay_group0, opt.weight_decay_group1]);
      checks.push(checkClose(`${pre}/param_after`, p, st.param_after, 1e-6, 0));
      adam.dispose();
      if (st.teacher_before) {
        const teacher = fixtureToTensor(st.teacher_before, device);
        emaUpdate({ student: [p], teacher: [teacher] }, fx.config.teacher_momentum);
        checks.push(checkClose(`${pre}/teacher_after`, teacher, st.teacher_after, 1e-6, 0));
      }
    });
  }
  return checks;
}
