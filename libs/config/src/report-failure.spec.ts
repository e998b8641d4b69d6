import { EXIT } from './exit-codes';
import { reportFailure } from './report-failure';

describe('reportFailure', () => {
  let written: string[];
  const debug = process.env.SERE_DEBUG;
  beforeEach(() => {
    written = [];
    delete process.env.SERE_DEBUG;
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => (written.push(String(s)), true));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    if (debug === undefined) delete process.env.SERE_DEBUG;
    else process.env.SERE_DEBUG = debug;
  });

  it('prints the message of an error with a code, then `more`, and returns its code', () => {
    const e = Object.assign(new Error('--epochs: expected an integer, got "x"'), { exitCode: EXIT.refused });
    expect(reportFailure('sere train', e, 'usage: sere train [flags]\n')).toBe(EXIT.refused);
    expect(written.join('')).toBe('sere train: --epochs: expected an integer, got "x"\nusage: sere train [flags]\n');
  });

  it('answers an error without a code with exit 1 and the SERE_DEBUG hint', () => {
    expect(reportFailure('trainer', new TypeError('x is undefined'))).toBe(EXIT.failed);
    expect(written.join('')).toBe('trainer: x is undefined\n(set SERE_DEBUG=1 for a stack trace)\n');
  });

  it('rethrows an error without a code when SERE_DEBUG is set, and prints nothing', () => {
    process.env.SERE_DEBUG = '1';
    const e = new TypeError('x is undefined');
    expect(() => reportFailure('trainer', e)).toThrow(e);
    expect(written).toEqual([]);
  });
});
