import { rendezvousFrom } from './rendezvous';

describe('rendezvousFrom', () => {
  it('reads torchrun variables first', () => {
    const env = { RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'node0', MASTER_PORT: '29400', PET_NNODES: '4' };
    expect(rendezvousFrom(env, 'trainer-5')).toEqual({ rank: 3, worldSize: 8, localRank: 1, localWorldSize: 2, masterAddr: 'node0', masterPort: 29400, from: 'torchrun' });
  });

  it("reads Kubeflow Trainer's PET_ variables: RANK = node rank × processes per node + LOCAL_RANK", () => {
    const env = { PET_NNODES: '2', PET_NPROC_PER_NODE: '4', PET_NODE_RANK: '1', PET_MASTER_ADDR: 'job-node-0', PET_MASTER_PORT: '23456', LOCAL_RANK: '2' };
    expect(rendezvousFrom(env, 'x')).toMatchObject({ rank: 6, worldSize: 8, localRank: 2, localWorldSize: 4, masterAddr: 'job-node-0', masterPort: 23456, from: 'kubeflow' });
  });

  it("takes a StatefulSet pod's rank from its hostname ordinal", () => {
    expect(rendezvousFrom({ WORLD_SIZE: '8', MASTER_ADDR: 'trainer-0.trainer' }, 'trainer-3')).toMatchObject({ rank: 3, worldSize: 8, masterPort: 29500, from: 'statefulset' });
  });

  it('is a single process without any of them, or with a world of 1', () => {
    expect(rendezvousFrom({}, 'laptop')).toBeNull();
    expect(rendezvousFrom({ RANK: '0', WORLD_SIZE: '1' }, 'laptop')).toBeNull();
  });

  it('takes the master from --dist_url tcp://HOST:PORT', () => {
    expect(rendezvousFrom({ RANK: '1', WORLD_SIZE: '2' }, 'h', 'tcp://10.0.0.1:1234')).toMatchObject({ masterAddr: '10.0.0.1', masterPort: 1234 });
  });

  it.each([
    [{ RANK: '2', WORLD_SIZE: '2', MASTER_ADDR: 'a' }, 'env://', /RANK=2 is not below the world size 2/],
    [{ RANK: 'one', WORLD_SIZE: '2', MASTER_ADDR: 'a' }, 'env://', /RANK=one: expected an integer >= 0/],
    [{ RANK: '1', WORLD_SIZE: '2' }, 'env://', /MASTER_ADDR is not set/],
    [{ RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: 'a', MASTER_PORT: '70000' }, 'env://', /MASTER_PORT=70000: expected a port in 1\.\.65535/],
    [{ RANK: '1', WORLD_SIZE: '2' }, 'file:///tmp/x', /--dist_url file:\/\/\/tmp\/x: expected env:\/\/ or tcp:\/\/HOST:PORT/],
    [{ PET_NNODES: '2', PET_NODE_RANK: '2', PET_MASTER_ADDR: 'a' }, 'env://', /PET_NODE_RANK=2 is not below PET_NNODES=2/],
  ])('refuses %j (%s) naming the variable', (env, url, msg) => {
    expect(() => rendezvousFrom(env, 'h', url)).toThrow(msg);
  });
});
