/** JPEG marker codes (the byte after FF) and the search for the next marker, as libjpeg's next_marker. */

export const MARKER = {
  SOI: 0xd8,
  EOI: 0xd9,
  SOS: 0xda,
  DQT: 0xdb,
  DNL: 0xdc,
  DRI: 0xdd,
  DHT: 0xc4,
  DAC: 0xcc,
  JPG: 0xc8,
  RST0: 0xd0,
  RST7: 0xd7,
  APP0: 0xe0,
  APP14: 0xee,
  APP15: 0xef,
  COM: 0xfe,
  TEM: 0x01,
} as const;

/** SOF0..SOF15 but DHT, JPG and DAC. */
export function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== MARKER.DHT && marker !== MARKER.JPG && marker !== MARKER.DAC;
}

export function isRestart(marker: number): boolean {
  return marker >= MARKER.RST0 && marker <= MARKER.RST7;
}

/**
 * The position of the FF that starts the next marker at or after `from`, skipping bytes that are
 * not FF, fill FFs and stuffed FF 00 pairs (libjpeg discards them with a warning); -1 if the data
 * ends first. The marker code is at the returned position + 1.
 */
export function nextMarker(data: Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    while (at < data.length && data[at] !== 0xff) at++;
    while (at + 1 < data.length && data[at + 1] === 0xff) at++;
    if (at + 1 >= data.length) return -1;
    if (data[at + 1] !== 0) return at;
    at += 2;
  }
}
