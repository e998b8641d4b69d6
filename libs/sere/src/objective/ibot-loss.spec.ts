import * as T from '@sere/torch';
import { IBOT_LOSS_DEFAULTS, IBOTLoss, maskedRows } from './ibot-loss';

/** The collapse monitor on teacher outputs whose entropies are known in closed form. */
function entropies(teacherRows: number[][]): [number, number] {
  return T.scope(() => {
    const K = teacherRows[0].length;
    const B = teacherRows.length / 2;
    const loss = new IBOTLoss(IBOT_LOSS_DEFAULTS, K, K);
    const teacherCls = T.tensor(teacherRows.flat(), [2 * B, K]);
    const rows = maskedRows(Array.from({ length: 2 * B }, () => new Uint8Array(4)), B, 'cpu');
    const out = loss.forward({
      studentCls: T.zeros([2 * B, K]),
      studentLocalCls: null,
      teacherCls,
      studentPatch: T.zeros([0, K]),
      teacherPatch: T.zeros([0, K]),
      rows,
      teacherPatchMean: T.zeros([2 * B, K]),
      teacherTemp: 0.04,
      teacherPatchTemp: 0.04,
    });
    const r: [number, number] = [out.teacherEntropy.item(), out.teacherBatchEntropy.item()];
    loss.dispose();
    return r;
  });
}

describe('IBOTLoss collapse monitor', () => {
  const K = 8;
  it('reads ln K twice for uniform collapse (every output the same)', () => {
    const [h, hBatch] = entropies(Array.from({ length: 4 }, () => new Array(K).fill(0.3)));
    expect(h).toBeCloseTo(Math.log(K), 5);
    expect(hBatch).toBeCloseTo(Math.log(K), 5);
  });

  it('reads 0 twice for one-hot collapse (every image the same sharp answer)', () => {
    const peaked = Array.from({ length: K }, (_, k) => (k === 2 ? 5 : 0));
    const [h, hBatch] = entropies(Array.from({ length: 4 }, () => peaked));
    expect(h).toBeLessThan(1e-3);
    expect(hBatch).toBeLessThan(1e-3);
  });

  it('reads low per image and high for the batch when images get different sharp answers', () => {
    const rows = Array.from({ length: 4 }, (_, i) => Array.from({ length: K }, (_, k) => (k === i ? 5 : 0)));
    const [h, hBatch] = entropies(rows);
    expect(h).toBeLessThan(1e-3);
    expect(hBatch).toBeCloseTo(Math.log(4), 4);
  });
});

describe('IBOTLoss patch term with no masked token', () => {
  it('is 0 and still reaches the patch head, so every rank has its gradients', () => {
    T.scope(() => {
      const K = 4;
      const B = 1;
      const loss = new IBOTLoss(IBOT_LOSS_DEFAULTS, K, K);
      const head = T.keep(T.ones([3, K]).setRequiresGrad());
      const rows = maskedRows([new Uint8Array(4), new Uint8Array(4)], B, 'cpu');
      expect(rows.count).toBe(0);
      const out = loss.forward({
        studentCls: T.zeros([2 * B, K]),
        studentLocalCls: null,
        teacherCls: T.zeros([2 * B, K]),
        studentPatch: T.zeros([0, 3]).matmul(head),
        teacherPatch: T.zeros([0, K]),
        rows,
        teacherPatchMean: T.zeros([2 * B, K]),
        teacherTemp: 0.04,
        teacherPatchTemp: 0.04,
      });
      expect(out.patch.item()).toBe(0);
      out.total.backward();
      expect(head.grad).not.toBeNull();
      expect(Array.from(head.grad!.toFloat32Array())).toEqual(new Array(3 * K).fill(0));
      head.dispose();
      loss.dispose();
    });
  });
});
