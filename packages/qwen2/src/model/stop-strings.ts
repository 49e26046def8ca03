/**
 * Stop strings over streamed text: text is let out as soon as it cannot be the start of a stop
 * string, so a stream never shows part of a stop string that later completes.
 */
import { GenerationError } from './generate.js';

/** Throws a GenerationError unless every stop string is a non-empty string. */
export function checkStopStrings(stops: readonly string[]): void {
  for (const stop of stops) {
    if (typeof stop !== 'string' || stop.length === 0)
      throw new GenerationError(`stop strings must be non-empty strings, got ${JSON.stringify(stop)}`);
  }
}

export class StopStringMatcher {
  private pending = '';

  constructor(private readonly stops: readonly string[]) {
    checkStopStrings(stops);
  }

  /** Adds `text`; returns what can be let out, and whether a stop string has been completed (the text before it is let out). */
  push(text: string): { text: string; stopped: boolean } {
    this.pending += text;
    let at = -1;
    for (const stop of this.stops) {
      const i = this.pending.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      const out = this.pending.slice(0, at);
      this.pending = '';
      return { text: out, stopped: true };
    }
    const keep = this.heldBack();
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return { text: out, stopped: false };
  }

  /** Ends the text: what was held back is let out. */
  flush(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }

  /** The length of the longest end of the pending text that begins some stop string. */
  private heldBack(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.pending.length); k > longest; k--) {
        if (this.pending.endsWith(stop.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}
