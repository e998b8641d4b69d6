import { gaussianBlur } from './blur';
import { compare, pilReference, testPicture } from './testing/pil-reference';

// Expectation: Pillow's ImageFilter.GaussianBlur(radius) under /usr/bin/python3.
describe('gaussian blur matches PIL GaussianBlur', () => {
  const picture = testPicture(53, 37, 2);
  const radii = [0.1, 0.37, 0.8, 1.23, 1.7, 2.0, 9.5];
  const expected = pilReference(picture, radii.map((radius) => ({ op: 'blur' as const, radius })));

  it.each(radii.map((r, i) => [r, i] as const))('radius %s', (radius, i) => {
    const ours = picture.rgb.slice();
    gaussianBlur(ours, picture.width, picture.height, radius);
    const diff = compare(ours, expected[i].rgb);
    expect(diff.max).toBeLessThanOrEqual(2);
    expect(diff.mean).toBeLessThanOrEqual(0.05);
    if (radius >= 0.37) expect(compare(ours, picture.rgb).mean).toBeGreaterThan(1); // it did blur
  });

  it.each([
    [3, 2],
    [5, 9],
    [12, 4],
  ])('handles narrow images (%i x %i) at every box radius, wider than the image included', (w, h) => {
    const tiny = testPicture(w, h, 3);
    const radii = [0.5, 1.2, 2.0, 4];
    const refs = pilReference(tiny, radii.map((radius) => ({ op: 'blur' as const, radius })));
    radii.forEach((radius, i) => {
      const ours = tiny.rgb.slice();
      gaussianBlur(ours, w, h, radius);
      expect(compare(ours, refs[i].rgb).max).toBeLessThanOrEqual(2);
    });
  });

  it('refuses a non-positive radius', () => {
    expect(() => gaussianBlur(new Uint8Array(12), 2, 2, 0)).toThrow(/radius/);
  });
});
