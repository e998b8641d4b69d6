/**
 * Where this process stands in a multi-process run, read from the environment the way the
 * launchers our users run set it, in this order:
 *   1. torchrun (and `sere launch`): RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
 *      MASTER_ADDR, MASTER_PORT;
 *   2. Kubeflow Trainer: PET_NNODES, PET_NPROC_PER_NODE, PET_NODE_RANK, PET_MASTER_ADDR,
 *      PET_MASTER_PORT, with RANK = node rank × processes per node + LOCAL_RANK;
 *   3. a StatefulSet pod: the ordinal at the end of its hostname (trainer-3 → rank 3), with
 *      WORLD_SIZE and MASTER_ADDR set by the manifest.
 * None of them: one process. `--dist_url tcp://host:port` names the master instead of
 * MASTER_ADDR/MASTER_PORT, as the reference's flag does; `env://` (default) reads them.
 */
import { EXIT } from '@sere/config';
import { TrainingError } from './errors';

export interface Rendezvous {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
  /** Which convention supplied it (for the start-up line). */
  from: 'torchrun' | 'kubeflow' | 'statefulset';
}

/** torchrun's default port. */
export const DEFAULT_MASTER_PORT = 29500;

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, min: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new TrainingError(`${name} is not set (expected an integer >= ${min})`, EXIT.refused);
  }
  const v = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < min) throw new TrainingError(`${name}=${raw}: expected an integer >= ${min}`, EXIT.refused);
  return v;
}

function master(env: Env, distUrl: string, addrVar: string, portVar: string): { masterAddr: string; masterPort: number } {
  if (distUrl !== 'env://') {
    const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(distUrl);
    if (!m) throw new TrainingError(`--dist_url ${distUrl}: expected env:// or tcp://HOST:PORT`, EXIT.refused);
    return { masterAddr: m[1], masterPort: Number(m[2]) };
  }
  const masterAddr = env[addrVar];
  if (!masterAddr) throw new TrainingError(`${addrVar} is not set: a multi-process run needs the address of rank 0 (or pass --dist_url tcp://HOST:PORT)`, EXIT.refused);
  const masterPort = int(env, portVar, 1, DEFAULT_MASTER_PORT);
  if (masterPort > 65535) throw new TrainingError(`${portVar}=${masterPort}: expected a port in 1..65535`, EXIT.refused);
  return { masterAddr, masterPort };
}

function checked(r: Rendezvous, rankVar: string): Rendezvous | null {
  if (r.rank >= r.worldSize) throw new TrainingError(`${rankVar}=${r.rank} is not below the world size ${r.worldSize}`, EXIT.refused);
  return r.worldSize === 1 ? null : r;
}

/** The run's rendezvous, or null for a single process. */
export function rendezvousFrom(env: Env, hostname: string, distUrl = 'env://'): Rendezvous | null {
  if (env.RANK !== undefined && env.WORLD_SIZE !== undefined) {
    const worldSize = int(env, 'WORLD_SIZE', 1);
    return checked(
      {
        rank: int(env, 'RANK', 0),
        worldSize,
        localRank: int(env, 'LOCAL_RANK', 0, 0),
        localWorldSize: int(env, 'LOCAL_WORLD_SIZE', 1, worldSize),
        ...(worldSize > 1 ? master(env, distUrl, 'MASTER_ADDR', 'MASTER_PORT') : { masterAddr: '127.0.0.1', masterPort: DEFAULT_MASTER_PORT }),
        from: 'torchrun',
      },
      'RANK',
    );
  }
  if (env.PET_NNODES !== undefined) {
    const nnodes = int(env, 'PET_NNODES', 1);
    const nproc = int(env, 'PET_NPROC_PER_NODE', 1, 1);
    const nodeRank = int(env, 'PET_NODE_RANK', 0, 0);
    if (nodeRank >= nnodes) throw new TrainingError(`PET_NODE_RANK=${nodeRank} is not below PET_NNODES=${nnodes}`, EXIT.refused);
    const localRank = int(env, 'LOCAL_RANK', 0, 0);
    if (localRank >= nproc) throw new TrainingError(`LOCAL_RANK=${localRank} is not below PET_NPROC_PER_NODE=${nproc}`, EXIT.refused);
    const worldSize = nnodes * nproc;
    return checked(
      { rank: nodeRank * nproc + localRank, worldSize, localRank, localWorldSize: nproc, ...(worldSize > 1 ? master(env, distUrl, 'PET_MASTER_ADDR', 'PET_MASTER_PORT') : { masterAddr: '127.0.0.1', masterPort: DEFAULT_MASTER_PORT }), from: 'kubeflow' },
      'PET_NODE_RANK',
    );
  }
  const ordinal = /-(\d+)$/.exec(hostname);
  if (env.WORLD_SIZE !== undefined && env.MASTER_ADDR !== undefined && ordinal) {
    const worldSize = int(env, 'WORLD_SIZE', 1);
    return checked({ rank: Number(ordinal[1]), worldSize, localRank: 0, localWorldSize: 1, ...master(env, distUrl, 'MASTER_ADDR', 'MASTER_PORT'), from: 'statefulset' }, `the ordinal of hostname ${hostname}`);
  }
  return null;
}
