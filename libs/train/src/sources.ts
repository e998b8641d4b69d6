/**
 * Where a run's batches come from: a folder of images (decoded and augmented here, on a
 * worker pool) or the data service's Kafka stream; both behind one interface.
 */
import * as os from 'os';
import type { ViewRecipe } from '@sere/augment';
import { dataSource, EXIT, type DataSource, type SereConfig } from '@sere/config';
import { indexImageFolder } from '@sere/dataset';
import type { SourceFactory } from './batch-source';
import { TrainingError } from './errors';
import { KafkaSource } from './kafka-source';
import { LocalSource } from './local-source';

export interface SourceChoice {
  /** Where the images are, resolved once by the caller; without it, from --data / --data_path. */
  data?: DataSource;
  /** Overrides it (tests use a stream on an in-memory broker). */
  source?: SourceFactory;
  write: (line: string) => void;
}

/** Crops must tile into whole patches, whoever makes them. */
function checkViewSizes(c: SereConfig): void {
  for (const [flag, px] of [['--global_size', c.global_size], ['--local_size', c.local_size]] as const) {
    if (px % c.patch_size !== 0) throw new TrainingError(`${flag}: ${px} px is not a multiple of --patch_size ${c.patch_size}`, EXIT.refused);
  }
}

function viewRecipe(c: SereConfig): ViewRecipe {
  checkViewSizes(c);
  return {
    globalCropsScale: [c.global_crops_scale[0], c.global_crops_scale[1]],
    localCropsScale: [c.local_crops_scale[0], c.local_crops_scale[1]],
    localCropsNumber: c.local_crops_number,
    overlapSize: [c.overlap_size[0], c.overlap_size[1]],
    globalSize: c.global_size,
    localSize: c.local_size,
    patchSize: c.patch_size,
    predRatio: [...c.pred_ratio],
    predRatioVar: [...c.pred_ratio_var],
    predShape: c.pred_shape,
    predStartEpoch: c.pred_start_epoch,
    useMaskedImModeling: c.use_masked_im_modeling,
  };
}

function folderSource(c: SereConfig, o: SourceChoice, dir: string): SourceFactory {
  return async () => {
    const index = await indexImageFolder(dir);
    for (const empty of index.emptyClasses) o.write(`warning: class folder '${empty}' holds no images (its label is kept)`);
    const workers = c.data_workers ?? Math.max(1, os.cpus().length - 1);
    const source = new LocalSource({
      index,
      batchSize: c.batch_size_per_gpu,
      recipe: viewRecipe(c),
      seed: c.seed,
      workers,
      prefetch: 2,
      onBadFile: (p, kind, msg) => o.write(`skipped ${p} (${kind}): ${msg}`),
    });
    o.write(`data: ${index.entries.length} images in ${index.classes.length} classes from ${index.root}; ${source.itersPerEpoch} iterations per epoch`);
    return source;
  };
}

/** Where batches come from: the caller's source, a folder, or the data service's stream (kafka://broker/prefix). */
export function sourceOf(c: SereConfig, o: SourceChoice): SourceFactory {
  if (o.source) return o.source;
  const data = o.data ?? dataSource(c);
  if (data.kind === 'folder') return folderSource(c, o, data.path);
  checkViewSizes(c);
  const views = { globalSize: c.global_size, localSize: c.local_size, localCrops: c.local_crops_number, maskGrid: c.global_size / c.patch_size };
  return (start) => KafkaSource.connect({ brokers: data.brokers, prefix: data.topic, batchSize: c.batch_size_per_gpu, views, write: o.write }, start);
}

