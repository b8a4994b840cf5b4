import { HmacSha256 } from './crypto/hmac.js';

/** Namespaces keep a value that is both an MRN and, say, an account number apart. */
export type PseudonymNamespace =
  'patient-id' | 'account' | 'visit' | 'resource' | 'message' | 'other';

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
  const trimmed = value.trim();
  const state = stateOf(pseudonymKey);
  let space = state.namespaces.get(namespace);
  if (space === undefined) {
    space = {
      hmac: new HmacSha256(pseudonymKey, `${namespace}\u0000`),
      // A message control id is unique by definition: remembering it would only push out MRNs
      // and references, which do come back.
      memo: namespace === 'message' ? undefined : new Map(),
    };
    state.namespaces.set(namespace, space);
  }
  const memo = space.memo;
  const known = memo?.get(trimmed);
  if (known !== undefined) {
    return known;
  }

  // The HMAC of `namespace NUL value`; the instance holds the namespace's bytes.
  const pseudonym = space.hmac.hex(trimmed).slice(0, PSEUDONYM_HEX_CHARS);
  if (memo !== undefined) {
    remember(memo, trimmed, pseudonym);
  }
  return pseudonym;
}

/**
 * HMAC-SHA256 under the pseudonym key, set up once per key rather than once per value.
 *
 * @param pseudonymKey - the HMAC key from the key store
 */
export function hmacOf(pseudonymKey: Uint8Array): HmacSha256 {
  return stateOf(pseudonymKey).hmac;
}

/**
 * A memo of values derived from the pseudonym key (pseudonyms, date offsets, rewritten
 * references), one per purpose. Memos follow the key's bytes: they live across the tasks that
 * bring the same key and are dropped as soon as another key arrives. Fill them with
 * {@link remember}, which bounds their size.
 *
 * @param pseudonymKey - the HMAC key from the key store
 * @param purpose - names what the memo holds, such as a pseudonym namespace
 */
export function keyedMemo<T>(pseudonymKey: Uint8Array, purpose: string): Map<string, T> {
  const memos = stateOf(pseudonymKey).memos;
  let memo = memos.get(purpose);
  if (memo === undefined) {
    memo = new Map();
    memos.set(purpose, memo);
  }
  return memo as Map<string, T>;
}

/**
 * Adds an entry to a memo from {@link keyedMemo}, emptying it first when it is full.
 *
 * @param memo - the memo
 * @param key - what was looked up
 * @param value - what it gave
 */
export function remember<T>(memo: Map<string, T>, key: string, value: T): void {
  if (memo.size >= MAX_MEMO_ENTRIES) {
    memo.clear();
  }
  memo.set(key, value);
}

/** What one pseudonym key gives a worker. */
interface KeyState {
  hmac: HmacSha256;
  memos: Map<string, Map<string, unknown>>;
  /** Per pseudonym namespace: its HMAC, which holds the namespace, and its memo. */
  namespaces: Map<PseudonymNamespace, { hmac: HmacSha256; memo?: Map<string, string> }>;
}

// A feed repeats the same MRNs and references many times, within a task and across the tasks of
// a batch. Each task brings its own copy of the key, so the state follows the key's bytes. One
// constant holder, read on every pseudonym, rather than module-level `let`s.
const MAX_MEMO_ENTRIES = 10_000;
const current: { keyObject?: Uint8Array; keyBytes?: Buffer; state?: KeyState } = {};

function stateOf(pseudonymKey: Uint8Array): KeyState {
  const known = current.state;
  if (pseudonymKey === current.keyObject && known !== undefined) {
    return known;
  }
  const sameBytes = current.keyBytes !== undefined && current.keyBytes.equals(pseudonymKey);
  let state = known;
  if (state === undefined || !sameBytes) {
    current.keyBytes = Buffer.from(pseudonymKey);
    state = { hmac: new HmacSha256(pseudonymKey), memos: new Map(), namespaces: new Map() };
    current.state = state;
  }
  current.keyObject = pseudonymKey;
  return state;
}
