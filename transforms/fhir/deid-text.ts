import { scrubNarrative, shiftDateBy } from './deid-values.js';
import { DATE_ELEMENT, DROP, FREE_TEXT, NARRATIVE_DIV } from './deid-walk.js';
import type { Walk } from './deid-walk.js';
import { isFhirDateForm } from './shift-date.js';

/*
 * String values in the preset's walk: dates move by the patient's offset, free text and
 * narrative are scrubbed, by what the element's name says about the value.
 */

const HYPHEN = 0x2d;

const YEAR_ONLY = /^\d{4}$/;

// The last two dates shifted and what they gave: a patient's resources repeat their time stamps
// (an Encounter's start is its Observations' effective time), so the next date is usually one of
// them. Only dates in form are remembered, so a value found here is one.
// One constant holder rather than module-level `let`s.
const recentDates = {
  last: { value: '', offsetDays: 0, shifted: '' },
  other: { value: '', offsetDays: 0, shifted: '' },
};

// Dates move by the patient's offset; free-text elements are scrubbed. A date element whose
// value is not a FHIR date (`11/30/2026`, written by a sender that ignored the format) cannot be
// shifted, so it goes rather than pass as sent; a year alone is kept, as Safe Harbor allows.
export function deidString(value: string, walk: Walk, kind: number): string | typeof DROP {
  // Every date starts `YYYY-`; the character check spares the full check most strings.
  if (walk.policy.shiftDates && value.charCodeAt(4) === HYPHEN) {
    if (
      value === recentDates.last.value ||
      value === recentDates.other.value ||
      isFhirDateForm(value)
    ) {
      return shiftDate(value, walk.record.offsetDays);
    }
  }
  if (kind === DATE_ELEMENT) {
    return !walk.policy.shiftDates || YEAR_ONLY.test(value) ? value : DROP;
  }
  if (kind === FREE_TEXT) {
    return walk.record.scrubber().scrub(value);
  }
  return kind === NARRATIVE_DIV ? scrubNarrative(value, walk.record) : value;
}

function shiftDate(value: string, offsetDays: number): string {
  const { last, other } = recentDates;
  if (value === last.value && offsetDays === last.offsetDays) {
    return last.shifted;
  }
  if (value === other.value && offsetDays === other.offsetDays) {
    return other.shifted;
  }
  const shifted = shiftDateBy(value, offsetDays);
  // The older entry makes way.
  recentDates.other = last;
  recentDates.last = other;
  other.value = value;
  other.offsetDays = offsetDays;
  other.shifted = shifted;
  return shifted;
}
