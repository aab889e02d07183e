import { describe, expect, it } from 'vitest';
import { canonicalJson } from './jcs.ts';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units and writes numbers in ECMAScript form', () => {
    // From RFC 8785 section 3.2.3 (sorting) and 3.2.2.3 (numbers).
    const sorted = canonicalJson({ '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' });
    expect([...sorted.matchAll(/"([^"]+)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string)).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
    expect(canonicalJson({ numbers: [Number('333333333.33333329'), 1e30, 4.50, 2e-3, 0.000000000000000000000000001, -0] })).toBe('{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27,0]}');
    expect(canonicalJson({ b: [1, { d: true, c: null }], a: 'x\n' })).toBe('{"a":"x\\n","b":[1,{"c":null,"d":true}]}');
  });

  it('names the path of a value JSON cannot hold', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(/\$\.a\[1\]/);
  });
});
