/** Messages between the service and its evaluation worker. */
import type { EvalReport } from '@sere/eval';

export interface EvalJob {
  id: number;
  /** The checkpoint's bytes, moved to the worker. */
  bytes: Uint8Array;
  /** How messages name it (the store's location of the file). */
  source: string;
  arch: string;
  patchSize: number;
  checkpointKey: 'teacher' | 'student';
  dataPath: string;
  valPath: string | null;
  size: number;
  ks: number[];
  linearEpochs: number;
  device: string;
  seed: number;
}

export type EvalAnswer =
  | { id: number; ok: true; epoch: number | null; report: EvalReport }
  /** kind: 'checkpoint' (unreadable, truncated, another architecture) or 'eval' (anything else). */
  | { id: number; ok: false; kind: 'checkpoint' | 'eval'; error: string };
