/**
 * Per-dispatch uniform data for one command batch. Each dispatch gets its own 256-byte-aligned slot
 * so that values recorded for earlier dispatches are not overwritten before the batch runs; all
 * slots are written with one `writeBuffer` per arena page just before the batch is submitted and
 * are reused by the next batch (queue order makes that safe).
 */
const SLOT_ALIGN = 256;
const PAGE_BYTES = 64 * 1024;

interface Page {
  buffer: GPUBuffer;
  id: number;
  staging: Uint8Array;
  used: number;
}

export interface UniformSlot {
  buffer: GPUBuffer;
  bufferId: number;
  offset: number;
  size: number;
}

export class UniformArena {
  private readonly pages: Page[] = [];
  private current = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly newId: () => number,
  ) {}

  /** Copies `data` into a fresh slot of this batch and returns where it will live on the GPU. */
  allocate(data: ArrayBufferView): UniformSlot {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    if (size > PAGE_BYTES) throw new RangeError(`uniform data of ${data.byteLength} bytes exceeds ${PAGE_BYTES}`);
    let page = this.pages[this.current];
    if (page && page.used + size > PAGE_BYTES) page = this.pages[++this.current];
    if (!page) {
      page = {
        buffer: this.device.createBuffer({
          size: PAGE_BYTES,
          usage: 0x40 /* UNIFORM */ | 0x08 /* COPY_DST */,
          label: 'uniform-arena',
        }),
        id: this.newId(),
        staging: new Uint8Array(PAGE_BYTES),
        used: 0,
      };
      this.pages[this.current] = page;
    }
    const offset = page.used;
    page.staging.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    page.used = Math.ceil((offset + size) / SLOT_ALIGN) * SLOT_ALIGN;
    return { buffer: page.buffer, bufferId: page.id, offset, size };
  }

  /** Writes this batch's slots to the GPU; call right before submitting the batch. */
  flush(queue: GPUQueue): void {
    for (let i = 0; i <= this.current && i < this.pages.length; i++) {
      const page = this.pages[i];
      if (page.used > 0) queue.writeBuffer(page.buffer, 0, page.staging, 0, page.used);
      page.used = 0;
    }
    this.current = 0;
  }

  destroy(): void {
    for (const page of this.pages) page.buffer.destroy();
    this.pages.length = 0;
  }
}
