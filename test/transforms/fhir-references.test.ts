import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { simpleReferenceSlash } from '../../transforms/fhir/references.js';

// The literal reference form as FHIR R4 writes it; the fast reader must agree with it.
const LITERAL =
  /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

describe('simpleReferenceSlash', () => {
  it('finds the slash of plain Type/id references', () => {
    expect(simpleReferenceSlash('Patient/example-1.2')).toBe(7);
    expect(simpleReferenceSlash('Observation/A')).toBe(11);
  });

  it('leaves every other form to the pattern', () => {
    for (const reference of [
      'patient/1',
      'P/1',
      'Patient/',
      'Patient/1/_history/2',
      'http://example.org/fhir/Patient/1',
      'Patient/1_2',
      'Patient?identifier=x',
      `Patient/${'a'.repeat(65)}`,
      'urn:uuid:1234',
    ]) {
      expect(simpleReferenceSlash(reference), reference).toBe(-1);
    }
  });

  it('accepts only what the literal pattern reads with the same type and id', () => {
    const alphabet = fc.constantFrom(...'PaZz09-._/?:'.split(''), 'Patient/', 'Obs');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 12 }).map((parts) => parts.join('')),
        (text) => {
          const slash = simpleReferenceSlash(text);
          if (slash > 0) {
            const match = LITERAL.exec(text);
            expect(match?.[1]).toBe(text.slice(0, slash));
            expect(match?.[2]).toBe(text.slice(slash + 1));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
