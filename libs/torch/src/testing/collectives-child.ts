/**
 * One rank of distributed.spec.ts: joins a group from RANK/WORLD_SIZE/MASTER_PORT, runs the
 * collective named by SERE_TEST_CASE and prints what it saw as one JSON line (or the error).
 */
import * as T from '../index';

const env = process.env;
const rank = Number(env.RANK);
const worldSize = Number(env.WORLD_SIZE);
const values = (t: T.Tensor) => Array.from(t.toFloat32Array());

function main(): unknown {
  const group = T.ProcessGroup.join({ masterAddr: env.MASTER_ADDR ?? '127.0.0.1', masterPort: Number(env.MASTER_PORT), rank, worldSize, timeoutSeconds: Number(env.TIMEOUT ?? 10) });
  switch (env.SERE_TEST_CASE) {
    case 'collectives': {
      const sum = T.tensor([rank + 1, 10 * (rank + 1)], [2]);
      group.allReduce([sum], 'sum');
      const avg = T.tensor([rank + 1], [1]);
      group.allReduce([avg], 'avg');
      const max = T.tensor([rank], [1]);
      group.allReduce([max], 'max');
      const b = T.tensor([rank * 7 + 1], [1]);
      group.broadcast([b], 1);
      const gathered = group.allGather(T.tensor([rank * 2], [1])).map((t) => t.item());
      // d/dw of Σ_r (r+1)·Σ(w·(r+1)) summed over ranks: each rank's w gets (Σ_q (q+1))·(r+1).
      const w = T.tensor([1, 2], [2]).setRequiresGrad(true);
      const s = group.allReduceSum(w.mul(rank + 1));
      s.sum().mul(rank + 1).backward();
      // The reducer averages: grads (r+1) on rank r average to (1+…+W)/W.
      const p = T.tensor([1, 1, 1], [3]).setRequiresGrad(true);
      const reducer = new T.GradientReducer(group, [p]);
      const grads: number[][] = [];
      for (let i = 0; i < 2; i++) {
        const out = p.mul((rank + 1) * (i + 1)).sum();
        reducer.prepareForBackward([out]);
        out.backward();
        grads.push(values(p.grad!));
        p.grad = null;
      }
      group.barrier();
      reducer.close();
      return { sum: values(sum), avg: values(avg), max: values(max), broadcast: values(b), gathered, allReduceSum: values(s), grad: values(w.grad!), reducer: grads };
    }
    case 'peer-dies': {
      group.barrier();
      if (rank === 1) process.exit(9);
      const t = T.tensor([1], [1]);
      for (;;) group.allReduce([t]);
    }
    default:
      return { joined: true };
  }
}

try {
  const t0 = Date.now();
  const out = main();
  process.stdout.write(JSON.stringify({ ok: true, out, ms: Date.now() - t0 }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).message, collective: T.isCollectiveError(e) }) + '\n');
}
