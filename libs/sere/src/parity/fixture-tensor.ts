/**
 * Tensors in the golden-fixture encoding {dtype, shape, data: nested arrays} as libtorch
 * tensors, and fixture weight maps loaded into a model built from the file's config.
 * Shapes always come from the file (the acceptance set uses other shapes).
 */
import * as T from '@sere/torch';
import { FixtureError, FixtureNode, FixtureTensor } from './fixture-node';
import { ParamStore } from '../model/params';

export type { FixtureTensor } from './fixture-node';

/** A libtorch tensor from a fixture tensor (bool stays bool, int64 stays int64). */
export function fixtureToTensor(t: FixtureTensor, device = 'cpu'): T.Tensor {
  const values = t.values;
  switch (t.dtype) {
    case 'bool':
      return T.tensor(Uint8Array.from(values), t.shape, { dtype: 'bool', device });
    case 'int64':
      return T.tensor(BigInt64Array.from(values.map((v) => BigInt(v))), t.shape, { dtype: 'int64', device });
    case 'float64':
      return T.tensor(Float64Array.from(values), t.shape, { dtype: 'float64', device });
    default:
      return T.tensor(Float32Array.from(values), t.shape, { dtype: 'float32', device });
  }
}

// The reference's state dicts carry it; the fixtures leave it out (it never enters a computation).
const UNEXPORTED = /(^|\.)num_batches_tracked$/;

/**
 * Copies a fixture weight map (`name → tensor`) into stores built from the file's config, so
 * that a weight the config does not explain (unknown name, missing, other shape) fails
 * naming the weight. `stores` pairs a name prefix (e.g. `backbone.`) with its store.
 */
export function loadFixtureWeights(weights: FixtureNode, stores: ReadonlyArray<readonly [string, ParamStore]>, device = 'cpu'): void {
  const loaded = new Set<string>();
  T.noGrad(() =>
    T.scope(() => {
      for (const [name, node] of weights.entries()) {
        const match = stores.find(([prefix, store]) => name.startsWith(prefix) && store.has(name.slice(prefix.length)));
        if (!match) throw new FixtureError(`${node.path}: no such weight in the model the file's config describes`);
        const dest = match[1].get(name.slice(match[0].length));
        const t = fixtureToTensor(node.tensor(), device);
        if (dest.shape.join(',') !== t.shape.join(',')) {
          throw new FixtureError(`${node.path}.shape: [${t.shape.join(', ')}], expected [${dest.shape.join(', ')}] (from the file's config)`);
        }
        T.call('aten::copy_', '', [dest, t]);
        loaded.add(name);
      }
    }),
  );
  for (const [prefix, store] of stores) {
    for (const key of [...store.tensors.keys(), ...store.buffers.keys()]) {
      const name = prefix + key;
      if (!loaded.has(name) && !UNEXPORTED.test(name)) throw new FixtureError(`${weights.path}: the weight '${name}' that the file's config implies is missing`);
    }
  }
}
