/** "Did you mean …?" for unknown flags: closest names by edit distance, word order and prefixes. */

export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

const words = (name: string) => name.split('_').filter(Boolean);

/**
 * Distance between what was typed and a valid name (both snake_case, lower case).
 * Swapped words (lr_min → min_lr) and prefixes (batch_size → batch_size_per_gpu) count as
 * near, since those are the usual ways to misremember a long flag.
 */
function distance(typed: string, name: string): number {
  const sorted = (s: string) => words(s).sort().join('_');
  let d = Math.min(levenshtein(typed, name), levenshtein(sorted(typed), sorted(name)) + 1);
  if (typed.length >= 2 && name.startsWith(typed)) d = Math.min(d, 1);
  const typedWords = words(typed);
  if (typedWords.length > 0 && typedWords.every((w) => w.length >= 3 && words(name).includes(w))) d = Math.min(d, 2);
  return d;
}

/** Up to `limit` names close to `typed`, best first; empty when nothing is reasonably close. */
export function closestNames(typed: string, names: readonly string[], limit = 3): string[] {
  const t = typed.toLowerCase().replace(/-/g, '_').replace(/^_+/, '');
  const cutoff = Math.max(2, Math.floor(t.length / 3));
  return names
    .map((name) => ({ name, d: distance(t, name) }))
    .filter((c) => c.d <= cutoff)
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, limit)
    .map((c) => c.name);
}
