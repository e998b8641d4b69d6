/**
 * Child process for local-disk.e2e.ts: puts numbered versions of a checkpoint in a loop
 * until it is killed. Each version's bytes follow from its number, so the parent can tell
 * a whole version from a torn one.
 */
import { LocalStore } from '../../libs/store/src';

const bases = new Map<string, Buffer>();

/**
 * Version `v`'s bytes: one of two fixed random-looking bodies (by parity), with `v` in the
 * first four bytes. Cheap to make, so the writer spends its time writing; a torn file
 * (short, or two bodies mixed) never equals a version's bytes.
 */
export function versionBytes(version: number, size: number): Buffer {
  const key = `${version & 1}:${size}`;
  let base = bases.get(key);
  if (!base) {
    base = Buffer.alloc(size);
    let x = ((version & 1) * 2654435761 + 7) >>> 0;
    for (let i = 0; i < size; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      base[i] = x >>> 24;
    }
    bases.set(key, base);
  }
  const b = Buffer.from(base);
  b.writeUInt32LE(version, 0);
  return b;
}

async function main(): Promise<void> {
  const [dir, sizeArg, startArg] = process.argv.slice(2);
  const store = new LocalStore(dir);
  const size = Number(sizeArg);
  versionBytes(1, size); // make both bodies now, so the loop after 'ready' only writes
  versionBytes(2, size);
  for (let v = Number(startArg); ; v++) {
    await store.put('checkpoint.pth', versionBytes(v, size));
    if (v === Number(startArg)) process.stdout.write('ready\n');
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
