/**
 * The training worker: owns the networks and runs each step on its own thread, so the
 * main thread's event loop (Kafka fetches, HTTP health and metrics, progress output) keeps
 * running while libtorch computes.
 */
import { parentPort } from 'worker_threads';
import { exitCodeOf } from '@sere/config';
import * as T from '@sere/torch';
import { DataParallel, restoreTrainingState, resumePosition, SereTrainer, toObjectiveBatch, trainingState } from '@sere/sere';
import type { Request, Response } from './protocol';

let trainer: SereTrainer | null = null;
/** The checkpoint parsed by 'load', kept until 'restore' applies it: each file is parsed once. */
let loaded: { value: T.PthValue; source: string } | null = null;

/** CUDA memory of the run's device (allocated and reserved by the caching allocator); null on the CPU. */
function deviceMemoryOf(device: string): { allocated: number; reserved: number } | null {
  if (!device.startsWith('cuda')) return null;
  const m = T.cudaMemory(Number(device.split(':')[1] ?? 0));
  return m ? { allocated: m.allocated, reserved: m.reserved } : null;
}

function handle(msg: Request): Response {
  switch (msg.type) {
    case 'init': {
      if (msg.threads) T.setNumThreads(msg.threads);
      // The group is joined here, on the worker: the rendezvous and every collective block
      // their thread until done or timed out, and the main thread must keep its event loop.
      const dp = msg.group ? new DataParallel(T.ProcessGroup.join(msg.group)) : null;
      // The schedules are laid out over the iterations every rank can run (streams of one
      // epoch may differ by a batch between ranks).
      const itersPerEpoch = dp ? dp.min(msg.itersPerEpoch) : msg.itersPerEpoch;
      trainer = new SereTrainer(msg.flags, itersPerEpoch, dp);
      return { id: msg.id, ok: true, itersPerEpoch, liveTensors: T.liveTensors() };
    }
    case 'step': {
      if (!trainer) throw new Error('the training worker was not initialised');
      const t = trainer;
      if (msg.agree && t.dp && t.dp.min(msg.samples ? 1 : 0) === 0) return { id: msg.id, ok: true, skipped: true, liveTensors: T.liveTensors() };
      const samples = msg.samples;
      if (!samples) throw new Error('a step without a batch needs the ranks to agree on it');
      const metrics = T.scope(() => t.step(toObjectiveBatch(samples, t.flags.device), msg.it, msg.epoch));
      // A stop asked of any rank (a signal reaches the ranks at different steps) stops them
      // all after the same step, so none is left waiting in a collective; and a step that
      // is the last of its epoch on any rank is the last on all, so all save alike.
      const deviceMemory = deviceMemoryOf(t.flags.device);
      if (!t.dp) return { id: msg.id, ok: true, metrics, stop: msg.stop, last: msg.last, liveTensors: T.liveTensors(), deviceMemory };
      const [go, more] = t.dp.minEach([msg.stop ? 0 : 1, msg.last ? 0 : 1]);
      return { id: msg.id, ok: true, metrics, stop: go === 0, last: more === 0, liveTensors: T.liveTensors(), deviceMemory };
    }
    case 'gather': {
      const dp = trainer?.dp;
      return { id: msg.id, ok: true, texts: dp ? dp.gatherText(msg.text) : [msg.text] };
    }
    case 'save': {
      if (!trainer) throw new Error('the training worker was not initialised');
      return { id: msg.id, ok: true, file: T.writePth(trainingState(trainer, msg.info)) };
    }
    case 'load': {
      const value = T.readPth(Buffer.from(msg.file.buffer, msg.file.byteOffset, msg.file.byteLength), msg.source);
      const position = resumePosition(value, msg.source);
      loaded = { value, source: msg.source };
      return { id: msg.id, ok: true, position };
    }
    case 'restore': {
      if (!trainer) throw new Error('the training worker was not initialised');
      if (!loaded) throw new Error('no checkpoint was loaded into the training worker');
      const { value, source } = loaded;
      loaded = null;
      return { id: msg.id, ok: true, info: restoreTrainingState(trainer, value, source) };
    }
    case 'liveTensors':
      return { id: msg.id, ok: true, liveTensors: T.liveTensors() };
    case 'dispose':
      trainer?.dispose();
      trainer?.dp?.group.close();
      trainer = null;
      loaded = null;
      return { id: msg.id, ok: true, liveTensors: T.liveTensors() };
  }
}

parentPort!.on('message', (msg: Request) => {
  let res: Response;
  try {
    res = handle(msg);
  } catch (e) {
    const err = e as Error;
    // The exit code travels with the copy: the class of the error does not cross the thread.
    res = { id: msg.id, ok: false, error: err.message, name: err.name, exitCode: exitCodeOf(e), groupFailed: T.isCollectiveError(e) };
  }
  const transfer = res.ok && res.file ? [res.file.buffer as ArrayBuffer] : [];
  parentPort!.postMessage(res, transfer);
});
