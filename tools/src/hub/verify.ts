/** The hash a downloaded file is checked against: sha256 for LFS files, the git blob id for the rest. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { HubFile } from './listing.js';

export class ContentHash {
  private readonly hash: Hash | undefined;
  private readonly expected: string | undefined;
  private readonly algorithm: string;

  constructor(file: HubFile) {
    if (file.sha256 !== undefined) {
      this.hash = createHash('sha256');
      this.expected = file.sha256;
      this.algorithm = 'sha256';
    } else if (file.gitBlobId !== undefined) {
      // git's blob id hashes a header before the content: sha1("blob {size}\0" + content).
      this.hash = createHash('sha1').update(`blob ${file.size}\0`);
      this.expected = file.gitBlobId;
      this.algorithm = 'git blob sha1';
    } else {
      this.hash = undefined;
      this.expected = undefined;
      this.algorithm = 'none';
    }
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  /** Hashes what a partial file already holds, before appending to it. */
  async updateFromFile(path: string): Promise<void> {
    if (this.hash === undefined) return;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) this.hash.update(chunk);
  }

  /** Whether the listing gave a hash to check against. */
  get checkable(): boolean {
    return this.hash !== undefined;
  }

  /** What the content is checked against: 'sha256:<hex>' or 'git blob sha1:<hex>'; undefined without a hash. */
  get expectedId(): string | undefined {
    return this.expected === undefined ? undefined : `${this.algorithm}:${this.expected}`;
  }

  /** Undefined when the content matches (or the listing gave no hash), else what is wrong. */
  mismatch(): string | undefined {
    if (this.hash === undefined || this.expected === undefined) return undefined;
    const actual = this.hash.digest('hex');
    return actual === this.expected
      ? undefined
      : `${this.algorithm} mismatch: got ${actual}, the hub lists ${this.expected}`;
  }
}
