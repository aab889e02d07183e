import { describe, expect, it } from 'vitest';
import { integerWords, normaliseWords } from './normalise.ts';
import { wordErrorRate } from './wer.ts';

describe('normalisation v1', () => {
  it.each([
    ['Hello, World!', 'hello world'],
    ["Don't press 'pound' now.", "don't press pound now"],
    ['Your balance is $1,250.50', 'your balance is one thousand two hundred fifty point five zero dollars'],
    ['Press 1 for billing, 2 for cards', 'press one for billing two for cards'],
    ['the 21st of May', 'the twenty first of may'],
    ['the 3rd option', 'the third option'],
    ['rates rose 10%', 'rates rose ten percent'],
    ['follow-up/next steps', 'follow up next steps'],
  ])('%s', (input, want) => {
    expect(normaliseWords(input).join(' ')).toBe(want);
  });

  it('spells large integers', () => {
    expect(integerWords(2_000_017).join(' ')).toBe('two million seventeen');
    expect(integerWords(0).join(' ')).toBe('zero');
    expect(integerWords(90).join(' ')).toBe('ninety');
  });

  it('makes case, punctuation and digit spelling not count as errors', () => {
    expect(wordErrorRate('Press 5, then #.', 'press five then').rate).toBe(0);
  });
});
