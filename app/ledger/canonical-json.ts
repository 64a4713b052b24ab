/**
 * Canonical JSON for hashed payloads: object keys sorted, no whitespace, integers only (no floats, whose
 * text form varies), so one value has one byte string.
 */
export type CanonicalValue = string | number | boolean | null | readonly CanonicalValue[] | { readonly [k: string]: CanonicalValue };

export function canonicalJson(v: CanonicalValue): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`canonical JSON carries integers only, got ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map((x: CanonicalValue) => canonicalJson(x)).join(',')}]`;
  const obj = v as { readonly [k: string]: CanonicalValue };
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k] as CanonicalValue)}`).join(',')}}`;
}

export function canonicalBytes(v: CanonicalValue): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(v), 'utf8'));
}
