import { closestNames, levenshtein } from './suggest';

const NAMES = ['batch_size_per_gpu', 'patch_size', 'min_lr', 'lr', 'teacher_temp', 'warmup_teacher_temp', 'epochs'];

describe('closestNames', () => {
  it('edit distance', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(closestNames('epoch', NAMES)[0]).toBe('epochs');
    expect(closestNames('teacher-tmp', NAMES)[0]).toBe('teacher_temp');
  });
  it('finds swapped words and prefixes', () => {
    expect(closestNames('lr_min', NAMES)[0]).toBe('min_lr');
    expect(closestNames('batch_size', NAMES)[0]).toBe('batch_size_per_gpu');
    expect(closestNames('batch', NAMES)).toEqual(['batch_size_per_gpu']);
  });
  it('suggests nothing for unrelated names and at most the limit', () => {
    expect(closestNames('xyzzy', NAMES)).toEqual([]);
    expect(closestNames('temp', NAMES, 2).length).toBeLessThanOrEqual(2);
  });
});
