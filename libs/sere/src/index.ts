// model/: the networks — ViT backbone with its SERE relation heads, the iBOT head, their
//   initialisation and parameters under the reference's state-dict names, student + teacher.
// objective/: what a step minimises — iBOT loss, cross-view alignment, SERE losses, their sum.
// optimisation/: how parameters move — AdamW, gradient clipping and last-layer freezing, fp16
//   loss scaling, the teacher's EMA, and the lr / weight-decay / momentum / temperature schedules.
// state/: what is saved — state-dict files and the full training checkpoint for resumption.
// distributed/: training on several ranks — SyncBatchNorm, gradient reduction, centres over ranks.
// Here: one training iteration (trainer.ts) and the batch it takes (batch.ts); parity/ checks
// the reference fixtures, testing/ makes synthetic batches. @sere/train runs the trainer on a thread.
export * from './model/arch';
export * from './model/params';
export * from './model/vit';
export * from './model/ibot-head';
export * from './model/networks';
export * from './model/pos-embed';
export * from './objective/ibot-loss';
export * from './objective/alignment';
export * from './objective/sere-loss';
export * from './objective/objective';
export * from './optimisation/adamw';
export * from './optimisation/gradients';
export * from './optimisation/ema';
export * from './optimisation/grad-scaler';
export * from './optimisation/schedules';
export * from './state/checkpoint';
export * from './state/training-state';
export * from './trainer';
export * from './distributed/data-parallel';
export * from './distributed/sync-batch-norm';
export * from './batch';
export * as parity from './parity';
