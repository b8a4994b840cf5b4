import type { KnownIdentifiers } from './free-text.js';

/*
 * The leak checker: every identifier the input's structured fields carry (collected by
 * `collectHl7Identifiers` / `collectFhirIdentifiers` before de-identification) is searched for in
 * the de-identified output of the same record. Values too short to mean anything on their own
 * are not searched: name parts under three letters, ids under four characters, phones under
 * seven digits.
 */

/** What kind of identifier leaked; never the value. */
export type LeakKind = 'name' | 'id' | 'phone' | 'address' | 'zip' | 'date' | 'email';

/** The outcome for one record: how many identifiers were searched and which kinds were found. */
export interface LeakReport {
  searched: number;
  leaks: LeakKind[];
  /** Only for tests and the `leak-check` command's `--show` on synthetic data; never logged. */
  leakedValues: string[];
}

/**
 * Searches de-identified output for the identifiers of its input. An identifier leaks when it
 * occurs in the output more often than in the baseline: the input's fields that are kept by
 * design (staff, organisations, codes), from `hl7BaselineText` or `fhirBaselineText`.
 *
 * @param known - identifiers of the input's structured fields
 * @param output - the de-identified record(s), as serialised
 * @param baseline - text of the input's fields that are not about the patient
 */
export function checkLeaks(known: KnownIdentifiers, output: string, baseline = ''): LeakReport {
  const report: LeakReport = { searched: 0, leaks: [], leakedValues: [] };
  // The scrubber's own markers (`[NAME]`) are not the value `NAME` some test patients carry.
  const scrubbed = output.replace(/\[(?:NAME|ID|PHONE|ADDRESS|ZIP|DATE|EMAIL|URL|IP|SSN)\]/g, ' ');
  const search = (kind: LeakKind, value: string, pattern: string, flags = 'i'): void => {
    report.searched++;
    const bounded = `(?<![A-Za-z0-9\\u00C0-\\u024F])${pattern}(?![A-Za-z0-9\\u00C0-\\u024F])`;
    const count = (text: string): number =>
      text.match(new RegExp(bounded, `g${flags}`))?.length ?? 0;
    const found = count(scrubbed);
    if (found > 0 && found > count(baseline)) {
      report.leaks.push(kind);
      report.leakedValues.push(value);
    }
  };

  for (const name of unique(known.names.flatMap(nameParts))) {
    search('name', name, escapeRegExp(name));
  }
  for (const id of unique(known.ids).filter((value) => value.length >= 4)) {
    search('id', id, escapeRegExp(id), '');
  }
  for (const phone of unique(known.phones)) {
    const digits = phone.replace(/\D/g, '');
    if (digits.length >= 7) {
      search('phone', phone, digits.split('').join(String.raw`[\s().-]{0,2}`), '');
    }
  }
  for (const email of unique(known.emails).filter((value) => value.includes('@'))) {
    search('email', email, escapeRegExp(email));
  }
  for (const address of unique(known.addresses).filter((value) => value.length >= 5)) {
    search('address', address, escapeRegExp(address).replace(/\s+/g, String.raw`\s+`));
  }
  for (const zip of unique(known.zips.map((value) => value.slice(0, 5))).filter((z) =>
    /^\d{5}$/.test(z),
  )) {
    search('zip', zip, zip, '');
  }
  for (const date of unique(known.dates)) {
    const compact = date.replace(/-/g, '');
    search('date', date, `(?:${escapeRegExp(date)}|${compact})`, '');
  }
  return report;
}

function nameParts(name: string): string[] {
  return name
    .split(/[\s,^&]+/u)
    .map((part) => part.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, ''))
    .filter((part) => [...part].length >= 3);
}

function unique(values: string[]): string[] {
  return [...new Set(values.map((value) => value.trim()).filter((value) => value !== ''))];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
