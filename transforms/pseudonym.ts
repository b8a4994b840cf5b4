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
      memo: namespace === 'message' ? undefined : new KeyedMemo<string>(),
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
  memo?.set(trimmed, pseudonym);
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
 * bring the same key and are dropped as soon as another key arrives.
 *
 * @param pseudonymKey - the HMAC key from the key store
 * @param purpose - names what the memo holds, such as a pseudonym namespace
 */
export function keyedMemo<T>(pseudonymKey: Uint8Array, purpose: string): KeyedMemo<T> {
  const memos = stateOf(pseudonymKey).memos;
  let memo = memos.get(purpose);
  if (memo === undefined) {
    memo = new KeyedMemo<unknown>();
    memos.set(purpose, memo);
  }
  return memo as KeyedMemo<T>;
}

/**
 * A bounded memo that keeps what is used: entries go into a current generation; when it is full
 * it becomes the previous one and the one before is dropped, and a hit in the previous
 * generation moves the entry back into the current one. A feed's hot values (the MRNs of the
 * patients in today's messages) stay however many others pass through, where emptying a full
 * memo at once dropped them with the rest. At most twice `GENERATION_ENTRIES` entries are held.
 */
export class KeyedMemo<T> {
  private current = new Map<string, T>();
  private previous = new Map<string, T>();

  get(key: string): T | undefined {
    const value = this.current.get(key);
    if (value !== undefined) {
      return value;
    }
    const older = this.previous.get(key);
    if (older !== undefined) {
      this.set(key, older);
    }
    return older;
  }

  set(key: string, value: T): void {
    if (this.current.size >= GENERATION_ENTRIES) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  /** Entries held, both generations (a key in both counts twice). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** What one pseudonym key gives a worker. */
interface KeyState {
  hmac: HmacSha256;
  memos: Map<string, KeyedMemo<unknown>>;
  /** Per pseudonym namespace: its HMAC, which holds the namespace, and its memo. */
  namespaces: Map<PseudonymNamespace, { hmac: HmacSha256; memo?: KeyedMemo<string> }>;
}

// A feed repeats the same MRNs and references many times, within a task and across the tasks of
// a batch. Each task brings its own copy of the key, so the state follows the key's bytes. One
// constant holder, read on every pseudonym, rather than module-level `let`s.
const GENERATION_ENTRIES = 10_000;
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
