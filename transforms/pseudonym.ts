import { createHmac } from 'node:crypto';

/** Namespaces keep a value that is both an MRN and, say, an account number apart. */
export type PseudonymNamespace = 'patient-id' | 'account' | 'visit' | 'resource' | 'message' | 'other';

const PSEUDONYM_HEX_CHARS = 24;

/**
 * Returns the keyed HMAC-SHA256 pseudonym of an identifier: the same key, namespace and value
 * always give the same pseudonym, and nothing about the value can be read back from it.
 * Identifiers are compared after trimming surrounding white space, so `' 123'` and `'123'` agree.
 *
 * @param pseudonymKey - the HMAC key from the key store
 * @param namespace - which kind of identifier this is
 * @param value - the identifier as it appears in the source
 */
export function pseudonymize(
  pseudonymKey: Uint8Array,
  namespace: PseudonymNamespace,
  value: string,
): string {
  const memoKey = `${namespace}\u0000${value.trim()}`;
  let memo = memos.get(pseudonymKey);
  const known = memo?.get(memoKey);
  if (known !== undefined) {
    return known;
  }

  const hmac = createHmac('sha256', pseudonymKey);
  hmac.update(memoKey);
  const pseudonym = hmac.digest('hex').slice(0, PSEUDONYM_HEX_CHARS);
  if (memo === undefined || memo.size >= MAX_MEMO_ENTRIES) {
    memo = new Map();
    memos.set(pseudonymKey, memo);
  }
  memo.set(memoKey, pseudonym);
  return pseudonym;
}

// A feed repeats the same MRNs and references many times in one task; each task brings its own
// copy of the key, so the memo lives as long as that copy and never outlives a key change.
const memos = new WeakMap<Uint8Array, Map<string, string>>();
const MAX_MEMO_ENTRIES = 10_000;
