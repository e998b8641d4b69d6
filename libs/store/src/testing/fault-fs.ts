/**
 * A file-system layer for tests: the real one, plus a rule that can fail any call with a
 * full disk (half the bytes written first, as a real short write does) or "crash" the
 * process at that call: from then on nothing more reaches the disk, so no clean-up runs.
 */
import { nodeFs, type FileHandleLike, type FsLayer } from '../fs-layer';

export type FaultAction = 'enospc' | 'eacces' | 'crash' | undefined;
export type FaultRule = (step: string, index: number) => FaultAction;

export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

function errno(code: string, step: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: simulated at ${step}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export class FaultFs implements FsLayer {
  /** Every call, in order, as "op path" strings (writes as "write path"). */
  readonly steps: string[] = [];
  crashed = false;

  constructor(private readonly rule: FaultRule = () => undefined) {}

  private async gate(step: string): Promise<void> {
    if (this.crashed) throw new SimulatedCrash(`after crash: ${step}`);
    const index = this.steps.push(step) - 1;
    const action = this.rule(step, index);
    if (action === 'crash') {
      this.crashed = true;
      throw new SimulatedCrash(`crash at ${step}`);
    }
    if (action === 'enospc') throw errno('ENOSPC', step);
    if (action === 'eacces') throw errno('EACCES', step);
  }

  async open(file: string, flags: 'w' | 'a' | 'r'): Promise<FileHandleLike> {
    await this.gate(`open:${flags} ${file}`);
    const fh = await nodeFs.open(file, flags);
    return {
      writeFile: async (data) => {
        try {
          await this.gate(`write ${file}`);
        } catch (e) {
          // A full disk takes what fits before refusing the rest.
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') await fh.writeFile(typeof data === 'string' ? data.slice(0, data.length >> 1) : data.subarray(0, data.length >> 1));
          throw e;
        }
        await fh.writeFile(data);
      },
      sync: async () => {
        await this.gate(`sync ${file}`);
        await fh.sync();
      },
      close: async () => {
        await fh.close(); // closing never fails the caller, even after a crash
      },
    };
  }
  async rename(from: string, to: string): Promise<void> {
    await this.gate(`rename ${from} -> ${to}`);
    await nodeFs.rename(from, to);
  }
  async unlink(file: string): Promise<void> {
    await this.gate(`unlink ${file}`);
    await nodeFs.unlink(file);
  }
  async readFile(file: string): Promise<Buffer> {
    await this.gate(`read ${file}`);
    return nodeFs.readFile(file);
  }
  async readdir(dir: string) {
    await this.gate(`readdir ${dir}`);
    return nodeFs.readdir(dir);
  }
  async mkdir(dir: string): Promise<void> {
    await this.gate(`mkdir ${dir}`);
    await nodeFs.mkdir(dir);
  }
  async stat(file: string) {
    await this.gate(`stat ${file}`);
    return nodeFs.stat(file);
  }
  async truncate(file: string, length: number): Promise<void> {
    await this.gate(`truncate ${file}`);
    await nodeFs.truncate(file, length);
  }
}
