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
  /**
   * `samples` null: this rank's epoch has ended. With `agree`, the ranks first agree that
   * every one has a batch (a stream's epoch may end early on one rank); if one has not,
   * none trains and the answer says `skipped`. `last`: no batch of the epoch follows here.
   */
  | { id: number; type: 'step'; samples: MultiCropSample[] | null; it: number; epoch: number; stop: boolean; last: boolean; agree: boolean }
  /** Every rank's `text`, in rank order (each rank sends its own). */
  | { id: number; type: 'gather'; text: string }
  | { id: number; type: 'save'; info: ResumeInfo }
  | { id: number; type: 'load'; file: Uint8Array; source: string }
  | { id: number; type: 'restore' }
  | { id: number; type: 'liveTensors' }
  | { id: number; type: 'dispose' };

export type Response =
  | {
      id: number;
      ok: true;
      metrics?: StepMetrics;
      stop?: boolean;
      last?: boolean;
      skipped?: boolean;
      itersPerEpoch?: number;
      texts?: string[];
      liveTensors?: number;
      /** CUDA memory after the step; null on the CPU. */
      deviceMemory?: { allocated: number; reserved: number } | null;
      file?: Uint8Array;
      info?: ResumeInfo;
      position?: ResumePosition;
    }
  /** `groupFailed`: a collective failed (the binding's COLLECTIVE_ERROR_CODE). */
  | { id: number; ok: false; error: string; name: string; exitCode?: ExitCode; groupFailed?: boolean };

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
