/** Keeps the k entries with the smallest keys seen so far (a bounded max-heap). */
export class BottomK<T> {
  private keys: number[] = [];
  private vals: T[] = [];

  constructor(private readonly k: number) {}

  get size(): number {
    return this.keys.length;
  }

  push(key: number, value: T): void {
    if (this.k <= 0) return;
    if (this.keys.length < this.k) {
      this.keys.push(key);
      this.vals.push(value);
      this.up(this.keys.length - 1);
    } else if (key < this.keys[0]) {
      this.keys[0] = key;
      this.vals[0] = value;
      this.down(0);
    }
  }

  values(): T[] {
    return this.vals.slice();
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.vals[a], this.vals[b]] = [this.vals[b], this.vals[a]];
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p] >= this.keys[i]) break;
      this.swap(p, i);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.keys[l] > this.keys[m]) m = l;
      if (r < n && this.keys[r] > this.keys[m]) m = r;
      if (m === i) break;
      this.swap(m, i);
      i = m;
    }
  }
}
