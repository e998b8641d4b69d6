/** Parity of the iBOT loss, its gradients and the centre update with ibot_loss.json (spec §3). */
import * as T from '@sere/torch';
import { IBOT_LOSS_DEFAULTS, IBOTLoss, maskedRows } from '../objective/ibot-loss';
import { Check, checkClose, checkGradient, checkScalar } from './compare';
import { FixtureNode, within } from './fixture-node';
import { fixtureToTensor } from './fixture-tensor';

/**
 * An iBOT loss with a fixture config's temperatures, momenta and weights, its centres set to
 * the inputs' `center_before` / `center2_before` ([1, K], [1, 1, Kp]).
 */
export function ibotLossFromFixture(c: FixtureNode, inputs: FixtureNode, K: number, Kp: number, device = 'cpu'): IBOTLoss {
  const loss = new IBOTLoss(
    { ...IBOT_LOSS_DEFAULTS, studentTemp: c.num('student_temp'), centerMomentum: c.num('center_momentum'), centerMomentum2: c.num('center_momentum2'), lambda1: c.num('lambda1'), lambda2: c.num('lambda2') },
    K,
    Kp,
    device,
  );
  try {
    T.call('aten::copy_', '', [loss.center, fixtureToTensor(inputs.tensor('center_before', { shape: [1, K] }), device)]);
    T.call('aten::copy_', '', [loss.center2, fixtureToTensor(inputs.tensor('center2_before', { shape: [1, 1, Kp] }), device)]);
  } catch (e) {
    loss.dispose();
    throw e;
  }
  return loss;
}

export function checkIBOTLoss(fx: FixtureNode, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  for (const cs of fx.list('cases')) {
    T.scope(() => {
      const c = cs.at('config');
      const inp = cs.at('inputs');
      const outputs = cs.at('outputs');
      const grads = cs.at('grads');
      const pre = `ibot_loss/${cs.str('name')}`;
      const K = c.dim('out_dim');
      const Kp = c.dim('patch_out_dim');
      const loss = ibotLossFromFixture(c, inp, K, Kp, device);
      try {
        const studentPatchFx = inp.tensor('student_patch', { shape: [null, null, Kp] });
        const [twoB, n, k] = studentPatchFx.shape;
        if (twoB % 2) inp.at('student_patch').fail('a first dimension of 2·B (two global crops)');
        const side = Math.round(Math.sqrt(n));
        const studentCls = fixtureToTensor(inp.tensor('student_cls', { shape: [twoB, K] }), device).setRequiresGrad();
        const studentPatch = fixtureToTensor(studentPatchFx, device).setRequiresGrad();
        const local = inp.opt('student_local_cls')?.tensor(undefined, { shape: [null, K] });
        if (local && local.shape[0] % (twoB / 2)) inp.at('student_local_cls').fail(`a first dimension of L·B (B = ${twoB / 2})`);
        const studentLocal = local ? fixtureToTensor(local, device).setRequiresGrad() : null;
        const teacherCls = fixtureToTensor(inp.tensor('teacher_cls', { shape: [twoB, K] }), device);
        const teacherPatch = fixtureToTensor(inp.tensor('teacher_patch', { shape: [twoB, n, Kp] }), device);
        const masks = inp.tensors('masks', { dtype: 'bool', shape: [twoB / 2, side, side] }).map((m) => Uint8Array.from(m.values));
        if (masks.length !== 2) inp.at('masks').fail('a list of 2 (one per global crop)');
        const rows = maskedRows(masks, twoB / 2, device);
        const flatS = studentPatch.reshape(twoB * n, k);
        const flatT = teacherPatch.reshape(twoB * n, k);
        const out = within(cs, 'the loss', () => loss.forward({
          studentCls,
          studentLocalCls: studentLocal,
          teacherCls,
          studentPatch: T.indexSelect(flatS, 0, rows.index),
          teacherPatch: T.indexSelect(flatT, 0, rows.index),
          rows,
          teacherPatchMean: teacherPatch.mean([1]),
          teacherTemp: cs.num('teacher_temp_used'),
          teacherPatchTemp: cs.num('teacher_patch_temp_used'),
        }));
        checks.push(checkScalar(`${pre}/cls`, out.cls.item(), outputs.num('cls')));
        checks.push(checkScalar(`${pre}/patch`, out.patch.item(), outputs.num('patch')));
        checks.push(checkScalar(`${pre}/loss`, out.total.item(), outputs.num('loss')));
        out.total.backward();
        checks.push(checkGradient(`${pre}/grad/student_cls`, studentCls.grad!, grads.tensor('student_cls')));
        checks.push(checkGradient(`${pre}/grad/student_patch`, studentPatch.grad!, grads.tensor('student_patch')));
        if (studentLocal) checks.push(checkGradient(`${pre}/grad/student_local_cls`, studentLocal.grad!, grads.tensor('student_local_cls')));
        loss.updateCenter(teacherCls, teacherPatch.mean([1]));
        checks.push(checkClose(`${pre}/center_after`, loss.center, outputs.tensor('center_after'), 1e-6, 1e-5));
        checks.push(checkClose(`${pre}/center2_after`, loss.center2, outputs.tensor('center2_after'), 1e-6, 1e-5));
      } finally {
        loss.dispose();
      }
    });
  }
  return checks;
}
