/**
 * Latency samples and error counts of one measured phase. Samples go to a
 * preallocated array; past its capacity, reservoir sampling keeps a uniform
 * sample, so memory stays bounded however long the run.
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class Recorder {
  readonly #samples: Float64Array;
  #stored = 0;
  #count = 0;
  #sum = 0;
  #max = 0;
  readonly errors = new Map<string, number>();

  constructor(capacity = 2_000_000) {
    this.#samples = new Float64Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  get errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }

  record(ms: number): void {
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
    if (this.#stored < this.#samples.length) {
      this.#samples[this.#stored++] = ms;
      return;
    }
    const j = Math.floor(Math.random() * this.#count);
    if (j < this.#samples.length) this.#samples[j] = ms;
  }

  error(reason: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  summary(): LatencySummary {
    const sorted = this.#samples.slice(0, this.#stored).sort();
    const at = (p: number): number =>
      sorted.length === 0
        ? Number.NaN
        : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
    return {
      count: this.#count,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: this.#max,
      mean: this.#count === 0 ? Number.NaN : this.#sum / this.#count,
    };
  }
}
