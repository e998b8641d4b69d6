/**
 * Malformed fixture files are failed checks whose message names the file and the field:
 * never a TypeError, a stack trace or a crash. Each case damages one field of a valid file
 * (written to a temporary folder) the way a broken generator or a truncated copy would.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as T from '@sere/torch';
import { FileReport, verifyFixtureFile } from './index';

const REPO = path.resolve(__dirname, '../../../..');
const SOURCES: Record<string, string> = {
  'full_step.json': path.join(REPO, 'test/fixtures/norm-last-layer/full_step.json'),
  'schedules.json': path.join(REPO, 'test/fixtures/reference/schedules.json'),
  'vit_forward.json': path.join(REPO, 'test/fixtures/reference/vit_forward.json'),
  'head_forward.json': path.join(REPO, 'test/fixtures/reference/head_forward.json'),
  'ibot_loss.json': path.join(REPO, 'test/fixtures/reference/ibot_loss.json'),
  'sere_loss.json': path.join(REPO, 'test/fixtures/reference/sere_loss.json'),
};
const texts = new Map<string, string>();
const original = (name: string) => texts.get(name) ?? texts.set(name, fs.readFileSync(SOURCES[name], 'utf8')).get(name)!;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sere-malformed-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let count = 0;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function verifyDamaged(name: string, damage: (fx: any) => void): FileReport {
  const fx = JSON.parse(original(name));
  damage(fx);
  return verifyText(name, JSON.stringify(fx));
}

function verifyText(name: string, text: string): FileReport {
  const dir = path.join(tmp, String(count++));
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, name), text);
  return verifyFixtureFile(path.join(dir, name));
}

/** One failed entry naming the file and the field, and nothing of a crash. */
function expectFieldError(r: FileReport, name: string, ...patterns: RegExp[]): void {
  expect(r.checks).toEqual([]);
  expect(r.error).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
  for (const p of patterns) expect(r.error).toMatch(p);
  expect(r.error).not.toMatch(/TypeError|Cannot read properties|undefined|internal error|\n\s+at /);
}

const W_G = 'head.last_layer.weight_g';
const W_V = 'head.last_layer.weight_v';

describe('a malformed full_step.json', () => {
  it('truncated: cannot be parsed, named', () => {
    const r = verifyText('full_step.json', original('full_step.json').slice(0, 5000));
    expect(r.checks).toEqual([]);
    expect(r.error).toMatch(/^full_step\.json: cannot read .*full_step\.json: /);
  });

  it('not JSON at all', () => {
    expectFieldError(verifyText('full_step.json', '<html>not a fixture</html>'), 'full_step.json', /cannot read/);
  });

  it('a field missing: the step entry of a trainable parameter without its gradient', () => {
    const r = verifyDamaged('full_step.json', (fx) => delete fx.step[W_V].grad_before_clip);
    expectFieldError(r, 'full_step.json', /step\["head\.last_layer\.weight_v"\]\.grad_before_clip: missing/);
  });

  it('a field missing: the config section of the teacher momentum', () => {
    expectFieldError(verifyDamaged('full_step.json', (fx) => delete fx.config.teacher_momentum), 'full_step.json', /config\.teacher_momentum: missing/);
  });

  it('a whole section missing', () => {
    expectFieldError(verifyDamaged('full_step.json', (fx) => delete fx.inputs), 'full_step.json', /^full_step\.json: inputs: missing$/);
  });

  it('a field of the wrong kind', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.config.batch_size = '3'));
    expectFieldError(r, 'full_step.json', /config\.batch_size: expected a positive integer, got '3'/);
  });

  it('tensor data that does not match its declared shape', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.inputs.global_crops[1].shape = [3, 3, 16, 17]));
    expectFieldError(r, 'full_step.json', /inputs\.global_crops\[1\]/);
  });

  it('a consistent tensor of a shape the config does not allow (a weight)', () => {
    const r = verifyDamaged('full_step.json', (fx) => {
      const pos = fx.student_weights['backbone.pos_embed'];
      pos.data[0] = pos.data[0].slice(0, -1);
      pos.shape = [1, pos.shape[1] - 1, pos.shape[2]];
    });
    expectFieldError(r, 'full_step.json', /student_weights\["backbone\.pos_embed"\]\.shape: \[1, 16, 16\], expected \[1, 17, 16\]/);
  });

  it('a consistent tensor of a shape the config does not allow (an input)', () => {
    const r = verifyDamaged('full_step.json', (fx) => {
      const c = fx.inputs.center_before;
      c.data[0] = c.data[0].slice(0, -1);
      c.shape = [1, c.shape[1] - 1];
    });
    expectFieldError(r, 'full_step.json', /inputs\.center_before\.shape: \[1, 23\], expected \[1, 24\]/);
  });

  it('a step tensor of another shape than its parameter', () => {
    const r = verifyDamaged('full_step.json', (fx) => {
      const t = fx.step[W_G].teacher_after;
      t.data = t.data.slice(0, -1);
      t.shape = [t.shape[0] - 1, 1];
    });
    expectFieldError(r, 'full_step.json', /step\["head\.last_layer\.weight_g"\]\.teacher_after\.shape/);
  });

  it('a wrong dtype: float masks where bool ones belong', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.inputs.masks[0].dtype = 'float32'));
    expectFieldError(r, 'full_step.json', /inputs\.masks\[0\]\.dtype: float32, expected bool/);
  });

  it('an unknown dtype', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.teacher_weights['head.mlp.0.bias'].dtype = 'float16'));
    expectFieldError(r, 'full_step.json', /teacher_weights\["head\.mlp\.0\.bias"\]\.dtype: 'float16' is not one of float32, float64, bool, int64/);
  });

  it('a value that is not a number inside tensor data', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.grads['backbone.norm.bias'].data[2] = 'NaN'));
    expectFieldError(r, 'full_step.json', /grads\["backbone\.norm\.bias"\]\.data\[2\]: 'NaN' is not a number/);
  });

  it('a weight the config does not have, and one it needs', () => {
    const extra = verifyDamaged('full_step.json', (fx) => (fx.student_weights['head.mlp.6.weight'] = fx.student_weights['head.mlp.4.weight']));
    expectFieldError(extra, 'full_step.json', /student_weights\["head\.mlp\.6\.weight"\]: no such weight/);
    const missing = verifyDamaged('full_step.json', (fx) => delete fx.teacher_weights['backbone.norm.weight']);
    expectFieldError(missing, 'full_step.json', /teacher_weights: the weight 'backbone\.norm\.weight' .* is missing/);
  });

  it('fewer local crops than the config says', () => {
    const r = verifyDamaged('full_step.json', (fx) => fx.inputs.local_crops.pop());
    expectFieldError(r, 'full_step.json', /inputs\.local_crops: expected a list of 4 crops/);
  });

  it('leaks no tensor on any of these', () => {
    const before = T.liveTensors();
    verifyDamaged('full_step.json', (fx) => delete fx.step[W_V].adam_state_before.exp_avg_sq);
    verifyDamaged('full_step.json', (fx) => (fx.outputs.teacher_cls = null));
    expect(T.liveTensors()).toBe(before);
  });
});

describe('a full_step.json whose values are wrong but well formed fails the checks it should', () => {
  it('a frozen parameter that the step changed', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.step[W_G].param_after.data[0][0] = 1.5));
    expect(r.error).toBeUndefined();
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([`full_step/step/${W_G}/param_after`]);
  });

  it('a teacher that did not follow the frozen parameter', () => {
    const r = verifyDamaged('full_step.json', (fx) => (fx.step[W_G].teacher_after = fx.step[W_G].teacher_before));
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([`full_step/step/${W_G}/teacher_after`]);
  });

  it('a step entry that calls a parameter frozen that ours trains', () => {
    const r = verifyDamaged('full_step.json', (fx) => {
      const st = fx.step[W_V];
      fx.step[W_V] = { requires_grad: false, param_before: st.param_before, param_after: st.param_before };
    });
    expect(r.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail])).toEqual([[`full_step/step/${W_V}/frozen`, 'trainable here']]);
  });
});

describe('the other fixture files, malformed', () => {
  it('schedules.json: a series missing, and one of the wrong length', () => {
    expectFieldError(verifyDamaged('schedules.json', (fx) => delete fx.recipes[1].wd), 'schedules.json', /recipes\[1\]\.wd: missing/);
    const short = verifyDamaged('schedules.json', (fx) => {
      const t = fx.recipes[0].teacher_temp_per_epoch;
      t.data.pop();
      t.shape = [t.data.length];
    });
    expectFieldError(short, 'schedules.json', /recipes\[0\]\.teacher_temp_per_epoch: expected 100 values \(one per epoch\)/);
  });

  it('schedules.json: a warm-up longer than the run names the recipe', () => {
    const r = verifyDamaged('schedules.json', (fx) => (fx.recipes[0].params.warmup_epochs = 200));
    expectFieldError(r, 'schedules.json', /recipes\[0\]\.params: the cosine schedules failed: .*warmupEpochs \(200\) exceeds epochs \(100\)/);
  });

  it('vit_forward.json: heads that do not divide the width', () => {
    const r = verifyDamaged('vit_forward.json', (fx) => (fx.config.num_heads = 5));
    expectFieldError(r, 'vit_forward.json', /config\.num_heads: expected a divisor of embed_dim 24, got 5/);
  });

  it('vit_forward.json: a case without its tokens; a mask of the wrong dtype', () => {
    expectFieldError(verifyDamaged('vit_forward.json', (fx) => delete fx.cases.local.tokens), 'vit_forward.json', /cases\.local\.tokens: missing/);
    expectFieldError(verifyDamaged('vit_forward.json', (fx) => (fx.inputs.mask.dtype = 'int64')), 'vit_forward.json', /inputs\.mask\.dtype: int64, expected bool/);
  });

  it('head_forward.json: a head config field of the wrong kind', () => {
    const r = verifyDamaged('head_forward.json', (fx) => (fx.heads.separate_head.config.norm_last_layer = 'yes'));
    expectFieldError(r, 'head_forward.json', /heads\.separate_head\.config\.norm_last_layer: expected true or false, got 'yes'/);
  });

  it('ibot_loss.json: cases that are not a list; a mask list of one', () => {
    expectFieldError(verifyDamaged('ibot_loss.json', (fx) => (fx.cases = {})), 'ibot_loss.json', /cases: expected a list, got an object/);
    expectFieldError(verifyDamaged('ibot_loss.json', (fx) => fx.cases[2].inputs.masks.pop()), 'ibot_loss.json', /cases\[2\]\.inputs\.masks: expected a list of 2/);
  });

  it('sere_loss.json: a grid of the wrong size; an example index out of range', () => {
    const grid = verifyDamaged('sere_loss.json', (fx) => (fx.config.overlap_size = [6, 4]));
    expectFieldError(grid, 'sere_loss.json', /inputs\.grid1\[0\]\.shape: \[2, 5, 5, 2\], expected \[2, 6, 6, 2\]/);
    const index = verifyDamaged('sere_loss.json', (fx) => (fx.intermediate.sampling_examples[0].grid_index = 99));
    expectFieldError(index, 'sere_loss.json', /intermediate\.sampling_examples\[0\]\.grid_index: expected an index below 6/);
  });
});
