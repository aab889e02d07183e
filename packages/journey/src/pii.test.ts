import { describe, expect, it } from 'vitest';
import { detectPii, luhnValid, spokenDigitsToText } from './pii.ts';

const kinds = (t: string) => detectPii(t).map((f) => f.kind);

describe('PII/PCI detectors v1', () => {
  it('finds card numbers that pass Luhn, written in the usual layouts, and not those that fail it', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(kinds('Your card 4111 1111 1111 1111 is blocked')).toEqual(['card']);
    expect(kinds('card 5500-0000-0000-0004 expires')).toEqual(['card']);
    expect(kinds('amex 378282246310005.')).toEqual(['card']);
    expect(kinds('reference 4111 1111 1111 1112 noted')).toEqual([]); // fails Luhn
    expect(kinds('order number 1234567890123')).toEqual([]);
  });

  it('reads spoken digits the way an ASR transcript writes them', () => {
    expect(spokenDigitsToText('four one double one')).toBe('4 1 1 1');
    const spoken = 'sure your card number is four one one one one one one one one one one one one one one one';
    expect(detectPii(spoken)).toEqual([{ kind: 'card', masked: 'card ····1111' }]);
    expect(kinds('my number is four one one one one one one one one one one one one one one two')).toEqual([]);
  });

  it('finds a CVV only in its context', () => {
    expect(kinds('the CVV is 123')).toEqual(['cvv']);
    expect(kinds('security code: seven three one')).toEqual(['cvv']);
    expect(kinds('you have 123 points')).toEqual([]);
  });

  it('finds national ids (US SSN, UK NI) but not impossible ones', () => {
    expect(kinds('SSN 123-45-6789 on file')).toEqual(['ssn']);
    expect(kinds('social security number is one two three four five six seven eight nine')).toEqual(['ssn']);
    expect(kinds('ssn 666-12-3456')).toEqual([]);
    expect(kinds('NI number QQ 12 34 56 C')).toEqual([]); // QQ is not issued
    expect(kinds('NI number AB 12 34 56 C')).toEqual(['ni']);
  });

  it('finds IBANs with a valid check, e-mails and phone numbers', () => {
    expect(kinds('pay to GB82 WEST 1234 5698 7654 32')).toEqual(['iban']);
    expect(kinds('pay to GB82 WEST 1234 5698 7654 33')).toEqual([]);
    expect(kinds('write to jane.doe@example.com')).toEqual(['email']);
    expect(kinds('call +44 20 7946 0958 or (415) 555-0132')).toEqual(['phone', 'phone']);
    expect(kinds('it costs $5 and takes 5 business days')).toEqual([]);
  });

  it('masks what it reports', () => {
    expect(detectPii('card 4111111111111111, mail jane@example.com').map((f) => f.masked)).toEqual(['card ····1111', 'email ····@example.com']);
  });
});
