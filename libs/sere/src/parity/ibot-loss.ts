/** Parity of the iBOT loss, its gradients and the centre update with ibot_loss.json (spec §3). */
import * as T from '@sere/torch';
import { IBOT_LOSS_DEFAULTS, IBOTLoss, maskedRows } from '../ibot-loss';
import { Check, checkClose, checkGradient, checkScalar } from './compare';
import { fixtureToTensor, FixtureTensor, flatValues } from './fixture-tensor';

function maskArrays(masks: FixtureTensor[]): Uint8Array[] {
  return masks.map((m) => Uint8Array.from(flatValues(m)));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkIBOTLoss(fx: any, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const cs of fx.cases as any[]) {
    T.scope(() => {
      const c = cs.config;
      const inp = cs.inputs;
      const pre = `ibot_loss/${cs.name}`;
      const loss = new IBOTLoss(
        { ...IBOT_LOSS_DEFAULTS, studentTemp: c.student_temp, centerMomentum: c.center_momentum, centerMomentum2: c.center_momentum2, lambda1: c.lambda1, lambda2: c.lambda2 },
        c.out_dim,
        c.patch_out_dim,
        device,
      );
      T.call('aten::copy_', '', [loss.center, fixtureToTensor(inp.center_before, device)]);
      T.call('aten::copy_', '', [loss.center2, fixtureToTensor(inp.center2_before, device)]);
      const studentCls = fixtureToTensor(inp.student_cls, device).setRequiresGrad();
      const studentPatch = fixtureToTensor(inp.student_patch, device).setRequiresGrad();
      const studentLocal = inp.student_local_cls ? fixtureToTensor(inp.student_local_cls, device).setRequiresGrad() : null;
      const teacherCls = fixtureToTensor(inp.teacher_cls, device);
      const teacherPatch = fixtureToTensor(inp.teacher_patch, device);
      const [twoB, n, k] = studentPatch.shape;
      const masks = maskArrays(inp.masks);
      const rows = maskedRows(masks, twoB / 2, device);
      const flatS = studentPatch.reshape(twoB * n, k);
      const flatT = teacherPatch.reshape(twoB * n, k);
      const out = loss.forward({
        studentCls,
        studentLocalCls: studentLocal,
        teacherCls,
        studentPatch: T.indexSelect(flatS, 0, rows.index),
        teacherPatch: T.indexSelect(flatT, 0, rows.index),
        rows,
        teacherPatchMean: teacherPatch.mean([1]),
        teacherTemp: cs.teacher_temp_used,
        teacherPatchTemp: cs.teacher_patch_temp_used,
      });
      checks.push(checkScalar(`${pre}/cls`, out.cls.item(), cs.outputs.cls));
      checks.push(checkScalar(`${pre}/patch`, out.patch.item(), cs.outputs.patch));
      checks.push(checkScalar(`${pre}/loss`, out.total.item(), cs.outputs.loss));
      out.total.backward();
      checks.push(checkGradient(`${pre}/grad/student_cls`, studentCls.grad!, cs.grads.student_cls));
      checks.push(checkGradient(`${pre}/grad/student_patch`, studentPatch.grad!, cs.grads.student_patch));
      if (studentLocal) checks.push(checkGradient(`${pre}/grad/student_local_cls`, studentLocal.grad!, cs.grads.student_local_cls));
      loss.updateCenter(teacherCls, teacherPatch.mean([1]));
      checks.push(checkClose(`${pre}/center_after`, loss.center, cs.outputs.center_after, 1e-6, 1e-5));
      checks.push(checkClose(`${pre}/center2_after`, loss.center2, cs.outputs.center2_after, 1e-6, 1e-5));
      loss.dispose();
    });
  }
  return checks;
}
