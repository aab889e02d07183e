/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2) section 2.1: leaf hash SHA-256(0x00 || leaf),
 * interior node SHA-256(0x01 || left || right), the left subtree of n leaves holding the largest power of two
 * below n. `MerkleTree` keeps every level, so roots, inclusion proofs and consistency proofs for any earlier
 * size come from O(log n) stored hashes; the verifiers follow sections 2.1.3.2 and 2.1.4.2.
 */
import { createHash } from 'node:crypto';

export function leafHash(leaf: Uint8Array | string): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(leaf).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

export const EMPTY_ROOT = createHash('sha256').digest();

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class MerkleTree {
  /** levels[0] are leaf hashes; levels[h][i] is the hash of the complete subtree of 2^h leaves starting at i·2^h. */
  readonly #levels: Buffer[][] = [[]];

  constructor(leafHashes: Iterable<Buffer> = []) {
    for (const h of leafHashes) this.append(h);
  }

  get size(): number { return this.#levels[0]!.length; }

  leaf(i: number): Buffer { return this.#levels[0]![i]!; }

  /** Appends a leaf hash; returns its index. */
  append(hash: Buffer): number {
    const index = this.size;
    this.#levels[0]!.push(hash);
    // Complete every subtree this leaf closes.
    let h = 0;
    let i = index;
    while (i % 2 === 1) {
      const level = this.#levels[h]!;
      const parent = nodeHash(level[i - 1]!, level[i]!);
      h++;
      if (!this.#levels[h]) this.#levels[h] = [];
      this.#levels[h]!.push(parent);
      i = (i - 1) / 2;
    }
    return index;
  }

  /** MTH(D[start:end]). */
  #hash(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 1) return this.#levels[0]![start]!;
    // A complete, aligned subtree is stored.
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const h = Math.log2(n);
      const stored = this.#levels[h]?.[start / n];
      if (stored) return stored;
    }
    const k = split(n);
    return nodeHash(this.#hash(start, start + k), this.#hash(start + k, end));
  }

  root(size = this.size): Buffer {
    this.#checkSize(size);
    return size === 0 ? EMPTY_ROOT : this.#hash(0, size);
  }

  /** Audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 2.1.3.1), leaf to root. */
  inclusionProof(index: number, size = this.size): Buffer[] {
    this.#checkSize(size);
    if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
    const path: Buffer[] = [];
    const walk = (m: number, start: number, end: number): void => {
      const n = end - start;
      if (n === 1) return;
      const k = split(n);
      if (m < k) { walk(m, start, start + k); path.push(this.#hash(start + k, end)); }
      else { walk(m - k, start + k, end); path.push(this.#hash(start, start + k)); }
    };
    walk(index, 0, size);
    return path;
  }

  /** Proof that the tree of `second` leaves extends the tree of `first` (RFC 9162 2.1.4.1). */
  consistencyProof(first: number, second = this.size): Buffer[] {
    this.#checkSize(second);
    if (!(first >= 1 && first <= second)) throw new RangeError(`no consistency proof from ${first} to ${second}`);
    const proof: Buffer[] = [];
    const sub = (m: number, start: number, end: number, whole: boolean): void => {
      const n = end - start;
      if (m === n) { if (!whole) proof.push(this.#hash(start, end)); return; }
      const k = split(n);
      if (m <= k) { sub(m, start, start + k, whole); proof.push(this.#hash(start + k, end)); }
      else { sub(m - k, start + k, end, false); proof.push(this.#hash(start, start + k)); }
    };
    sub(first, 0, second, true);
    return proof;
  }

  #checkSize(size: number): void {
    if (!(Number.isInteger(size) && size >= 0 && size <= this.size)) throw new RangeError(`the tree has ${this.size} leaves, not ${size}`);
  }
}

/** RFC 9162 2.1.3.2. */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2. */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (first < 1 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
