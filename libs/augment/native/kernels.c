/*
 * Pixel kernels of the view pipeline, compiled to WebAssembly with 128-bit SIMD
 * (build.sh). Every kernel reproduces Pillow's integer and float arithmetic exactly (the
 * reference pipeline runs on PIL images), so views match the reference level for level;
 * the TypeScript side computes the filter coefficients and the random parameters.
 *
 * Freestanding: no libc. Pointers are byte offsets into the module's memory. Buffers that a
 * kernel reads with 4-byte pixel loads must have 16 bytes of slack after their end.
 */
#include <stdint.h>
#include <wasm_simd128.h>

typedef uint8_t u8;
typedef int32_t i32;
typedef uint32_t u32;

#define EXPORT(name) __attribute__((export_name(#name)))

/* ---- bicubic resampling (Pillow's ImagingResample, 8 bits per channel) ---------------- */

#define PRECISION_BITS 22 /* 32 - 8 - 2, as Pillow */
#define HALF (1 << (PRECISION_BITS - 1))

static inline u8 clip8(i32 v) {
  v >>= PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (u8)v;
}

/* One RGB pixel widened to i32x4 lanes (R, G, B, next byte); the fourth lane is ignored. */
static inline v128_t load_rgbx(const u8 *p) {
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p)));
}

/* Bytes lane .. lane+2 of b to p[0..2]. */
static inline void store3(u8 *p, v128_t b, int lane) {
  u8 tmp[16];
  wasm_v128_store(tmp, b);
  p[0] = tmp[lane];
  p[1] = tmp[lane + 1];
  p[2] = tmp[lane + 2];
}

/* Horizontal pass: `rows` rows of RGB at `src` (row pitch `stride` bytes, already offset to
 * the crop's left column) → rows of outW pixels. Taps of output x: first[x] .. first[x] +
 * count[x] − 1 relative to the crop, weights w[x·ksize + k] in 22-bit fixed point.
 *
 * Two taps per step with i16 dot products: each weight is split as w = hi·2^11 + lo
 * (0 <= lo < 2^11), and Σ px·w = (Σ px·hi)·2^11 + Σ px·lo, exactly, in i32. `scratch`
 * receives the split weights: outW · ceil(ksize / 2) · 32 bytes. With `flip`, output pixel x
 * is written at outW − 1 − x (the view's horizontal flip, for free). */
EXPORT(resize_h)
void resize_h(const u8 *src, i32 stride, i32 rows, u8 *out, i32 outW, const i32 *first, const i32 *count,
              const i32 *w, i32 ksize, v128_t *scratch, i32 flip) {
  const i32 pairs = (ksize + 1) / 2;
  for (i32 x = 0; x < outW; x++) {
    const i32 *k = w + x * ksize;
    for (i32 t = 0; t < pairs; t++) {
      const i32 w0 = 2 * t < count[x] ? k[2 * t] : 0;
      const i32 w1 = 2 * t + 1 < count[x] ? k[2 * t + 1] : 0;
      const int16_t h0 = (int16_t)(w0 >> 11), h1 = (int16_t)(w1 >> 11);
      const int16_t l0 = (int16_t)(w0 & 2047), l1 = (int16_t)(w1 & 2047);
      scratch[2 * (x * pairs + t)] = wasm_i16x8_make(h0, h1, h0, h1, h0, h1, 0, 0);
      scratch[2 * (x * pairs + t) + 1] = wasm_i16x8_make(l0, l1, l0, l1, l0, l1, 0, 0);
    }
  }
  /* bytes of two neighbouring pixels → i16 lanes (R0, R1, G0, G1, B0, B1, 0, 0) */
  const v128_t spread = wasm_i8x16_make(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1);
  const v128_t half = wasm_i32x4_splat(HALF);
  /* Two rows per sweep share the weight loads. */
  i32 y = 0;
  for (; y + 2 <= rows; y += 2) {
    const u8 *s0 = src + y * stride;
    const u8 *s1 = s0 + stride;
    u8 *o0 = out + y * outW * 3;
    u8 *o1 = o0 + outW * 3;
    /* Destinations ascend either way (x descends when flipping), so each 4-byte store's
     * spare byte is overwritten by the next pixel; a row's last pixel is stored as 3 bytes. */
    for (i32 j = 0; j < outW; j++) {
      const i32 x = flip ? outW - 1 - j : j;
      const i32 off = first[x] * 3;
      const u8 *p0 = s0 + off, *p1 = s1 + off;
      const v128_t *kw = scratch + 2 * x * pairs;
      const i32 n = (count[x] + 1) / 2;
      v128_t hi0 = wasm_i32x4_splat(0), lo0 = hi0, hi1 = hi0, lo1 = hi0;
      for (i32 t = 0; t < n; t++, p0 += 6, p1 += 6, kw += 2) {
        const v128_t kh = kw[0], kl = kw[1];
        const v128_t a = wasm_i8x16_swizzle(wasm_v128_load(p0), spread);
        const v128_t b = wasm_i8x16_swizzle(wasm_v128_load(p1), spread);
        hi0 = wasm_i32x4_add(hi0, wasm_i32x4_dot_i16x8(a, kh));
        lo0 = wasm_i32x4_add(lo0, wasm_i32x4_dot_i16x8(a, kl));
        hi1 = wasm_i32x4_add(hi1, wasm_i32x4_dot_i16x8(b, kh));
        lo1 = wasm_i32x4_add(lo1, wasm_i32x4_dot_i16x8(b, kl));
      }
      const v128_t r0 = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_shl(hi0, 11), lo0), half), PRECISION_BITS);
      const v128_t r1 = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_shl(hi1, 11), lo1), half), PRECISION_BITS);
      const v128_t b = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r0, r1), wasm_i16x8_narrow_i32x4(r0, r1));
      if (j + 1 < outW) {
        wasm_v128_store32_lane(o0 + 3 * j, b, 0);
        wasm_v128_store32_lane(o1 + 3 * j, b, 1);
      } else { /* a fourth byte would land on the next row, already written */
        store3(o0 + 3 * j, b, 0);
        store3(o1 + 3 * j, b, 4);
      }
    }
  }
  for (; y < rows; y++) {
    const u8 *s = src + y * stride;
    u8 *o = out + y * outW * 3;
    for (i32 j = 0; j < outW; j++) { /* the last row: its spare byte falls in the slack */
      const i32 x = flip ? outW - 1 - j : j;
      const u8 *p = s + first[x] * 3;
      const v128_t *kw = scratch + 2 * x * pairs;
      const i32 n = (count[x] + 1) / 2;
      v128_t hi = wasm_i32x4_splat(0), lo = hi;
      for (i32 t = 0; t < n; t++, p += 6, kw += 2) {
        const v128_t px = wasm_i8x16_swizzle(wasm_v128_load(p), spread);
        hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(px, kw[0]));
        lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(px, kw[1]));
      }
      const v128_t r = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_shl(hi, 11), lo), half), PRECISION_BITS);
      const v128_t s16 = wasm_i16x8_narrow_i32x4(r, r);
      wasm_v128_store32_lane(o + 3 * j, wasm_u8x16_narrow_i16x8(s16, s16), 0);
    }
  }
}

/* Vertical pass over rows of `line` bytes: output row o blends rows first[o] .. + count[o]. */
EXPORT(resize_v)
void resize_v(const u8 *src, i32 line, u8 *out, i32 outH, const i32 *first, const i32 *count, const i32 *w,
              i32 ksize) {
  for (i32 o = 0; o < outH; o++) {
    const i32 *k = w + o * ksize;
    const i32 n = count[o];
    const u8 *base = src + first[o] * line;
    u8 *dst = out + o * line;
    i32 x = 0;
    for (; x + 16 <= line; x += 16) {
      v128_t a0 = wasm_i32x4_splat(HALF), a1 = a0, a2 = a0, a3 = a0;
      const u8 *p = base + x;
      for (i32 t = 0; t < n; t++, p += line) {
        const v128_t v = wasm_v128_load(p);
        const v128_t wt = wasm_i32x4_splat(k[t]);
        const v128_t lo = wasm_u16x8_extend_low_u8x16(v);
        const v128_t hi = wasm_u16x8_extend_high_u8x16(v);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(lo), wt));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(lo), wt));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(hi), wt));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(hi), wt));
      }
      a0 = wasm_i32x4_shr(a0, PRECISION_BITS);
      a1 = wasm_i32x4_shr(a1, PRECISION_BITS);
      a2 = wasm_i32x4_shr(a2, PRECISION_BITS);
      a3 = wasm_i32x4_shr(a3, PRECISION_BITS);
      wasm_v128_store(dst + x, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a0, a1), wasm_i16x8_narrow_i32x4(a2, a3)));
    }
    for (; x < line; x++) {
      i32 a = HALF;
      const u8 *p = base + x;
      for (i32 t = 0; t < n; t++, p += line) a += *p * k[t];
      dst[x] = clip8(a);
    }
  }
}

/* Copies `rows` rows of `line` bytes from a buffer of pitch `stride` into a packed one. */
EXPORT(copy_rows)
void copy_rows(const u8 *src, i32 stride, i32 rows, u8 *out, i32 line) {
  for (i32 y = 0; y < rows; y++) {
    const u8 *s = src + y * stride;
    u8 *o = out + y * line;
    for (i32 x = 0; x < line; x++) o[x] = s[x];
  }
}

/* Mirrors each row of a size × size RGB image in place (horizontal flip). */
EXPORT(mirror)
void mirror(u8 *img, i32 size) {
  for (i32 y = 0; y < size; y++) {
    u8 *a = img + y * size * 3;
    u8 *b = a + (size - 1) * 3;
    for (; a < b; a += 3, b -= 3) {
      for (i32 c = 0; c < 3; c++) {
        const u8 t = a[c];
        a[c] = b[c];
        b[c] = t;
      }
    }
  }
}

/* ---- colour (Pillow's ImageEnhance / Convert / ImageOps) ------------------------------ */

/* Per-byte table lookup: brightness and contrast blends with a constant, solarisation. */
EXPORT(apply_lut)
void apply_lut(u8 *img, i32 n, const u8 *lut) {
  for (i32 i = 0; i < n; i++) img[i] = lut[img[i]];
}

/* ITU-R 601-2 luma in Pillow's fixed point (L24 >> 16). */
static inline i32 luma(i32 r, i32 g, i32 b) { return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; }

EXPORT(grayscale)
void grayscale(u8 *img, i32 pixels) {
  for (i32 i = 0; i < pixels; i++) {
    u8 *p = img + 3 * i;
    p[0] = p[1] = p[2] = (u8)luma(p[0], p[1], p[2]);
  }
}

static inline i32 clip255(i32 v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

/* C's round() (half away from zero) for x >= 0, without libm. */
static inline i32 round_pos(double x) {
  const double f = __builtin_floor(x);
  return (i32)(x - f >= 0.5 ? f + 1 : f);
}

/* Four RGB pixels (12 bytes; 16 are read) as R, G, B lanes of i32x4. */
static inline void load4(const u8 *p, v128_t *r, v128_t *g, v128_t *b) {
  const v128_t v = wasm_v128_load(p);
  *r = wasm_i8x16_swizzle(v, wasm_i8x16_make(0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1));
  *g = wasm_i8x16_swizzle(v, wasm_i8x16_make(1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1));
  *b = wasm_i8x16_swizzle(v, wasm_i8x16_make(2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1));
}

/* Writes four pixels from R, G, B lanes (each 0..255) as 12 interleaved bytes. */
static inline void store4(u8 *p, v128_t r, v128_t g, v128_t b) {
  const v128_t packed = wasm_v128_or(r, wasm_v128_or(wasm_i32x4_shl(g, 8), wasm_i32x4_shl(b, 16)));
  const v128_t bytes = wasm_i8x16_swizzle(packed, wasm_i8x16_make(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
  wasm_v128_store64_lane(p, bytes, 0);
  wasm_v128_store32_lane(p + 8, bytes, 2);
}

static inline v128_t luma4(v128_t r, v128_t g, v128_t b) {
  const v128_t s = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(r, wasm_i32x4_splat(19595)), wasm_i32x4_mul(g, wasm_i32x4_splat(38470))),
                                  wasm_i32x4_add(wasm_i32x4_mul(b, wasm_i32x4_splat(7471)), wasm_i32x4_splat(0x8000)));
  return wasm_u32x4_shr(s, 16);
}

/* Applies f (lanes 0, 1 in f64) to an f32x4 value's four lanes, returning the f64 results
 * demoted to f32: a helper for Pillow's "float in, double arithmetic, float out" steps. */
#define F64_LO(x) wasm_f64x2_promote_low_f32x4(x)
#define F64_HI(x) wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(x, x, 2, 3, 0, 1))
#define F32_OF(lo, hi) wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5)
#define I32_OF(lo, hi) wasm_i32x4_shuffle(wasm_i32x4_trunc_sat_f64x2_zero(lo), wasm_i32x4_trunc_sat_f64x2_zero(hi), 0, 1, 4, 5)

/* C's round() for x >= 0 on f64x2 lanes: floor, plus one where the fraction is >= 0.5. */
static inline v128_t round_pos2(v128_t x) {
  const v128_t fl = wasm_f64x2_floor(x);
  const v128_t up = wasm_f64x2_ge(wasm_f64x2_sub(x, fl), wasm_f64x2_splat(0.5));
  return wasm_f64x2_add(fl, wasm_v128_and(up, wasm_f64x2_splat(1.0)));
}

/* round((double)v · m) for lanes of v (i32x4) and m given as two f64x2 halves. */
static inline v128_t scale_round(v128_t vlo, v128_t vhi, v128_t mlo, v128_t mhi) {
  return I32_OF(round_pos2(wasm_f64x2_mul(vlo, mlo)), round_pos2(wasm_f64x2_mul(vhi, mhi)));
}

static inline v128_t clamp255(v128_t v) { return wasm_i32x4_min(wasm_i32x4_max(v, wasm_i32x4_splat(0)), wasm_i32x4_splat(255)); }

/* Lanes 4·part .. 4·part+3 of a u8x16 as i32x4. */
static inline v128_t widen(v128_t v, int part) {
  const v128_t h = part < 2 ? wasm_u16x8_extend_low_u8x16(v) : wasm_u16x8_extend_high_u8x16(v);
  return (part & 1) ? wasm_u32x4_extend_high_u16x8(h) : wasm_u32x4_extend_low_u16x8(h);
}

/* Sum of the luma of `pixels` RGB pixels (the contrast blend needs their mean). Lane sums
 * stay below 2^31 for 2^21 pixels per block, then go to a double. */
EXPORT(luma_sum)
double luma_sum(const u8 *img, i32 pixels) {
  double sum = 0;
  i32 i = 0;
  while (i + 4 <= pixels) {
    v128_t acc = wasm_i32x4_splat(0);
    const i32 end = pixels - i > (1 << 21) ? i + (1 << 21) : pixels;
    for (; i + 4 <= end; i += 4) {
      v128_t r, g, b;
      load4(img + 3 * i, &r, &g, &b);
      acc = wasm_i32x4_add(acc, luma4(r, g, b));
    }
    sum += (double)wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
           wasm_i32x4_extract_lane(acc, 3);
  }
  for (; i < pixels; i++) sum += luma(img[3 * i], img[3 * i + 1], img[3 * i + 2]);
  return sum;
}

/* ImageEnhance.Color: blend every pixel with its own luma, four pixels per step in f32
 * lanes (the same IEEE single operations as Pillow's scalar loop). */
static inline v128_t blend4(v128_t l, v128_t v, v128_t alpha) {
  const v128_t t = wasm_f32x4_add(l, wasm_f32x4_mul(alpha, wasm_f32x4_sub(v, l)));
  /* (u8)t after clipping: truncation toward zero, 0 below, 255 above */
  return clamp255(wasm_i32x4_trunc_sat_f32x4(t));
}

EXPORT(saturation)
void saturation(u8 *img, i32 pixels, float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  i32 i = 0;
  for (; i + 4 <= pixels; i += 4) {
    u8 *p = img + 3 * i;
    v128_t r, g, b;
    load4(p, &r, &g, &b);
    const v128_t l = wasm_f32x4_convert_i32x4(luma4(r, g, b));
    store4(p, blend4(l, wasm_f32x4_convert_i32x4(r), va), blend4(l, wasm_f32x4_convert_i32x4(g), va),
           blend4(l, wasm_f32x4_convert_i32x4(b), va));
  }
  for (; i < pixels; i++) {
    u8 *p = img + 3 * i;
    const float l = (float)luma(p[0], p[1], p[2]);
    for (i32 c = 0; c < 3; c++) {
      const float t = l + alpha * ((float)p[c] - l);
      p[c] = t <= 0.0f ? 0 : t >= 255.0f ? 255 : (u8)t;
    }
  }
}

/* torchvision's PIL hue shift: RGB → 8-bit HSV (Pillow's rgb2hsv), hue + shift mod 256,
 * back with Pillow's hsv2rgb. The float/double mix is Pillow's own; every division it does
 * depends on two bytes only, so it is tabled once (about 330 KB) and the per-pixel loop
 * has none. */
static float ratio_table[256 * 256]; /* [b·256 + a] = (float)a / (float)b, a <= b */
static u8 sat_table[256 * 256];      /* [maxc·256 + chroma] = (int)(((float)chroma / maxc)·255.0) */
static u8 sector_table[256];         /* [h] = floor(h·6/255) */
static float frac_table[256];        /* [h] = h·6/255 − sector */
static float fs_table[256];          /* [s] = s/255 */
static int hsv_ready;

static void hsv_tables(void) {
  for (i32 b = 1; b < 256; b++) {
    for (i32 a = 0; a <= b; a++) {
      ratio_table[b * 256 + a] = (float)a / (float)b;
      sat_table[b * 256 + a] = (u8)clip255((i32)(((float)a / (float)b) * 255.0));
    }
  }
  for (i32 h = 0; h < 256; h++) {
    const i32 i = (i32)__builtin_floor((float)h * 6.0 / 255.0);
    sector_table[h] = (u8)(i % 6);
    frac_table[h] = (float)h * 6.0 / 255.0 - (float)i;
    fs_table[h] = (float)h / 255.0;
  }
  hsv_ready = 1;
}

static void hue_scalar(u8 *img, i32 from, i32 pixels, i32 shift) {
  if (!hsv_ready) hsv_tables();
  for (i32 i = from; i < pixels; i++) {
    u8 *px = img + 3 * i;
    const i32 r = px[0], g = px[1], b = px[2];
    const i32 maxc = r > g ? (r > b ? r : b) : (g > b ? g : b);
    const i32 minc = r < g ? (r < b ? r : b) : (g < b ? g : b);
    if (maxc == minc) continue; /* s = 0: unchanged */
    const float *ratio = ratio_table + (maxc - minc) * 256;
    float h;
    if (r == maxc) h = ratio[maxc - b] - ratio[maxc - g];
    else if (g == maxc) h = 2.0 + ratio[maxc - r] - ratio[maxc - b];
    else h = 4.0 + ratio[maxc - g] - ratio[maxc - r];
    double x = h / 6.0 + 1.0; /* fmod(x, 1.0) for x in [5/6, 7/6] */
    if (x >= 1.0) x -= 1.0;
    h = (float)x;
    const i32 uh = clip255((i32)(h * 255.0));
    const i32 us = sat_table[maxc * 256 + maxc - minc];
    const i32 v = maxc;
    if (us == 0) {
      px[0] = px[1] = px[2] = (u8)v;
      continue;
    }
    const i32 hh = (uh + shift) & 255;
    const float f = frac_table[hh];
    const float fs = fs_table[us];
    const u8 p = (u8)clip255(round_pos((float)v * (1.0 - fs)));
    const u8 q = (u8)clip255(round_pos((float)v * (1.0 - fs * f)));
    const u8 t = (u8)clip255(round_pos((float)v * (1.0 - fs * (1.0 - f))));
    switch (sector_table[hh]) {
      case 0: px[0] = (u8)v; px[1] = t; px[2] = p; break;
      case 1: px[0] = q; px[1] = (u8)v; px[2] = p; break;
      case 2: px[0] = p; px[1] = (u8)v; px[2] = t; break;
      case 3: px[0] = p; px[1] = q; px[2] = (u8)v; break;
      case 4: px[0] = t; px[1] = p; px[2] = (u8)v; break;
      default: px[0] = (u8)v; px[1] = p; px[2] = q; break;
    }
  }
}

/* Four pixels per step, in lanes: the same float and double operations as the scalar path
 * (divisions are correctly rounded in both), selects instead of branches, and the per-byte
 * tables where a lane lookup beat a double division (about 10% faster overall). */
EXPORT(hue)
void hue(u8 *img, i32 pixels, i32 shift) {
  if (!hsv_ready) hsv_tables();
  const v128_t one = wasm_f64x2_splat(1.0);
  i32 i = 0;
  for (; i + 4 <= pixels; i += 4) {
    u8 *px = img + 3 * i;
    v128_t r, g, b;
    load4(px, &r, &g, &b);
    const v128_t maxc = wasm_i32x4_max(r, wasm_i32x4_max(g, b));
    const v128_t minc = wasm_i32x4_min(r, wasm_i32x4_min(g, b));
    const v128_t crf = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(maxc, minc));
    const v128_t maxf = wasm_f32x4_convert_i32x4(maxc);
    /* Pillow: h = bc − gc (red max), 2 + rc − bc (green), 4 + gc − rc (blue), each ratio a
     * float quotient by the chroma. Only two quotients are needed per pixel; the float
     * difference of the red case equals the double one rounded to float, so all three cases
     * share base + A − B in double. Grey lanes divide by zero; they are replaced by v below. */
    const v128_t is_r = wasm_i32x4_eq(r, maxc);
    const v128_t is_g = wasm_i32x4_eq(g, maxc);
    const v128_t nr = wasm_i32x4_sub(maxc, r), ng = wasm_i32x4_sub(maxc, g), nb = wasm_i32x4_sub(maxc, b);
    const v128_t na = wasm_v128_bitselect(nb, wasm_v128_bitselect(nr, ng, is_g), is_r);
    const v128_t nbb = wasm_v128_bitselect(ng, wasm_v128_bitselect(nb, nr, is_g), is_r);
    const v128_t base = wasm_v128_bitselect(wasm_f32x4_splat(0.0f), wasm_v128_bitselect(wasm_f32x4_splat(2.0f), wasm_f32x4_splat(4.0f), is_g), is_r);
    const v128_t qa = wasm_f32x4_div(wasm_f32x4_convert_i32x4(na), crf);
    const v128_t qb = wasm_f32x4_div(wasm_f32x4_convert_i32x4(nbb), crf);
    const v128_t s = wasm_f32x4_div(crf, maxf);
    const v128_t h = F32_OF(wasm_f64x2_sub(wasm_f64x2_add(F64_LO(base), F64_LO(qa)), F64_LO(qb)),
                            wasm_f64x2_sub(wasm_f64x2_add(F64_HI(base), F64_HI(qa)), F64_HI(qb)));
    /* x = h/6 + 1 (double), wrapped to [0, 1), to float, then (int)(x·255.0) */
    v128_t xlo = wasm_f64x2_add(wasm_f64x2_div(F64_LO(h), wasm_f64x2_splat(6.0)), one);
    v128_t xhi = wasm_f64x2_add(wasm_f64x2_div(F64_HI(h), wasm_f64x2_splat(6.0)), one);
    xlo = wasm_f64x2_sub(xlo, wasm_v128_and(wasm_f64x2_ge(xlo, one), one));
    xhi = wasm_f64x2_sub(xhi, wasm_v128_and(wasm_f64x2_ge(xhi, one), one));
    const v128_t hf = F32_OF(xlo, xhi);
    const v128_t k255 = wasm_f64x2_splat(255.0);
    const v128_t uh = clamp255(I32_OF(wasm_f64x2_mul(F64_LO(hf), k255), wasm_f64x2_mul(F64_HI(hf), k255)));
    const v128_t us = clamp255(I32_OF(wasm_f64x2_mul(F64_LO(s), k255), wasm_f64x2_mul(F64_HI(s), k255)));
    /* back to RGB */
    const v128_t hh = wasm_v128_and(wasm_i32x4_add(uh, wasm_i32x4_splat(shift)), wasm_i32x4_splat(255));
    /* sector, fraction and s/255 depend on one byte each: read Pillow's values from tables */
    const i32 h0 = wasm_i32x4_extract_lane(hh, 0), h1 = wasm_i32x4_extract_lane(hh, 1);
    const i32 h2 = wasm_i32x4_extract_lane(hh, 2), h3 = wasm_i32x4_extract_lane(hh, 3);
    const i32 u0 = wasm_i32x4_extract_lane(us, 0), u1 = wasm_i32x4_extract_lane(us, 1);
    const i32 u2 = wasm_i32x4_extract_lane(us, 2), u3 = wasm_i32x4_extract_lane(us, 3);
    const v128_t sector = wasm_i32x4_make(sector_table[h0], sector_table[h1], sector_table[h2], sector_table[h3]);
    const v128_t f = wasm_f32x4_make(frac_table[h0], frac_table[h1], frac_table[h2], frac_table[h3]);
    const v128_t fs = wasm_f32x4_make(fs_table[u0], fs_table[u1], fs_table[u2], fs_table[u3]);
    const v128_t fsf = wasm_f32x4_mul(fs, f); /* float product, as Pillow */
    const v128_t vlo = wasm_f64x2_convert_low_i32x4(maxc);
    const v128_t vhi = wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(maxc, maxc, 2, 3, 0, 1));
    const v128_t pm = clamp255(scale_round(vlo, vhi, wasm_f64x2_sub(one, F64_LO(fs)), wasm_f64x2_sub(one, F64_HI(fs))));
    const v128_t qm = clamp255(scale_round(vlo, vhi, wasm_f64x2_sub(one, F64_LO(fsf)), wasm_f64x2_sub(one, F64_HI(fsf))));
    const v128_t tm = clamp255(scale_round(vlo, vhi,
                                           wasm_f64x2_sub(one, wasm_f64x2_mul(F64_LO(fs), wasm_f64x2_sub(one, F64_LO(f)))),
                                           wasm_f64x2_sub(one, wasm_f64x2_mul(F64_HI(fs), wasm_f64x2_sub(one, F64_HI(f))))));
    const v128_t v = maxc;
    const v128_t s0 = wasm_i32x4_eq(sector, wasm_i32x4_splat(0)); /* the table holds i % 6 */
    const v128_t s1 = wasm_i32x4_eq(sector, wasm_i32x4_splat(1));
    const v128_t s2 = wasm_i32x4_eq(sector, wasm_i32x4_splat(2)), s3 = wasm_i32x4_eq(sector, wasm_i32x4_splat(3));
    const v128_t s4 = wasm_i32x4_eq(sector, wasm_i32x4_splat(4));
    /* sector → (R, G, B): 0 (v,t,p) 1 (q,v,p) 2 (p,v,t) 3 (p,q,v) 4 (t,p,v) 5 (v,p,q) */
    v128_t R = wasm_v128_bitselect(qm, v, s1);
    R = wasm_v128_bitselect(pm, R, wasm_v128_or(s2, s3));
    R = wasm_v128_bitselect(tm, R, s4);
    v128_t G = wasm_v128_bitselect(tm, pm, s0);
    G = wasm_v128_bitselect(v, G, wasm_v128_or(s1, s2));
    G = wasm_v128_bitselect(qm, G, s3);
    v128_t B = wasm_v128_bitselect(pm, qm, wasm_v128_or(s0, s1));
    B = wasm_v128_bitselect(tm, B, s2);
    B = wasm_v128_bitselect(v, B, wasm_v128_or(s3, s4));
    /* grey (and zero-saturation) pixels come back as (v, v, v) */
    const v128_t grey = wasm_i32x4_eq(us, wasm_i32x4_splat(0));
    store4(px, wasm_v128_bitselect(v, R, grey), wasm_v128_bitselect(v, G, grey), wasm_v128_bitselect(v, B, grey));
  }
  hue_scalar(img, i, pixels, shift);
}

/* ---- Gaussian blur (Pillow's extended box blur, 3 passes per axis) -------------------- */

/* bulk = acc·ww + (left + right)·fw + 2^23 < 2^32 for 8-bit input, so u32 lanes are exact. */

/* One horizontal pass over every row. enter/leave/far: byte offsets within a row of the
 * taps entering, leaving and just outside the window at each x; init: the window at −1. */
EXPORT(box_h)
void box_h(const u8 *src, u8 *dst, i32 width, i32 height, const i32 *enter, const i32 *leave, const i32 *far,
           const i32 *init, i32 ninit, u32 ww, u32 fw) {
  const v128_t vww = wasm_i32x4_splat((i32)ww), vfw = wasm_i32x4_splat((i32)fw);
  const v128_t round = wasm_i32x4_splat(1 << 23);
  for (i32 y = 0; y < height; y++) {
    const u8 *s = src + y * width * 3;
    u8 *o = dst + y * width * 3;
    v128_t acc = wasm_i32x4_splat(0);
    for (i32 i = 0; i < ninit; i++) acc = wasm_i32x4_add(acc, load_rgbx(s + init[i]));
    for (i32 x = 0; x < width; x++) {
      const v128_t l = load_rgbx(s + leave[x]);
      acc = wasm_i32x4_add(acc, wasm_i32x4_sub(load_rgbx(s + enter[x]), l));
      v128_t bulk = wasm_i32x4_add(wasm_i32x4_mul(acc, vww), wasm_i32x4_mul(wasm_i32x4_add(l, load_rgbx(s + far[x])), vfw));
      bulk = wasm_u32x4_shr(wasm_i32x4_add(bulk, round), 24);
      o[3 * x] = (u8)wasm_i32x4_extract_lane(bulk, 0);
      o[3 * x + 1] = (u8)wasm_i32x4_extract_lane(bulk, 1);
      o[3 * x + 2] = (u8)wasm_i32x4_extract_lane(bulk, 2);
    }
  }
}

/* box_h for r <= 1 (every radius up to sigma 2.0): the window is at most 5 taps, so each
 * output is computed directly from shifted loads, 16 bytes at a time, instead of with a
 * running sum pixel by pixel. Same integer sums, same result. */
static inline u8 box_small_at(const u8 *s, i32 x, i32 c, i32 width, i32 r, u32 ww, u32 fw) {
  const i32 last = width - 1;
#define AT(i) s[3 * ((i) < 0 ? 0 : (i) > last ? last : (i)) + c]
  u32 sum = 0;
  for (i32 k = -r; k <= r; k++) sum += AT(x + k);
  const u32 far = (u32)AT(x - r - 1) + AT(x + r + 1);
#undef AT
  return (u8)((sum * ww + far * fw + (1u << 23)) >> 24);
}

EXPORT(box_h_small)
void box_h_small(const u8 *src, u8 *dst, i32 width, i32 height, i32 r, u32 ww, u32 fw) {
  const v128_t vww = wasm_i32x4_splat((i32)ww), vfw = wasm_i32x4_splat((i32)fw);
  const v128_t round = wasm_i32x4_splat(1 << 23);
  const i32 edge = r + 1;               /* pixels at each end that need clamping */
  const i32 from = 3 * edge, to = 3 * (width - edge); /* interior bytes [from, to) */
  const i32 near = 3 * r, farOff = 3 * (r + 1);
  for (i32 y = 0; y < height; y++) {
    const u8 *s = src + y * width * 3;
    u8 *o = dst + y * width * 3;
    i32 i = from; /* SIMD covers [from, i); the rest is done byte by byte */
    if (to > from) {
      for (; i + 16 <= to; i += 16) {
        const v128_t c0 = wasm_v128_load(s + i);
        const v128_t fl = wasm_v128_load(s + i - farOff), fr = wasm_v128_load(s + i + farOff);
        /* window sum in u16 lanes: the centre, plus the neighbours at ±3 when r = 1 */
        v128_t sumLo = wasm_u16x8_extend_low_u8x16(c0), sumHi = wasm_u16x8_extend_high_u8x16(c0);
        if (r == 1) {
          const v128_t a = wasm_v128_load(s + i - near), b = wasm_v128_load(s + i + near);
          sumLo = wasm_i16x8_add(sumLo, wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(a), wasm_u16x8_extend_low_u8x16(b)));
          sumHi = wasm_i16x8_add(sumHi, wasm_i16x8_add(wasm_u16x8_extend_high_u8x16(a), wasm_u16x8_extend_high_u8x16(b)));
        }
        const v128_t farLo = wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(fl), wasm_u16x8_extend_low_u8x16(fr));
        const v128_t farHi = wasm_i16x8_add(wasm_u16x8_extend_high_u8x16(fl), wasm_u16x8_extend_high_u8x16(fr));
        v128_t out[4];
        for (int part = 0; part < 4; part++) {
          const v128_t sm = part < 2 ? sumLo : sumHi, fa = part < 2 ? farLo : farHi;
          const v128_t s32 = (part & 1) ? wasm_u32x4_extend_high_u16x8(sm) : wasm_u32x4_extend_low_u16x8(sm);
          const v128_t f32 = (part & 1) ? wasm_u32x4_extend_high_u16x8(fa) : wasm_u32x4_extend_low_u16x8(fa);
          const v128_t bulk = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(s32, vww), wasm_i32x4_mul(f32, vfw)), round);
          out[part] = wasm_u32x4_shr(bulk, 24);
        }
        wasm_v128_store(o + i, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(out[0], out[1]),
                                                       wasm_i16x8_narrow_i32x4(out[2], out[3])));
      }
    }
    /* the clamped ends and the interior tail, byte by byte */
    for (i32 b = 0; b < 3 * width; b = (b + 1 == from && i > from) ? i : b + 1) {
      o[b] = box_small_at(s, b / 3, b % 3, width, r, ww, fw);
    }
  }
}


/* One vertical pass, 16 bytes of every row at a time; enter/leave/far/init are row offsets
 * already multiplied by the row pitch `line`. */
EXPORT(box_v)
void box_v(const u8 *src, u8 *dst, i32 line, i32 height, const i32 *enter, const i32 *leave, const i32 *far,
           const i32 *init, i32 ninit, u32 ww, u32 fw) {
  const v128_t vww = wasm_i32x4_splat((i32)ww), vfw = wasm_i32x4_splat((i32)fw);
  const v128_t round = wasm_i32x4_splat(1 << 23);
  i32 c = 0;
  for (; c + 16 <= line; c += 16) {
    v128_t acc[4] = {wasm_i32x4_splat(0), wasm_i32x4_splat(0), wasm_i32x4_splat(0), wasm_i32x4_splat(0)};
    for (i32 i = 0; i < ninit; i++) {
      const v128_t v = wasm_v128_load(src + init[i] + c);
      for (int part = 0; part < 4; part++) acc[part] = wasm_i32x4_add(acc[part], widen(v, part));
    }
    for (i32 y = 0; y < height; y++) {
      const v128_t e = wasm_v128_load(src + enter[y] + c);
      const v128_t l = wasm_v128_load(src + leave[y] + c);
      const v128_t f = wasm_v128_load(src + far[y] + c);
      v128_t out[4];
      for (int part = 0; part < 4; part++) {
        const v128_t lp = widen(l, part);
        acc[part] = wasm_i32x4_add(acc[part], wasm_i32x4_sub(widen(e, part), lp));
        const v128_t bulk = wasm_i32x4_add(wasm_i32x4_mul(acc[part], vww), wasm_i32x4_mul(wasm_i32x4_add(lp, widen(f, part)), vfw));
        out[part] = wasm_u32x4_shr(wasm_i32x4_add(bulk, round), 24);
      }
      wasm_v128_store(dst + y * line + c,
                      wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(out[0], out[1]), wasm_i16x8_narrow_i32x4(out[2], out[3])));
    }
  }
  for (; c < line; c++) {
    u32 acc = 0;
    for (i32 i = 0; i < ninit; i++) acc += src[init[i] + c];
    for (i32 y = 0; y < height; y++) {
      const u32 l = src[leave[y] + c];
      acc += src[enter[y] + c] - l;
      dst[y * line + c] = (u8)((acc * ww + (l + src[far[y] + c]) * fw + (1u << 23)) >> 24);
    }
  }
}
