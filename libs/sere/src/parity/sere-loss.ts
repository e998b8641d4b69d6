/** Parity of the SERE pixel and channel losses, alignment and gradients with sere_loss.json (spec §4). */
import * as T from '@sere/torch';
import { bilinearMatrix, resampleRelation } from '../alignment';
import { lossWeights, sereLoss } from '../sere-loss';
import { Check, checkClose, checkGradient, checkScalar } from './compare';
import { fixtureToTensor, FixtureTensor } from './fixture-tensor';

export function stackGrids(grids: FixtureTensor[] | null, device: string): T.Tensor | null {
  if (!grids || grids.length === 0) return null;
  return T.stack(grids.map((g) => fixtureToTensor(g, device)), 0);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function checkSereLoss(fx: any, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  T.scope(() => {
    const c = fx.config;
    const inp = fx.inputs;
    const L = c.ncrops_local;
    const rel = (k: string, grad = false) => {
      const t = fixtureToTensor(inp[k], device);
      return grad ? t.setRequiresGrad() : t;
    };
    const studentPixel = rel('student_relation_pixel_raw', true);
    const studentPixelLocal = rel('student_relation_pixel_local', true);
    const studentChannel = rel('student_relation_channel', true);
    const studentChannelLocal = rel('student_relation_channel_local', true);
    const grids = {
      global1: stackGrids(inp.grid1, device)!,
      global2: stackGrids(inp.grid2, device)!,
      local: stackGrids(inp.grid_local, device),
      globalSide: stackGrids(inp.grid_global, device),
    };
    const cfg = { temperaturePixel: c.temperature_pixel, temperatureChannel: c.temperature_channel };
    const out = sereLoss(cfg, {
      teacherPixel: rel('teacher_relation_pixel_raw'),
      studentPixel,
      studentPixelLocal,
      teacherChannel: rel('teacher_relation_channel'),
      studentChannel,
      studentChannelLocal,
      grids,
    });
    checks.push(checkClose('sere_loss/teacher_relation_pixel_aligned', out.alignedTeacher, fx.intermediate.teacher_relation_pixel_aligned));
    checks.push(checkClose('sere_loss/student_relation_pixel_aligned', out.alignedStudent, fx.intermediate.student_relation_pixel_aligned));
    // Resampling examples of single pairs.
    const G = Math.round(Math.sqrt(c.N_global));
    const g = Math.round(Math.sqrt(c.n_local));
    T.noGrad(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      for (const ex of fx.intermediate.sampling_examples as any[]) {
        const batch = c.batch_size;
        const wl = bilinearMatrix(fixtureToTensor(inp.grid_local[ex.grid_index], device), g);
        const wg = bilinearMatrix(fixtureToTensor(inp.grid_global[ex.grid_index], device), G);
        const local = studentPixelLocal.slice(0, ex.student_local_crop * batch, (ex.student_local_crop + 1) * batch);
        const teacher = rel('teacher_relation_pixel_raw').slice(0, ex.teacher_crop * batch, (ex.teacher_crop + 1) * batch);
        const pre = `sere_loss/sampling[q=${ex.teacher_crop},v=${ex.student_local_crop}]`;
        checks.push(checkClose(`${pre}/student_local_sampled`, resampleRelation(local, wl, wl), ex.student_local_sampled));
        checks.push(checkClose(`${pre}/teacher_global_sampled_div_temp`, resampleRelation(teacher, wg, wg).div(c.temperature_pixel), ex.teacher_global_sampled_div_temp));
      }
    });
    checks.push(checkScalar('sere_loss/loss_pixel', out.pixel.item(), fx.outputs.loss_pixel));
    checks.push(checkScalar('sere_loss/loss_channel', out.channel.item(), fx.outputs.loss_channel));
    const termIndex = (t: { kind: string; teacher_crop: number; student_local_crop?: number }) =>
      t.kind === 'global-global' ? t.teacher_crop : 2 + t.teacher_crop * L + (t.student_local_crop ?? 0);
    const pixelTerms = out.pixelTerms.toFloat32Array();
    const channelTerms = out.channelTerms.toFloat32Array();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    fx.outputs.pixel_terms.forEach((t: any, i: number) => checks.push(checkScalar(`sere_loss/pixel_terms[${i}]`, pixelTerms[termIndex(t)], t.value)));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    fx.outputs.channel_terms.forEach((t: any, i: number) => checks.push(checkScalar(`sere_loss/channel_terms[${i}]`, channelTerms[termIndex(t)], t.value)));
    const w = lossWeights(c.alpha, c.beta);
    const sereWeighted = w.pixel * out.pixel.item() + w.channel * out.channel.item();
    checks.push(checkScalar('sere_loss/sere_weighted', sereWeighted, fx.outputs.sere_weighted));
    checks.push(checkScalar('sere_loss/total_loss', w.ibot * fx.outputs.ibot_loss_value_given + sereWeighted, fx.outputs.total_loss));

    out.pixel.backward();
    out.channel.backward();
    checks.push(checkGradient('sere_loss/grad/pixel_wrt_student_relation_pixel_raw', studentPixel.grad!, fx.grads.d_loss_pixel_d_student_relation_pixel_raw));
    checks.push(checkGradient('sere_loss/grad/pixel_wrt_student_relation_pixel_local', studentPixelLocal.grad!, fx.grads.d_loss_pixel_d_student_relation_pixel_local));
    checks.push(checkGradient('sere_loss/grad/channel_wrt_student_relation_channel', studentChannel.grad!, fx.grads.d_loss_channel_d_student_relation_channel));
    checks.push(checkGradient('sere_loss/grad/channel_wrt_student_relation_channel_local', studentChannelLocal.grad!, fx.grads.d_loss_channel_d_student_relation_channel_local));

    const noLocal = sereLoss(cfg, {
      teacherPixel: rel('teacher_relation_pixel_raw'),
      studentPixel: rel('student_relation_pixel_raw'),
      studentPixelLocal: null,
      teacherChannel: rel('teacher_relation_channel'),
      studentChannel: rel('student_relation_channel'),
      studentChannelLocal: null,
      grids: { ...grids, local: null, globalSide: null },
    });
    checks.push(checkScalar('sere_loss/no_local/loss_pixel', noLocal.pixel.item(), fx.outputs.no_local.loss_pixel));
    checks.push(checkScalar('sere_loss/no_local/loss_channel', noLocal.channel.item(), fx.outputs.no_local.loss_channel));
  });
  return checks;
}
