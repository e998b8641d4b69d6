import { EXIT, EXIT_MEANING, exitCodeOf, formatExitCodes } from './exit-codes';
import { FlagError } from './errors';

describe('exit codes', () => {
  it('gives every code one name and a meaning', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    for (const name of Object.keys(EXIT)) expect(EXIT_MEANING[name as keyof typeof EXIT]).toMatch(/\w/);
    expect(EXIT).toMatchObject({ ok: 0, failed: 1, refused: 2, unavailable: 69, interrupted: 130 });
  });

  it('reads the code an error carries, and nothing from its message', () => {
    expect(exitCodeOf(new FlagError('--epochs: bad'))).toBe(2);
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 69 }))).toBe(69);
    expect(exitCodeOf(new Error('--epochs: looks like a flag error'))).toBeUndefined();
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: 42 }))).toBeUndefined();
    expect(exitCodeOf(Object.assign(new Error('x'), { exitCode: '2' }))).toBeUndefined();
    expect(exitCodeOf(null)).toBeUndefined();
    expect(exitCodeOf('2')).toBeUndefined();
  });

  it('formats a help section from the table, in a command\'s own words where given', () => {
    expect(formatExitCodes(['ok', ['failed', 'problems found'], 'unavailable']).split('\n')).toEqual([
      `  0    ${EXIT_MEANING.ok}`,
      '  1    problems found',
      `  69   ${EXIT_MEANING.unavailable}`,
    ]);
  });
});
