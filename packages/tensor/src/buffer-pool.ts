/**
 * A pool of storage buffers. Tensors take buffers from it and give them back on dispose; a buffer
 * given back is reused by the next tensor of the same size class. Live and pooled bytes are
 * counted so tests can assert that nothing leaks.
 *
 * Reuse inside one command batch is safe for buffers that kernels write: commands run in the
 * order they were recorded. Only `queue.writeBuffer` jumps the queue (it runs before the batch is
 * submitted), so a buffer freed in the batch still being recorded is marked and an upload into it
 * first submits the batch (see `Device.upload`).
 */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** Stable id, for bind-group cache keys. */
  readonly id: number;
  /** Bytes the GPU buffer really has (the size class). */
  readonly capacity: number;
  /** The batch in which this buffer was last given back, -1 if never. */
  freedInBatch: number;
}

const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/** Rounds a request up to its size class: powers of two up to 64 KiB, then steps of 1/8 of a power of two. */
export function sizeClass(byteLength: number): number {
  const n = Math.max(256, Math.ceil(byteLength / 4) * 4);
  if (n <= 65536) return 2 ** Math.ceil(Math.log2(n));
  const step = 2 ** (Math.floor(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, PooledBuffer[]>();
  private nextId = 1;
  /** Bytes held by live tensors (size classes, i.e. what the GPU really holds for them). */
  liveBytes = 0;
  /** Bytes of free buffers kept for reuse. */
  pooledBytes = 0;
  peakLiveBytes = 0;
  liveBuffers = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly onDestroy: () => void,
  ) {}

  acquire(byteLength: number, label?: string): PooledBuffer {
    const capacity = sizeClass(byteLength);
    let entry = this.free.get(capacity)?.pop() ?? this.takeLarger(capacity);
    if (entry) {
      this.pooledBytes -= entry.capacity;
    } else {
      const buffer = this.device.createBuffer({ size: capacity, usage: STORAGE_USAGE, label });
      entry = { buffer, id: this.nextId++, capacity, freedInBatch: -1 };
    }
    this.liveBytes += entry.capacity;
    this.liveBuffers++;
    this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
    return entry;
  }

  /**
   * A free buffer of the smallest class above `capacity`, up to twice it: a model whose maps shrink
   * stage by stage (the vision tower's 96, 48, 24 MiB) then reuses the earlier stages' buffers
   * instead of holding every size it ever used.
   */
  private takeLarger(capacity: number): PooledBuffer | undefined {
    let best: number | undefined;
    for (const [size, list] of this.free) {
      if (size > capacity && size <= 2 * capacity && list.length > 0 && (best === undefined || size < best))
        best = size;
    }
    return best === undefined ? undefined : this.free.get(best)?.pop();
  }

  release(entry: PooledBuffer, batch: number): void {
    entry.freedInBatch = batch;
    this.liveBytes -= entry.capacity;
    this.liveBuffers--;
    let list = this.free.get(entry.capacity);
    if (!list) this.free.set(entry.capacity, (list = []));
    // Kept in descending id order, so acquire() always takes the lowest id: a step that allocates
    // and frees the same sizes as the previous one gets the same buffers, and so the same (cached)
    // bind groups, whatever order its temporaries were freed in.
    let at = list.length;
    while (at > 0 && list[at - 1].id < entry.id) at--;
    list.splice(at, 0, entry);
    this.pooledBytes += entry.capacity;
  }

  /**
   * Takes the free buffers among `ids` out of reuse, counted as live, and returns them (give each
   * back with `release`): work recorded for replay keeps the temporaries it binds this way.
   */
  reserve(ids: ReadonlySet<number>): PooledBuffer[] {
    const taken: PooledBuffer[] = [];
    for (const [capacity, list] of this.free) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (!ids.has(list[i].id)) continue;
        taken.push(list.splice(i, 1)[0]);
        this.pooledBytes -= capacity;
        this.liveBytes += capacity;
        this.liveBuffers++;
      }
    }
    this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
    return taken;
  }

  /**
   * Destroys free buffers until at most `maxPooledBytes` remain pooled, largest first. Call only
   * when no recorded-but-unsubmitted command uses them (the device calls it after a submit).
   */
  trim(maxPooledBytes: number): void {
    if (this.pooledBytes <= maxPooledBytes) return;
    const classes = [...this.free.keys()].sort((a, b) => b - a);
    let destroyed = false;
    for (const capacity of classes) {
      const list = this.free.get(capacity)!;
      while (list.length > 0 && this.pooledBytes > maxPooledBytes) {
        list.pop()!.buffer.destroy();
        this.pooledBytes -= capacity;
        destroyed = true;
      }
      if (list.length === 0) this.free.delete(capacity);
      if (this.pooledBytes <= maxPooledBytes) break;
    }
    if (destroyed) this.onDestroy();
  }
}
