import {
  KnownValues,
  PATTERN_SCRUBBER,
  PATTERN_SCRUBBER_WITHOUT_DATES,
} from './free-text-scrubber.js';

/*
 * Free-text scrubbing. Two sources of what to remove: what the record itself says about the
 * patient and relatives in its structured fields (names, ids, phones, addresses, dates), found
 * wherever they appear in the text; and patterns for identifiers no field announces (SSN, phone
 * and fax, e-mail, URL, IP address, dates, ZIP codes, account and record numbers). Each find is
 * replaced by its kind in brackets, such as `[NAME]`.
 */

export { KnownValues };

/** What a scrubbed span was. */
export type IdentifierKind =
  'name' | 'id' | 'phone' | 'address' | 'zip' | 'date' | 'email' | 'url' | 'ip' | 'ssn';

/** Identifiers a record's structured fields carry, as read (unescaped). */
export interface KnownIdentifiers {
  names: string[];
  ids: string[];
  phones: string[];
  /** Street lines and towns. */
  addresses: string[];
  zips: string[];
  /** Full dates in ISO form, `YYYY-MM-DD`. */
  dates: string[];
  emails: string[];
}

/** One find in the original text. */
export interface ScrubSpan {
  start: number;
  end: number;
  kind: IdentifierKind;
}

/** A scrubber for the free text of one record (or document). */
export interface TextScrubber {
  /** Every find, in order, not overlapping. */
  find(text: string): ScrubSpan[];
  /** The text with every find replaced by `[KIND]`; the same string when nothing was found. */
  scrub(text: string): string;
}

/** What a preset removes from free text. */
export interface ScrubOptions {
  /** False keeps dates (limited data set). */
  dates: boolean;
}

/**
 * Known identifiers that build their record's scrubber themselves, straight from the record
 * (an HL7 v2 message), without filling the `KnownIdentifiers` lists first.
 */
export interface ScrubberSource {
  /**
   * Builds the scrubber, as `createTextScrubber` would from the lists.
   *
   * @param options - what the preset removes
   */
  createScrubber(options: ScrubOptions): TextScrubber;
}

/** An empty set of known identifiers. */
export function emptyKnownIdentifiers(): KnownIdentifiers {
  return { names: [], ids: [], phones: [], addresses: [], zips: [], dates: [], emails: [] };
}

/**
 * Known identifiers collected from their record only when first read: most records never are
 * (their scrubber is built another way, or they have no free text). Subclasses say how to
 * collect; a class with getters rather than closures, since one is made per record. The lists
 * are getters: spreading the object gives `{}` (read the lists, or `toJSON`), so it is made and
 * used on one thread and never copied.
 */
export abstract class KnownOnRead implements KnownIdentifiers {
  private collected: KnownIdentifiers | undefined;

  /** Reads the record's identifiers; called once, on first use. */
  protected abstract collect(): KnownIdentifiers;

  get names(): string[] {
    return this.all().names;
  }

  get ids(): string[] {
    return this.all().ids;
  }

  get phones(): string[] {
    return this.all().phones;
  }

  get addresses(): string[] {
    return this.all().addresses;
  }

  get zips(): string[] {
    return this.all().zips;
  }

  get dates(): string[] {
    return this.all().dates;
  }

  get emails(): string[] {
    return this.all().emails;
  }

  /** The lists as plain data, so that serialising the object does not give `{}`. */
  toJSON(): KnownIdentifiers {
    return this.all();
  }

  private all(): KnownIdentifiers {
    this.collected ??= this.collect();
    return this.collected;
  }
}

/**
 * Builds a scrubber for one record's free text. Nothing is compiled per record: the record's
 * own identifiers are looked up as strings, so a scrubber costs a few arrays to build.
 *
 * @param known - identifiers from the record's structured fields
 * @param options - what the preset removes
 */
export function createTextScrubber(
  known: KnownIdentifiers | (KnownIdentifiers & ScrubberSource),
  options: ScrubOptions,
): TextScrubber {
  if ('createScrubber' in known) {
    return known.createScrubber(options);
  }
  // Most records (an Observation on its own NDJSON line) know nothing of the patient; they share
  // a scrubber of patterns alone.
  if (isEmpty(known)) {
    return options.dates ? PATTERN_SCRUBBER : PATTERN_SCRUBBER_WITHOUT_DATES;
  }
  // Every resource of a FHIR document shares the document's identifiers (one object): its
  // scrubber is built once, not once per resource, which made a Bundle of many patients cost
  // its size squared.
  const built = options.dates ? BUILT : BUILT_WITHOUT_DATES;
  let scrubber = built.get(known);
  if (scrubber === undefined) {
    const values = new KnownValues();
    for (const name of known.names) {
      values.addName(name);
    }
    for (const email of known.emails) {
      values.addEmail(email);
    }
    for (const id of known.ids) {
      values.addId(id);
    }
    for (const address of known.addresses) {
      values.addAddress(address);
    }
    for (const zip of known.zips) {
      values.addZip(zip);
    }
    for (const phone of known.phones) {
      values.addPhone(phone);
    }
    scrubber = values.scrubber(options);
    built.set(known, scrubber);
  }
  return scrubber;
}

const BUILT = new WeakMap<KnownIdentifiers, TextScrubber>();
const BUILT_WITHOUT_DATES = new WeakMap<KnownIdentifiers, TextScrubber>();

function isEmpty(known: KnownIdentifiers): boolean {
  return (
    known.names.length === 0 &&
    known.ids.length === 0 &&
    known.phones.length === 0 &&
    known.addresses.length === 0 &&
    known.zips.length === 0 &&
    known.dates.length === 0 &&
    known.emails.length === 0
  );
}
