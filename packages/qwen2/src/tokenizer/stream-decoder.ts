/**
 * Incremental decoding for generation: push one id at a time, get back the text that is complete so
 * far. A character whose UTF-8 bytes span several tokens (most CJK characters and emoji do in
 * byte-level BPE) is held back until its last byte arrives; bytes that can never form a character
 * come out as U+FFFD, exactly where decode() of all the ids at once would put them.
 */
export class StreamDecoder {
  // ignoreBOM: a leading U+FEFF is text, not a marker to drop, as in decode().
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

  /** @param bytesOf the bytes an id stands for (empty for ids to skip); throws for unknown ids. */
  constructor(private readonly bytesOf: (id: number) => Uint8Array) {}

  /** The text completed by `id`; '' while a character is still incomplete. */
  push(id: number): string {
    return this.utf8.decode(this.bytesOf(id), { stream: true });
  }

  /** Ends the stream: held-back bytes of an unfinished character come out as U+FFFD. The decoder can then start a new stream. */
  flush(): string {
    return this.utf8.decode();
  }
}
