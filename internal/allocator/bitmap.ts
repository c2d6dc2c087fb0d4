// A fixed-size bitmap persisted as one store key and changed only by compare-and-swap,
// so that any number of API servers sharing a store never hand out the same item.
// The stored value mirrors upstream's RangeAllocation object (range + base64 data).

import { ConflictError, KeyExistsError, NotFoundError, type Store } from "../store/types.ts";

export interface RangeAllocation {
  apiVersion: "v1";
  kind: "RangeAllocation";
  metadata: { name: string };
  range: string;
  data: string; // base64 bitmap, bit i = item i used
}

export class Bitmap {
  constructor(public bits: Uint8Array) {}
  static empty(size: number): Bitmap {
    return new Bitmap(new Uint8Array(Math.ceil(size / 8)));
  }
  has(i: number): boolean {
    return (this.bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }
  set(i: number): void {
    this.bits[i >> 3]! |= 1 << (i & 7);
  }
  clear(i: number): void {
    this.bits[i >> 3]! &= ~(1 << (i & 7));
  }
}

const MAX_ATTEMPTS = 100;

/**
 * Read-modify-write of the bitmap under `key`, retried on conflicts.
 * `mutate` returns false when it decided nothing must be written (the result is still returned).
 */
export async function casBitmap<R>(
  store: Store,
  key: string,
  range: string,
  size: number,
  mutate: (b: Bitmap) => { write: boolean; result: R },
): Promise<R> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { kv } = await store.get(key);
    let bitmap: Bitmap;
    if (kv) {
      const obj = JSON.parse(kv.value) as RangeAllocation;
      bitmap = new Bitmap(new Uint8Array(Buffer.from(obj.data, "base64")));
      if (bitmap.bits.length < Math.ceil(size / 8)) {
        const grown = Bitmap.empty(size);
        grown.bits.set(bitmap.bits);
        bitmap = grown;
      }
    } else {
      bitmap = Bitmap.empty(size);
    }
    const { write, result } = mutate(bitmap);
    if (!write) return result;
    const value: RangeAllocation = {
      apiVersion: "v1",
      kind: "RangeAllocation",
      metadata: { name: key.split("/").pop()! },
      range,
      data: Buffer.from(bitmap.bits).toString("base64"),
    };
    try {
      if (kv) await store.update(key, JSON.stringify(value), kv.modRevision);
      else await store.create(key, JSON.stringify(value));
      return result;
    } catch (e) {
      if (e instanceof ConflictError || e instanceof KeyExistsError || e instanceof NotFoundError) continue;
      throw e;
    }
  }
  throw new Error(`too many conflicts updating ${key}`);
}
