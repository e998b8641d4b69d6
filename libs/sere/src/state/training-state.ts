/**
 * The full training state as one PyTorch-format checkpoint, laid out like the reference's
 * `checkpoint.pth` (student, teacher, optimizer, epoch, args, ibot_loss, fp16_scaler) plus
 * what exact resumption needs: generator states and the data position.
 */
import * as T from '@sere/torch';
import { namedParameters, stateDict } from '../model/networks';
import { stateDictToPth } from './checkpoint';
import { SereTrainer } from '../trainer';

export interface ResumeInfo {
  /** Epochs completed (the reference stores epoch + 1). */
  epoch: number;
  /** Next global iteration. */
  iteration: number;
  /** Opaque position of the data source (e.g. Kafka offsets or an index into the epoch). */
  dataPosition: T.PthValue;
  args: Record<string, T.PthValue>;
}

/** Optimiser state in torch.optim.AdamW's state_dict layout (parameters by index). */
function optimizerState(trainer: SereTrainer): T.PthValue {
  const named = namedParameters(trainer.nets.student).filter(([, p]) => p.requiresGrad);
  const index = new Map(named.map(([n], i) => [n, i]));
  const state = new Map<T.PthKey, T.PthValue>();
  for (const [name, st] of trainer.optimizer.state) {
    state.set(index.get(name)!, {
      step: T.toPthTensor(T.scope(() => T.full([], st.step))),
      exp_avg: T.toPthTensor(st.expAvg),
      exp_avg_sq: T.toPthTensor(st.expAvgSq),
    });
  }
  const g = trainer.optimizer.groups;
  const group = (params: [string, T.Tensor][], wd: number) => ({
    lr: 0,
    betas: [trainer.optimizer.opts.beta1, trainer.optimizer.opts.beta2],
    eps: trainer.optimizer.opts.eps,
    weight_decay: wd,
    amsgrad: false,
    maximize: false,
    params: params.map(([n]) => index.get(n)!),
  });
  return { state, param_groups: [group(g.regularized, 0), group(g.notRegularized, 0)], param_names: named.map(([n]) => n) };
}

export function trainingState(trainer: SereTrainer, info: ResumeInfo): T.PthValue {
  // The value holds copies only (PthTensor data is copied out of libtorch), so one scope
  // frees every handle made on the way: the step counters and generator states.
  return T.scope(() => trainingStateIn(trainer, info));
}

function trainingStateIn(trainer: SereTrainer, info: ResumeInfo): T.PthValue {
  const device = trainer.flags.device;
  const rng: Record<string, T.PthValue> = { cpu: T.toPthTensor(T.scope(() => T.getRngState('cpu'))) };
  if (device !== 'cpu') rng[device] = T.toPthTensor(T.scope(() => T.getRngState(device)));
  // Every rank's generators (drop-path differs per rank), gathered to each rank; rank 0's
  // copy is the one written. Every rank must call this together.
  const dp = trainer.dp;
  const rngByRank = dp
    ? T.scope(() => {
        const gathered = Object.keys(rng).map((d) => [d, dp.gather(T.getRngState(d))] as const);
        return Array.from({ length: dp.worldSize }, (_, r) => Object.fromEntries(gathered.map(([d, all]) => [d, T.toPthTensor(all[r])])) as T.PthValue);
      })
    : null;
  return {
    student: stateDictToPth(stateDict(trainer.nets.student)),
    teacher: stateDictToPth(stateDict(trainer.nets.teacher)),
    optimizer: optimizerState(trainer),
    epoch: info.epoch,
    args: info.args,
    ibot_loss: { center: T.toPthTensor(trainer.loss.center), center2: T.toPthTensor(trainer.loss.center2) },
    fp16_scaler: trainer.scaler ? { scale: trainer.scaler.value, _growth_tracker: 0 } : null,
    sere: { iteration: info.iteration, data_position: info.dataPosition, rng, micro_step: 0, world_size: dp?.worldSize ?? 1, ...(rngByRank ? { rng_by_rank: rngByRank } : {}) },
  };
}

function field(v: T.PthValue, key: string, source: string): T.PthValue {
  const x = v instanceof Map ? v.get(key) : v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && !T.isPthTensor(v) ? (v as T.PthDict)[key] : undefined;
  if (x === undefined) throw new T.PthError(source, `missing '${key}' (not a SERE.ts training checkpoint)`);
  return x;
}

function copyInto(target: T.Tensor, value: T.PthValue, what: string, source: string): void {
  if (!T.isPthTensor(value)) throw new T.PthError(source, `${what} is not a tensor`);
  if (value.shape.join(',') !== target.shape.join(',')) {
    throw new T.PthError(source, `${what} has shape [${value.shape}] but the model expects [${target.shape}] (a checkpoint of another architecture?)`);
  }
  T.noGrad(() => T.scope(() => T.call('aten::copy_', '', [target, T.fromPthTensor(value, target.device)])));
}

/**
 * Epochs done and the data position of a parsed checkpoint written by trainingState, known
 * without building a network: a stream source needs its position before the networks
 * exist, since the epoch length it learns sizes their schedules.
 */
export function resumePosition(value: T.PthValue, source: string): { epoch: number; dataPosition: T.PthValue; worldSize: number } {
  const sere = field(value, 'sere', source) as T.PthDict;
  return { epoch: Number(field(value, 'epoch', source)), dataPosition: sere.data_position ?? null, worldSize: Number(sere.world_size ?? 1) };
}

/** Loads a checkpoint written by trainingState into a trainer built with the same flags. */
export function restoreTrainingState(trainer: SereTrainer, value: T.PthValue, source: string): ResumeInfo {
  for (const [key, net] of [['student', trainer.nets.student], ['teacher', trainer.nets.teacher]] as const) {
    const plain = T.stateDictFromPth(field(value, key, source), source);
    const mine = stateDict(net);
    for (const [name, t] of mine) {
      const v = plain.get(name);
      if (!v) throw new T.PthError(source, `${key} has no '${name}' (a checkpoint of another architecture?)`);
      copyInto(t, v, `${key}.${name}`, source);
    }
    for (const name of plain.keys()) if (!mine.has(name)) throw new T.PthError(source, `${key} has unexpected '${name}' (a checkpoint of another architecture?)`);
  }
  const opt = field(value, 'optimizer', source);
  const names = field(opt, 'param_names', source) as string[];
  const states = field(opt, 'state', source) as Map<T.PthKey, T.PthValue>;
  const byName = new Map(namedParameters(trainer.nets.student));
  trainer.optimizer.dispose();
  for (const [idx, st] of states) {
    const name = names[Number(idx)];
    const p = byName.get(name);
    if (!p) throw new T.PthError(source, `optimizer state for unknown parameter '${name}'`);
    const expAvg = T.keep(T.zerosLike(p));
    const expAvgSq = T.keep(T.zerosLike(p));
    copyInto(expAvg, field(st, 'exp_avg', source), `optimizer.${name}.exp_avg`, source);
    copyInto(expAvgSq, field(st, 'exp_avg_sq', source), `optimizer.${name}.exp_avg_sq`, source);
    const step = field(st, 'step', source);
    trainer.optimizer.state.set(name, { step: T.isPthTensor(step) ? step.data.readFloatLE(0) : Number(step), expAvg, expAvgSq });
  }
  const loss = field(value, 'ibot_loss', source);
  copyInto(trainer.loss.center, field(loss, 'center', source), 'ibot_loss.center', source);
  copyInto(trainer.loss.center2, field(loss, 'center2', source), 'ibot_loss.center2', source);
  const scaler = value && typeof value === 'object' ? (value as T.PthDict).fp16_scaler : null;
  if (trainer.scaler && scaler && typeof scaler === 'object') {
    T.noGrad(() => T.call('aten::fill_', 'Scalar', [trainer.scaler!.scaleTensor, Number((scaler as T.PthDict).scale)]));
  }
  const sere = field(value, 'sere', source) as T.PthDict;
  const byRank = sere.rng_by_rank as T.PthValue[] | undefined;
  const rng = (trainer.dp && Array.isArray(byRank) && byRank[trainer.dp.rank] ? byRank[trainer.dp.rank] : sere.rng) as T.PthDict;
  for (const [device, state] of Object.entries(rng)) {
    if (device !== 'cpu' && device !== trainer.flags.device) continue;
    T.scope(() => T.setRngState(T.fromPthTensor(state as T.PthTensor), device));
  }
  return {
    epoch: Number(field(value, 'epoch', source)),
    iteration: Number(sere.iteration),
    dataPosition: sere.data_position ?? null,
    args: (field(value, 'args', source) ?? {}) as Record<string, T.PthValue>,
  };
}
