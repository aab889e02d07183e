import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, MerkleTree, leafHash, nodeHash, verifyConsistency, verifyInclusion } from './merkle.ts';

// The RFC 9162 definitions, written recursively over leaf hashes: the reference the stored-level tree must match.
function mth(h: Buffer[]): Buffer {
  if (h.length === 0) return createHash('sha256').digest();
  if (h.length === 1) return h[0]!;
  let k = 1;
  while (k * 2 < h.length) k *= 2;
  return nodeHash(mth(h.slice(0, k)), mth(h.slice(k)));
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));

describe('MerkleTree (RFC 9162)', () => {
  it('has the empty root and hashes leaves with the 0x00 prefix', () => {
    expect(new MerkleTree().root()).toEqual(EMPTY_ROOT);
    expect(leafHash('').toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('gives the recursive definition\'s root for every size and every earlier size', () => {
    const l = leaves(70);
    const t = new MerkleTree(l);
    for (let n = 1; n <= 70; n++) expect(t.root(n).equals(mth(l.slice(0, n)))).toBe(true);
  });

  it('inclusion proofs verify for every leaf of every size, and fail when anything is moved', () => {
    const l = leaves(40);
    const t = new MerkleTree(l);
    for (let n = 1; n <= 40; n++) {
      const root = t.root(n);
      for (let i = 0; i < n; i++) {
        const p = t.inclusionProof(i, n);
        expect(verifyInclusion(i, n, l[i]!, p, root)).toBe(true);
        if (n > 1) expect(verifyInclusion((i + 1) % n, n, l[i]!, p, root)).toBe(false);
        expect(verifyInclusion(i, n, leafHash('other'), p, root)).toBe(false);
      }
    }
  });

  it('consistency proofs verify between every pair of sizes, and fail for a rewritten history', () => {
    const l = leaves(40);
    const t = new MerkleTree(l);
    const forked = new MerkleTree([...l.slice(0, 10), leafHash('rewritten'), ...l.slice(11)]);
    for (let m = 1; m <= 40; m++) {
      for (let n = m; n <= 40; n++) {
        const p = t.consistencyProof(m, n);
        expect(verifyConsistency(m, n, t.root(m), t.root(n), p)).toBe(true);
        if (m > 10 && n > m) expect(verifyConsistency(m, n, t.root(m), forked.root(n), forked.consistencyProof(m, n))).toBe(false);
      }
    }
  });
});
