/**
 * The evaluation worker: loads a checkpoint's backbone and runs the k-NN and linear probe on
 * its own thread, so the service's HTTP endpoints answer while libtorch computes.
 */
import { parentPort } from 'worker_threads';
import { backboneFromCheckpoint, evaluateBackbone } from '@sere/eval';
import * as T from '@sere/torch';
import type { EvalAnswer, EvalJob } from './protocol';

/** Epochs done, as the checkpoint records them (null for a file that does not say). */
function epochOf(value: T.PthValue): number | null {
  const epoch = (value as Record<string, T.PthValue> | null)?.epoch;
  return typeof epoch === 'number' ? epoch : null;
}

async function run(job: EvalJob): Promise<EvalAnswer> {
  let backbone: ReturnType<typeof backboneFromCheckpoint> | null = null;
  let epoch: number | null;
  try {
    try {
      // Parsed once: its epoch and its backbone come from the same value.
      const value = T.readPth(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.source);
      epoch = epochOf(value);
      backbone = backboneFromCheckpoint(value, job.source, { arch: job.arch, patchSize: job.patchSize, device: job.device, key: job.checkpointKey });
    } catch (e) {
      return { id: job.id, ok: false, kind: 'checkpoint', error: (e as Error).message };
    }
    const report = await evaluateBackbone({
      backbone,
      trainDir: job.dataPath,
      valDir: job.valPath ?? undefined,
      size: job.size,
      seed: job.seed,
      ks: job.ks,
      // No feature cache: its key is the backbone, new with every checkpoint, so it would only fill the disk.
      linear: job.linearEpochs > 0 ? { epochs: job.linearEpochs } : false,
    });
    return { id: job.id, ok: true, epoch, report };
  } catch (e) {
    return { id: job.id, ok: false, kind: 'eval', error: (e as Error).message };
  } finally {
    backbone?.dispose();
  }
}

parentPort!.on('message', (job: EvalJob) => {
  void run(job).then((answer) => parentPort!.postMessage(answer));
});
