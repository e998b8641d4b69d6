import { distributedShard, EpochPlan } from './epoch-plan';

const base = { size: 103, seed: 7, epoch: 2, ranks: 4, replicas: 3, slotSize: 5 };

describe('EpochPlan', () => {
  it('reproduces the order from (seed, epoch) and changes it with either', () => {
    const a = new EpochPlan(base).order;
    expect(Array.from(new EpochPlan(base).order)).toEqual(Array.from(a));
    expect(Array.from(new EpochPlan({ ...base, epoch: 3 }).order)).not.toEqual(Array.from(a));
    expect(Array.from(new EpochPlan({ ...base, seed: 8 }).order)).not.toEqual(Array.from(a));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it.each([
    [103, 4, 3, 5],
    [10, 3, 2, 4],
    [7, 7, 1, 1],
    [64, 2, 4, 16],
  ])('gives each rank its DistributedSampler share, slot by slot (N=%i, T=%i, R=%i, S=%i)', (size, ranks, replicas, slotSize) => {
    const plan = new EpochPlan({ ...base, size, ranks, replicas, slotSize });
    const seen: number[] = [];
    const sizes: number[] = [];
    for (let r = 0; r < ranks; r++) {
      sizes.push(plan.rankEpochSize(r));
      const byReplica: number[] = [];
      for (let k = 0; k < replicas; k++) byReplica.push(...plan.slotsOf(r, k));
      expect(byReplica.sort((x, y) => x - y)).toEqual(Array.from({ length: plan.slotsInEpoch(r) }, (_, s) => s));
      const stream: number[] = [];
      for (let s = 0; s < plan.slotsInEpoch(r); s++) {
        const slot = plan.slot(r, s);
        expect(slot.replica).toBe(s % replicas);
        expect(slot.firstPosition).toBe(stream.length);
        stream.push(...slot.indices);
      }
      expect(stream).toEqual(plan.rankStream(r));
      expect(stream).toEqual(Array.from(distributedShard(plan.order, r, ranks)));
      seen.push(...stream);
    }
    // Every image at least once; the padding repeats the order's first T·ceil(N/T) − N images.
    const pad = ranks * Math.ceil(size / ranks) - size;
    expect([...new Set(seen)].sort((x, y) => x - y)).toEqual(Array.from({ length: size }, (_, i) => i));
    expect(seen).toHaveLength(size + pad);
    expect(sizes.every((n) => n === Math.ceil(size / ranks))).toBe(true);
  });

  it('refuses impossible layouts with the numbers in the message', () => {
    expect(() => new EpochPlan({ ...base, size: 3, ranks: 4 })).toThrow('4 trainer ranks but only 3 images');
    expect(() => new EpochPlan({ ...base, slotSize: 0 })).toThrow('slot size must be an integer >= 1, got 0');
    expect(() => new EpochPlan(base).slot(0, 99)).toThrow('slot 99 out of range');
  });
});

describe('distributedShard', () => {
  it("cuts an order as DistributedSampler does: padded from its start to a multiple of W, then every W-th from r", () => {
    const order = Uint32Array.from([5, 3, 0, 4, 1, 2, 6]);
    expect(Array.from(distributedShard(order, 0, 2))).toEqual([5, 0, 1, 6]);
    expect(Array.from(distributedShard(order, 1, 2))).toEqual([3, 4, 2, 5]);
    expect(Array.from(distributedShard(order, 2, 3))).toEqual([0, 2, 3]);
    expect(distributedShard(order, 0, 1)).toBe(order);
  });
});
