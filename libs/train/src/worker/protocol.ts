/** Messages between the main thread and the training worker. */
import type { MultiCropSample } from '@sere/augment';
import type { ExitCode } from '@sere/config';
import type { ResumeInfo, StepMetrics, TrainerFlags } from '@sere/sere';
import type { PthValue } from '@sere/torch';

/** Where a loaded checkpoint continues: epochs done, the data position it saved, and the world size that wrote it. */
export interface ResumePosition {
  epoch: number;
  dataPosition: PthValue;
  worldSize: number;
}

/** How the worker joins the other ranks (rendezvous.ts), with the collectives' timeout. */
export interface GroupOptions {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutSeconds: number;
}

export type Request =
  | { id: number; type: 'init'; flags: TrainerFlags; itersPerEpoch: number; group: GroupOptions | null; threads: number | null }
  | { id: number; type: 'step'; samples: MultiCropSample[]; it: number; epoch: number; stop: boolean }
  | { id: number; type: 'save'; info: ResumeInfo }
  | { id: number; type: 'load'; file: Uint8Array; source: string }
  | { id: number; type: 'restore' }
  | { id: number; type: 'liveTensors' }
  | { id: number; type: 'dispose' };

export type Response =
  | { id: number; ok: true; metrics?: StepMetrics; stop?: boolean; liveTensors?: number; file?: Uint8Array; info?: ResumeInfo; position?: ResumePosition }
  | { id: number; ok: false; error: string; name: string; exitCode?: ExitCode };

/** The ArrayBuffers of a batch, handed over to the worker instead of copied. */
export function transferables(samples: MultiCropSample[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  // Only arrays that own their whole buffer: small Node Buffers share a pool, which cannot move.
  const add = (a: ArrayBufferView) => {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer);
  };
  for (const s of samples) {
    s.views.forEach((v) => add(v.rgb));
    s.masks.forEach(add);
    [...s.gridsGlobal1, ...s.gridsGlobal2, ...s.gridsLocal, ...s.gridsGlobalSide].forEach(add);
  }
  return [...out];
}
