/**
 * The waiting line's slot bookkeeping over typed arrays: slots hold chunk numbers in ascending order
 * (`keys`) with a member count each (`counts`), and a 1-based Fenwick tree over those counts gives the
 * members in all lower slots in O(log slots). Plain functions over the line's own arrays, so the line
 * keeps one object and its memory figure.
 */

/** The first slot in [0, n) whose chunk number is >= k (n if none). */
export function lowerBound(keys: Int32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // `?? 0` only satisfies noUncheckedIndexedAccess: indices here are in range
    if ((keys[mid] ?? 0) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Members in slots [0, s). */
export function prefixSum(tree: Int32Array, s: number): number {
  let sum = 0;
  for (let i = s; i > 0; i -= i & -i) sum += tree[i] ?? 0;
  return sum;
}

/** Adds delta to slot s's count, of n slots. */
export function addAt(tree: Int32Array, s: number, n: number, delta: number): void {
  for (let i = s + 1; i <= n; i += i & -i) tree[i] = (tree[i] ?? 0) + delta;
}

/**
 * The tree node of an empty slot just appended after n slots: node i sums slots (i - lowbit(i), i], the
 * last being the new empty one, so it is the difference of two prefixes already in the tree.
 */
export function appendEmpty(tree: Int32Array, n: number): void {
  const i = n + 1;
  tree[i] = prefixSum(tree, n) - prefixSum(tree, i - (i & -i));
}

/** Rebuilds the tree over counts[0 .. n) in O(n). */
export function rebuildTree(tree: Int32Array, counts: Int32Array, n: number): void {
  tree.fill(0);
  for (let i = 1; i <= n; i++) {
    const v = (tree[i] ?? 0) + (counts[i - 1] ?? 0);
    tree[i] = v;
    const j = i + (i & -i);
    if (j <= n) tree[j] = (tree[j] ?? 0) + v;
  }
}
