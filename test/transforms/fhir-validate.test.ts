import { describe, expect, it } from 'vitest';

import { resourceTypeOf, validateResource } from '../../transforms/fhir/index.js';

describe('validateResource', () => {
  it('accepts resources of R4 types with valid ids and codes', () => {
    expect(validateResource({ resourceType: 'Patient', id: 'A-1.b', gender: 'unknown' })).toEqual({
      ok: true,
    });
    expect(validateResource({ resourceType: 'Observation', status: 'final' })).toEqual({
      ok: true,
    });
    expect(validateResource({ resourceType: 'SubstanceNucleicAcid' })).toEqual({ ok: true });
  });

  it('rejects a missing or unknown resource type', () => {
    expect(validateResource({ id: 'a' })).toEqual({
      ok: false,
      code: 'FHIR_MISSING_RESOURCE_TYPE',
      position: { field: 'resourceType' },
    });
    expect(validateResource('Patient')).toMatchObject({ code: 'FHIR_MISSING_RESOURCE_TYPE' });
    expect(validateResource({ resourceType: 'ProcedureRequest' })).toEqual({
      ok: false,
      code: 'FHIR_INVALID_RESOURCE',
      position: { field: 'resourceType' },
    });
  });

  it('rejects empty, over-long, spaced and non-string ids', () => {
    for (const id of ['', 'a'.repeat(65), 'a b', 'a\u0000b', 7]) {
      expect(validateResource({ resourceType: 'Patient', id })).toEqual({
        ok: false,
        code: 'FHIR_INVALID_RESOURCE',
        position: { field: 'Patient.id' },
      });
    }
    expect(validateResource({ resourceType: 'Patient', id: 'a'.repeat(64) })).toEqual({ ok: true });
    // Outside the strict FHIR id syntax, but kept: vendor and template ids such as these occur.
    expect(validateResource({ resourceType: 'Patient', id: '##PatientID##' })).toEqual({
      ok: true,
    });
    expect(validateResource({ resourceType: 'Patient', id: 'epic_123:4' })).toEqual({ ok: true });
  });

  it('rejects codes outside the required value sets', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ resourceType: 'Observation', status: 'this_is_invalid' }, 'Observation.status'],
      [{ resourceType: 'Encounter', status: 'completed' }, 'Encounter.status'],
      [{ resourceType: 'Procedure', status: 'done' }, 'Procedure.status'],
      [{ resourceType: 'Immunization', status: 'given' }, 'Immunization.status'],
      [{ resourceType: 'MedicationRequest', status: 'Active' }, 'MedicationRequest.status'],
      [{ resourceType: 'DiagnosticReport', status: 7 }, 'DiagnosticReport.status'],
      [{ resourceType: 'ServiceRequest', status: 'final' }, 'ServiceRequest.status'],
      [{ resourceType: 'CarePlan', status: 'finished' }, 'CarePlan.status'],
      [{ resourceType: 'DocumentReference', status: 'final' }, 'DocumentReference.status'],
      [{ resourceType: 'Coverage', status: 'inactive' }, 'Coverage.status'],
      [{ resourceType: 'Patient', gender: 'F' }, 'Patient.gender'],
    ];
    for (const [resource, field] of cases) {
      expect(validateResource(resource)).toEqual({
        ok: false,
        code: 'FHIR_INVALID_RESOURCE',
        position: { field },
      });
    }
  });

  it('checks HL7 codings of Condition and AllergyIntolerance statuses and ignores others', () => {
    const conditionClinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    const valid = {
      resourceType: 'Condition',
      clinicalStatus: {
        coding: [
          { system: conditionClinical, code: 'active' },
          { system: 'http://example.org/local', code: 'whatever' },
        ],
      },
    };
    expect(validateResource(valid)).toEqual({ ok: true });

    const invalid = {
      resourceType: 'Condition',
      verificationStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
            code: 'active',
          },
        ],
      },
    };
    expect(validateResource(invalid)).toEqual({
      ok: false,
      code: 'FHIR_INVALID_RESOURCE',
      position: { field: 'Condition.verificationStatus' },
    });

    const allergy = {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
            code: 'remission',
          },
        ],
      },
    };
    expect(validateResource(allergy)).toMatchObject({
      position: { field: 'AllergyIntolerance.clinicalStatus' },
    });
  });

  it('checks contained resources and names them in the field', () => {
    const condition = {
      resourceType: 'Condition',
      contained: [{ resourceType: 'Practitioner', id: 'p 1' }],
    };
    expect(validateResource(condition)).toEqual({
      ok: false,
      code: 'FHIR_INVALID_RESOURCE',
      position: { field: 'Condition.contained.Practitioner.id' },
    });
  });
});

describe('resourceTypeOf', () => {
  it('returns R4 resource types only', () => {
    expect(resourceTypeOf({ resourceType: 'Observation' })).toBe('Observation');
    expect(resourceTypeOf({ resourceType: '../../etc' })).toBeUndefined();
    expect(resourceTypeOf({ resourceType: 'Unknown' })).toBeUndefined();
    expect(resourceTypeOf(null)).toBeUndefined();
    expect(resourceTypeOf(['Patient'])).toBeUndefined();
  });
});
