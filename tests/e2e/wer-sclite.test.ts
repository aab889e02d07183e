/**
 * WER parity with NIST sclite: 160 reference/hypothesis pairs (real prompt transcripts from the Asterisk sound
 * set, corrupted by seeded substitutions, deletions and insertions, plus edge cases) scored by sclite and by
 * @vigil/speech must give identical C/S/D/I per utterance. Runs sclite when it is installed (.ci/run installs
 * Debian's sctk); otherwise the test is skipped and says why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { align, normaliseWords, parseTrn, scoreTrn } from '@vigil/speech';

const SCLITE = ['/usr/lib/sctk/bin/sclite', '/usr/bin/sclite'].find((p) => existsSync(p));
const TRANSCRIPTS = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz';

function references(): string[] {
  if (existsSync(TRANSCRIPTS)) {
    return gunzipSync(readFileSync(TRANSCRIPTS)).toString('utf8').split('\n')
      .filter((l) => /^[\w/-]+: .+/.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim()).filter((t) => normaliseWords(t).length >= 3);
  }
  return ['please enter your account number followed by the pound key', 'your call is important to us please stay on the line', 'press one for billing press two for card services'];
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

function pairs(n: number): Array<{ ref: string[]; hyp: string[] }> {
  const refs = references();
  const r = rng(42);
  const vocab = [...new Set(refs.flatMap((t) => normaliseWords(t)))];
  const out: Array<{ ref: string[]; hyp: string[] }> = [
    { ref: ['a', 'b', 'c', 'd'], hyp: ['x', 'y'] },
    { ref: ['a', 'b'], hyp: [] },
    { ref: ['hello', 'world'], hyp: ['hello', 'big', 'world'] },
    { ref: ['the', 'the', 'the'], hyp: ['the'] },
    { ref: ['one', 'two', 'three'], hyp: ['three', 'two', 'one'] },
  ];
  while (out.length < n) {
    const ref = normaliseWords(refs[Math.floor(r() * refs.length)]!);
    const p = r() * 0.5;
    const hyp: string[] = [];
    for (const w of ref) {
      const x = r();
      if (x < p / 3) continue; // deletion
      if (x < (2 * p) / 3) hyp.push(vocab[Math.floor(r() * vocab.length)]!); // substitution
      else hyp.push(w);
      if (r() < p / 3) hyp.push(vocab[Math.floor(r() * vocab.length)]!); // insertion
    }
    out.push({ ref, hyp });
  }
  return out;
}

function scliteScores(ref: string[][], hyp: string[][]): Map<string, [number, number, number, number]> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sclite-'));
  writeFileSync(join(dir, 'ref.trn'), ref.map((w, i) => `${w.join(' ')} (spk_${String(i).padStart(4, '0')})\n`).join(''));
  writeFileSync(join(dir, 'hyp.trn'), hyp.map((w, i) => `${w.join(' ')} (spk_${String(i).padStart(4, '0')})\n`).join(''));
  const out = execFileSync(SCLITE!, ['-r', join(dir, 'ref.trn'), 'trn', '-h', join(dir, 'hyp.trn'), 'trn', '-i', 'rm', '-o', 'pra', 'stdout'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const scores = new Map<string, [number, number, number, number]>();
  let id = '';
  for (const line of out.split('\n')) {
    const idm = /^id: \((.+)\)/.exec(line);
    if (idm) id = idm[1]!;
    const sm = /^Scores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)/.exec(line);
    if (sm) scores.set(id, [Number(sm[1]), Number(sm[2]), Number(sm[3]), Number(sm[4])]);
  }
  return scores;
}

describe('WER parity with sclite', () => {
  const data = pairs(160);

  it.skipIf(!SCLITE)(`gives sclite's C/S/D/I on ${data.length} pairs${SCLITE ? '' : ' (skipped: sclite is not installed; apt-get install sctk)'}`, () => {
    const theirs = scliteScores(data.map((d) => d.ref), data.map((d) => d.hyp));
    expect(theirs.size).toBe(data.length);
    let mismatches = 0;
    data.forEach((d, i) => {
      const a = align(d.ref, d.hyp);
      const want = theirs.get(`spk_${String(i).padStart(4, '0')}`)!;
      const got: [number, number, number, number] = [a.correct, a.substitutions, a.deletions, a.insertions];
      if (got.join() !== want.join()) { mismatches++; console.error(`pair ${i}: ref=${d.ref.join(' ')} | hyp=${d.hyp.join(' ')} | sclite=${want} | vigil=${got}`); }
    });
    expect(mismatches).toBe(0);
  });

  it('scores trn files and reports corpus WER over the reference length', () => {
    const ref = parseTrn('the cat sat on the mat (u1)\nhello world (u2)\n;; a comment\nA B C D (u3)\n', 'ref.trn');
    const hyp = parseTrn('the cat sit on mat (u1)\nhello big world (u2)\nx y (u3)\n', 'hyp.trn');
    const s = scoreTrn(ref, hyp);
    expect(s.utterances.map((u) => [u.wer.correct, u.wer.substitutions, u.wer.deletions, u.wer.insertions])).toEqual([[4, 1, 1, 0], [2, 0, 0, 1], [0, 2, 2, 0]]);
    expect(s.wer.rate).toBeCloseTo(7 / 12, 10);
    expect(() => parseTrn('no id here\n', 'bad.trn')).toThrow(expect.objectContaining({ code: 'VIGIL_E_REQUEST_INVALID', field: 'bad.trn:1' }));
  });
});
