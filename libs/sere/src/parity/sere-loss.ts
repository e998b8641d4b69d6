/** Parity of the SERE pixel and channel losses, alignment and gradients with sere_loss.json (spec §4). */
import * as T from '@sere/torch';
import { bilinearMatrix, resampleRelation } from '../objective/alignment';
import { lossWeights, sereLoss } from '../objective/sere-loss';
import { Check, checkClose, checkGradient, checkScalar } from './compare';
import { FixtureNode, FixtureTensor, within } from './fixture-node';
import { fixtureToTensor } from './fixture-tensor';

export function stackGrids(grids: FixtureTensor[] | null, device: string): T.Tensor | null {
  if (!grids || grids.length === 0) return null;
  return T.stack(grids.map((g) => fixtureToTensor(g, device)), 0);
}

/** A list of `count` overlap grids [B, S, S, 2] (spec §4.2). */
export function gridList(n: FixtureNode, key: string, count: number, batch: number, side: number): FixtureTensor[] {
  const grids = n.tensors(key, { dtype: ['float32', 'float64'], shape: [batch, side, side, 2] });
  if (grids.length !== count) n.at(key).fail(`a list of ${count} grids`);
  return grids;
}

/**
 * The overlap grids of a fixture (spec §4.2), sizes from its config: grid1 and grid2 of the
 * global pair and, with local crops, grid_local and grid_global, as lists and stacked.
 */
export function gridsFromFixture(c: FixtureNode, inp: FixtureNode, B: number, L: number, device: string) {
  const [S1, S2] = c.list('overlap_size').map((s) => s.dim());
  const s = c.dim('local_global_grid_size');
  const local = L ? gridList(inp, 'grid_local', 2 * L, B, s) : [];
  const global = L ? gridList(inp, 'grid_global', 2 * L, B, s) : [];
  return {
    local,
    global,
    grids: {
      global1: stackGrids(gridList(inp, 'grid1', 2, B, S1), device)!,
      global2: stackGrids(gridList(inp, 'grid2', 2, B, S2), device)!,
      local: stackGrids(local, device),
      globalSide: stackGrids(global, device),
    },
  };
}

/** An integer field that indexes a list of `size`. */
function index(n: FixtureNode, key: string, size: number): number {
  const i = n.int(key);
  if (i >= size) n.at(key).fail(`an index below ${size}`);
  return i;
}

export function checkSereLoss(fx: FixtureNode, device = 'cpu'): Check[] {
  const checks: Check[] = [];
  T.scope(() => {
    const c = fx.at('config');
    const inp = fx.at('inputs');
    const outputs = fx.at('outputs');
    const grads = fx.at('grads');
    const B = c.dim('batch_size');
    const L = c.dim('ncrops_local');
    const H = c.dim('num_heads');
    const C = c.dim('channels');
    const N = c.dim('N_global');
    const n = c.dim('n_local');
    const G = Math.round(Math.sqrt(N));
    const g = Math.round(Math.sqrt(n));
    if (G * G !== N) c.at('N_global').fail('a square token count');
    if (g * g !== n) c.at('n_local').fail('a square token count');
    const rel = (k: string, shape: number[], grad = false) => {
      const t = fixtureToTensor(inp.tensor(k, { shape }), device);
      return grad ? t.setRequiresGrad() : t;
    };
    const studentPixel = rel('student_relation_pixel_raw', [2 * B, H, N, N], true);
    const studentPixelLocal = rel('student_relation_pixel_local', [L * B, H, n, n], true);
    const studentChannel = rel('student_relation_channel', [2 * B, C, C], true);
    const studentChannelLocal = rel('student_relation_channel_local', [L * B, C, C], true);
    const teacherPixel = () => rel('teacher_relation_pixel_raw', [2 * B, H, N, N]);
    const teacherChannel = () => rel('teacher_relation_channel', [2 * B, C, C]);
    const { local: gridLocal, global: gridGlobal, grids } = gridsFromFixture(c, inp, B, L, device);
    const cfg = { temperaturePixel: c.num('temperature_pixel'), temperatureChannel: c.num('temperature_channel') };
    const out = within(fx, 'the SERE losses', () => sereLoss(cfg, {
      teacherPixel: teacherPixel(),
      studentPixel,
      studentPixelLocal,
      teacherChannel: teacherChannel(),
      studentChannel,
      studentChannelLocal,
      grids,
    }));
    const inter = fx.at('intermediate');
    checks.push(checkClose('sere_loss/teacher_relation_pixel_aligned', out.alignedTeacher, inter.tensor('teacher_relation_pixel_aligned')));
    checks.push(checkClose('sere_loss/student_relation_pixel_aligned', out.alignedStudent, inter.tensor('student_relation_pixel_aligned')));
    // Resampling examples of single pairs.
    T.noGrad(() => {
      for (const ex of inter.list('sampling_examples')) {
        const k = index(ex, 'grid_index', 2 * L);
        const q = index(ex, 'teacher_crop', 2);
        const v = index(ex, 'student_local_crop', L);
        const wl = bilinearMatrix(fixtureToTensor(gridLocal[k], device), g);
        const wg = bilinearMatrix(fixtureToTensor(gridGlobal[k], device), G);
        const local = studentPixelLocal.slice(0, v * B, (v + 1) * B);
        const teacher = teacherPixel().slice(0, q * B, (q + 1) * B);
        const pre = `sere_loss/sampling[q=${q},v=${v}]`;
        checks.push(checkClose(`${pre}/student_local_sampled`, resampleRelation(local, wl, wl), ex.tensor('student_local_sampled')));
        checks.push(checkClose(`${pre}/teacher_global_sampled_div_temp`, resampleRelation(teacher, wg, wg).div(cfg.temperaturePixel), ex.tensor('teacher_global_sampled_div_temp')));
      }
    });
    checks.push(checkScalar('sere_loss/loss_pixel', out.pixel.item(), outputs.num('loss_pixel')));
    checks.push(checkScalar('sere_loss/loss_channel', out.channel.item(), outputs.num('loss_channel')));
    // Terms in our order: the two global-global pairs, then q·L + v for each global-local pair.
    const termIndex = (t: FixtureNode) => {
      const kind = t.str('kind');
      if (kind === 'global-global') return index(t, 'teacher_crop', 2);
      if (kind === 'global-local') return 2 + index(t, 'teacher_crop', 2) * L + index(t, 'student_local_crop', L);
      return t.at('kind').fail("'global-global' or 'global-local'");
    };
    const pixelTerms = out.pixelTerms.toFloat32Array();
    const channelTerms = out.channelTerms.toFloat32Array();
    outputs.list('pixel_terms').forEach((t, i) => checks.push(checkScalar(`sere_loss/pixel_terms[${i}]`, pixelTerms[termIndex(t)], t.num('value'))));
    outputs.list('channel_terms').forEach((t, i) => checks.push(checkScalar(`sere_loss/channel_terms[${i}]`, channelTerms[termIndex(t)], t.num('value'))));
    const w = lossWeights(c.num('alpha'), c.num('beta'));
    const sereWeighted = w.pixel * out.pixel.item() + w.channel * out.channel.item();
    checks.push(checkScalar('sere_loss/sere_weighted', sereWeighted, outputs.num('sere_weighted')));
    checks.push(checkScalar('sere_loss/total_loss', w.ibot * outputs.num('ibot_loss_value_given') + sereWeighted, outputs.num('total_loss')));

    out.pixel.backward();
    out.channel.backward();
    checks.push(checkGradient('sere_loss/grad/pixel_wrt_student_relation_pixel_raw', studentPixel.grad!, grads.tensor('d_loss_pixel_d_student_relation_pixel_raw')));
    checks.push(checkGradient('sere_loss/grad/pixel_wrt_student_relation_pixel_local', studentPixelLocal.grad!, grads.tensor('d_loss_pixel_d_student_relation_pixel_local')));
    checks.push(checkGradient('sere_loss/grad/channel_wrt_student_relation_channel', studentChannel.grad!, grads.tensor('d_loss_channel_d_student_relation_channel')));
    checks.push(checkGradient('sere_loss/grad/channel_wrt_student_relation_channel_local', studentChannelLocal.grad!, grads.tensor('d_loss_channel_d_student_relation_channel_local')));

    const noLocal = sereLoss(cfg, {
      teacherPixel: teacherPixel(),
      studentPixel: rel('student_relation_pixel_raw', [2 * B, H, N, N]),
      studentPixelLocal: null,
      teacherChannel: teacherChannel(),
      studentChannel: rel('student_relation_channel', [2 * B, C, C]),
      studentChannelLocal: null,
      grids: { ...grids, local: null, globalSide: null },
    });
    const nl = outputs.at('no_local');
    checks.push(checkScalar('sere_loss/no_local/loss_pixel', noLocal.pixel.item(), nl.num('loss_pixel')));
    checks.push(checkScalar('sere_loss/no_local/loss_channel', noLocal.channel.item(), nl.num('loss_channel')));
  });
  return checks;
}
