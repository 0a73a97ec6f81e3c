// Growing the typed arrays that hold table rows.

type Growable = Uint8Array | Uint32Array | Int32Array | Float64Array;

/** `to` (a larger array of the same kind) with `from`'s values at its start. */
export function grown<T extends Growable>(from: T, to: T): T {
  to.set(from);
  return to;
}
