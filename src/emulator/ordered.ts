/**
 * Resource ids in insertion order, with deletions, such that the k-th live id, the rank of a
 * position and the next live position after a cursor all cost O(log n) (a Fenwick tree over
 * "alive" flags). Listing a page is then O(page · log n) whatever the total, and positions
 * never move, so a cursor naming a position stays valid when earlier resources are deleted.
 */
export class OrderedIds {
  private ids: (string | undefined)[] = [];
  private tree = new Int32Array(1024);
  private alive = 0;

  get size(): number {
    return this.alive;
  }

  /** The number of positions ever used; positions are 0-based and never reused. */
  get end(): number {
    return this.ids.length;
  }

  append(id: string): number {
    const position = this.ids.length;
    if (position + 1 >= this.tree.length) this.grow();
    this.ids.push(id);
    this.add(position, 1);
    this.alive++;
    return position;
  }

  remove(position: number): void {
    if (this.ids[position] === undefined) return;
    this.ids[position] = undefined;
    this.add(position, -1);
    this.alive--;
  }

  idAt(position: number): string | undefined {
    return this.ids[position];
  }

  /** Live entries at positions < `position`. */
  rankBefore(position: number): number {
    let sum = 0;
    for (let i = Math.min(position, this.ids.length); i > 0; i -= i & -i) sum += this.tree[i]!;
    return sum;
  }

  /** Position of the k-th live entry (0-based k), or -1. */
  positionOf(k: number): number {
    if (k < 0 || k >= this.alive) return -1;
    let position = 0;
    let remaining = k + 1;
    for (let step = highestPowerOfTwo(this.tree.length - 1); step > 0; step >>= 1) {
      const next = position + step;
      if (next < this.tree.length && this.tree[next]! < remaining) {
        position = next;
        remaining -= this.tree[next]!;
      }
    }
    return position; // tree index position+1 is 1-based, so the 0-based position is `position`.
  }

  /** Positions of the live entries from the k-th (0-based), at most `count` of them. */
  slice(k: number, count: number): number[] {
    const positions: number[] = [];
    for (let i = 0; i < count; i++) {
      const position = this.positionOf(k + i);
      if (position < 0) break;
      positions.push(position);
    }
    return positions;
  }

  private add(position: number, delta: number): void {
    for (let i = position + 1; i < this.tree.length; i += i & -i) this.tree[i]! += delta;
  }

  private grow(): void {
    const tree = new Int32Array(this.tree.length * 2);
    // Rebuild in O(n): each node passes its sum to its parent.
    for (let i = 1; i <= this.ids.length; i++) {
      tree[i]! += this.ids[i - 1] === undefined ? 0 : 1;
      const parent = i + (i & -i);
      if (parent < tree.length) tree[parent]! += tree[i]!;
    }
    this.tree = tree;
  }
}

function highestPowerOfTwo(n: number): number {
  let power = 1;
  while (power * 2 <= n) power *= 2;
  return power;
}
