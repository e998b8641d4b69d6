import * as T from './index';

describe('tensor basics', () => {
  it('round-trips typed arrays with shape and dtype', () => {
    T.scope(() => {
      const t = T.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float32');
      expect(Array.from(t.data() as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
      const i = T.tensor(BigInt64Array.from([1n, -2n]), [2], { dtype: 'int64' });
      expect(Array.from(i.data() as BigInt64Array)).toEqual([1n, -2n]);
    });
  });

  it('computes matmul, softmax and reductions like the reference formulas', () => {
    T.scope(() => {
      const a = T.tensor([1, 2, 3, 4], [2, 2]);
      expect(Array.from(a.matmul(a).toFloat32Array())).toEqual([7, 10, 15, 22]);
      const s = T.tensor([0, Math.log(3)], [1, 2]).softmax(-1).toFloat32Array();
      expect(s[0]).toBeCloseTo(0.25, 6);
      expect(s[1]).toBeCloseTo(0.75, 6);
      expect(a.sum().item()).toBe(10);
      expect(a.mean([1]).toFloat32Array()).toEqual(Float32Array.from([1.5, 3.5]));
    });
  });

  it('rejects a buffer whose size does not match the shape', () => {
    expect(() => T.tensor(new Float32Array(5), [2, 3])).toThrow(/buffer holds 20 bytes but shape \[2, 3\] of float32 needs 24/);
  });

  it('turns libtorch errors into JS errors naming the op and the shapes', () => {
    T.scope(() => {
      const a = T.zeros([2, 3]);
      const b = T.zeros([4, 5]);
      expect(() => a.matmul(b)).toThrow(/aten::matmul\(float32\[2, 3\], float32\[4, 5\]\): .*cannot be multiplied/);
      expect(() => a.view(7)).toThrow(/aten::view/);
    });
  });

  it('refuses a disposed tensor with a clear message', () => {
    const a = T.zeros([2]);
    a.dispose();
    expect(() => a.add(1)).toThrow(/disposed/);
  });

  it('returns the same object from in-place ops', () => {
    T.scope(() => {
      const a = T.ones([3]);
      const r = T.call('aten::mul_', 'Scalar', [a, 2]);
      expect(r).toBe(a);
      expect(Array.from(a.toFloat32Array())).toEqual([2, 2, 2]);
    });
  });
});

describe('memory scopes', () => {
  it('disposes every intermediate and keeps what is returned', () => {
    const before = T.liveTensors();
    const out = T.scope(() => {
      const a = T.randn([4, 4]);
      const b = a.matmul(a).add(1);
      return { sum: b.sum(), parts: [a.mul(2)] };
    });
    expect(T.liveTensors()).toBe(before + 2);
    T.dispose(out);
    expect(T.liveTensors()).toBe(before);
  });

  it('disposes on exceptions too', () => {
    const before = T.liveTensors();
    expect(() =>
      T.scope(() => {
        T.zeros([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(T.liveTensors()).toBe(before);
  });

  it('keep() takes a tensor out of every open scope', () => {
    const before = T.liveTensors();
    let kept: T.Tensor | undefined;
    T.scope(() => {
      T.scope(() => {
        kept = T.keep(T.ones([1]));
      });
    });
    expect(kept!.disposed).toBe(false);
    expect(T.liveTensors()).toBe(before + 1);
    kept!.dispose();
    expect(T.liveTensors()).toBe(before);
  });
});

describe('autograd', () => {
  it('computes gradients of leaves and respects noGrad', () => {
    T.scope(() => {
      const x = T.tensor([1, 2, 3], [3]).setRequiresGrad();
      x.mul(x).sum().backward();
      expect(Array.from(x.grad!.toFloat32Array())).toEqual([2, 4, 6]);
      const y = T.noGrad(() => x.mul(3));
      expect(y.requiresGrad).toBe(false);
      expect(T.isGradEnabled()).toBe(true);
    });
  });

  it('refuses a gradient of another shape, dtype or device, naming both', () => {
    T.scope(() => {
      const w = T.zeros([2, 3]).setRequiresGrad();
      expect(() => (w.grad = T.ones([3, 2]))).toThrow(
        'setGrad: gradient float32[3, 2] for a tensor float32[2, 3]: the shapes differ',
      );
      expect(() => (w.grad = T.ones([6]))).toThrow(/float32\[6\] for a tensor float32\[2, 3\]: the shapes differ/);
      expect(() => (w.grad = T.ones([2, 3]).double())).toThrow(
        'setGrad: gradient float64[2, 3] for a tensor float32[2, 3]: the dtypes differ',
      );
      // 'meta' tensors have a device other than the CPU and no data, so this runs without CUDA.
      const elsewhere = T.call('aten::empty', 'memory_format', [[2, 3], undefined, undefined, 'meta']);
      expect(() => (w.grad = elsewhere)).toThrow('setGrad: gradient float32[2, 3]@meta for a tensor float32[2, 3]: the devices differ');
      expect(() => (w.grad = w)).toThrow('setGrad: a tensor cannot be its own gradient');
      expect(w.grad).toBeNull();
      w.grad = T.ones([2, 3]);
      expect(Array.from(w.grad!.toFloat32Array())).toEqual([1, 1, 1, 1, 1, 1]);
      w.grad = null;
      expect(w.grad).toBeNull();
    });
  });

  it('reproduces random draws from a seed and restores generator state', () => {
    T.scope(() => {
      T.manualSeed(7);
      const a = T.randn([5]).toFloat32Array();
      T.manualSeed(7);
      const state = T.getRngState();
      const b = T.randn([5]).toFloat32Array();
      T.setRngState(state);
      const c = T.randn([5]).toFloat32Array();
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    });
  });

  it('falls back to the written-out attention with the same result', () => {
    T.scope(() => {
      const q = T.randn([2, 3, 5, 4]);
      const k = T.randn([2, 3, 5, 4]);
      const v = T.randn([2, 3, 5, 4]);
      const fused = T.attention(q, k, v, 0.5).toFloat32Array();
      const plain = T.attention(q, k, v, 0.5, false).toFloat32Array();
      for (let i = 0; i < plain.length; i++) expect(Math.abs(fused[i] - plain[i])).toBeLessThan(1e-5);
    });
  });
});
