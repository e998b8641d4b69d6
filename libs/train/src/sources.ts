/**
 * Where a run's batches come from: a folder of images (decoded and augmented here, on a
 * worker pool) or the data service's Kafka stream; both behind one interface.
 */
import * as os from 'os';
import { dataSource, tokenGrids, viewRecipe, type DataSource, type SereConfig, type ViewRecipe } from '@sere/config';
import { indexImageFolder } from '@sere/dataset';
import type { SourceFactory } from './batch-source';
import { KafkaSource } from './kafka-source';
import { LocalSource } from './local-source';

export interface SourceChoice {
  /** Where the images are, resolved once by the caller; without it, from --data / --data_path. */
  data?: DataSource;
  /** Overrides it (tests use a stream on an in-memory broker). */
  source?: SourceFactory;
  write: (line: string) => void;
  /** This trainer's rank and the world size (a folder is sharded as DistributedSampler shards it). */
  rank?: number;
  worldSize?: number;
}

function folderSource(c: SereConfig, recipe: ViewRecipe, o: SourceChoice, dir: string): SourceFactory {
  return async () => {
    const index = await indexImageFolder(dir);
    for (const empty of index.emptyClasses) o.write(`warning: class folder '${empty}' holds no images (its label is kept)`);
    const workers = c.data_workers ?? Math.max(1, os.cpus().length - 1);
    const source = new LocalSource({
      index,
      batchSize: c.batch_size_per_gpu,
      recipe,
      seed: c.seed,
      workers,
      prefetch: 2,
      onBadFile: (p, kind, msg) => o.write(`skipped ${p} (${kind}): ${msg}`),
      rank: o.rank ?? 0,
      worldSize: o.worldSize ?? 1,
    });
    const share = (o.worldSize ?? 1) > 1 ? ` (${Math.ceil(index.entries.length / o.worldSize!)} per rank over ${o.worldSize} ranks)` : '';
    o.write(`data: ${index.entries.length} images in ${index.classes.length} classes from ${index.root}${share}; ${source.itersPerEpoch} iterations per epoch`);
    return source;
  };
}

/** Where batches come from: the caller's source, a folder, or the data service's stream (kafka://broker/prefix). */
export function sourceOf(c: SereConfig, o: SourceChoice): SourceFactory {
  if (o.source) return o.source;
  const data = o.data ?? dataSource(c);
  // The views the folder's augmentation makes, or that the stream's data service must have made.
  const recipe = viewRecipe(c);
  if (data.kind === 'folder') return folderSource(c, recipe, o, data.path);
  const views = { globalSize: recipe.globalSize, localSize: recipe.localSize, localCrops: recipe.localCropsNumber, maskGrid: tokenGrids(recipe).global };
  return (start) => KafkaSource.connect({ brokers: data.brokers, prefix: data.topic, batchSize: c.batch_size_per_gpu, views, write: o.write, rank: o.rank, worldSize: o.worldSize }, start);
}

