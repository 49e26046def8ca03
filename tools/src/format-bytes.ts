/** Byte counts as people read them, in binary units. */

/** 1536 -> '1.5 KiB'; `digits` after the point (`{ digits: 2 }`: 1245398560 -> '1.16 GiB'). */
export function formatBytes(bytes: number, { digits = 1 }: { digits?: number } = {}): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(digits)} ${units[unit]}`;
}
