// The tools' text helpers: wrapping and cutting to 100 columns, colour only when asked for, and the
// catalog's optional spot figures.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpotFigures, lowestSpot } from './catalog-spot.js';
import { boldHeader, fit, gib, painter, usd, wrap } from './cli-text.js';

describe('the tools\' text', () => {
  it('wraps words within the width, indenting the lines after the first, and cuts a word too long for a line', () => {
    expect(wrap('one two three four', '  ', 9)).toEqual(['one two', '  three', '  four']);
    expect(wrap('', '  ', 9)).toEqual([]);
    expect(wrap('abcdefghijkl', '', 5)).toEqual(['abcde']);
    const long = wrap('word '.repeat(100));
    expect(Math.max(...long.map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('cuts lines longer than the width with an ellipsis and leaves the others', () => {
    expect(fit(`${'x'.repeat(120)}\nshort`)).toBe(`${'x'.repeat(99)}…\nshort`);
  });

  it('colours only when the output is a terminal', () => {
    expect(painter(true)('red', 'x')).toBe('\u001b[31mx\u001b[0m');
    expect(painter(false)('red', 'x')).toBe('x');
    expect(boldHeader('A  B\n1  2\n', painter(true))).toBe('\u001b[1mA  B\u001b[0m\n1  2\n');
  });

  it('formats prices and sizes', () => {
    expect(usd(0.05132)).toBe('0.0513');
    expect([gib(2_097_152), gib(512), gib(45_776)]).toEqual(['2048Gi', '0.5Gi', '44.7Gi']);
  });
});

describe('the catalog\'s spot figures', () => {
  it('are absent without a file, and the lowest zone\'s figure is the type\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orca-spot-'));
    expect(loadSpotFigures(dir, 'us-east-1')).toBeUndefined();
    mkdirSync(join(dir, 'spot'));
    writeFileSync(join(dir, 'spot', 'us-east-1.json'), JSON.stringify({ region: 'us-east-1', source: 's', readAt: 'r', usdPerHour: { a: { 'us-east-1b': 2, 'us-east-1a': 2, 'us-east-1c': 3 } } }));
    const f = loadSpotFigures(dir, 'us-east-1');
    expect(lowestSpot(f, 'a')).toEqual({ zone: 'us-east-1a', usdPerHour: 2 });
    expect(lowestSpot(f, 'b')).toBeUndefined();
    expect(lowestSpot(undefined, 'a')).toBeUndefined();
  });

  it('refuse a file with unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orca-spot-'));
    mkdirSync(join(dir, 'spot'));
    writeFileSync(join(dir, 'spot', 'eu-west-1.json'), JSON.stringify({ region: 'eu-west-1', source: 's', readAt: 'r', usdPerHour: {}, extra: 1 }));
    expect(() => loadSpotFigures(dir, 'eu-west-1')).toThrow(/spot\/eu-west-1\.json: \(top level\): Unrecognized key: "extra"/);
  });
});
