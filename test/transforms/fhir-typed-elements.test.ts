import { describe, expect, it } from 'vitest';

import { hashDeidRules, resolveDeidRules } from '../../transforms/deid/rules.js';
import { deidentifyResource } from '../../transforms/fhir/index.js';
import { pseudonymize } from '../../transforms/pseudonym.js';

const KEY = new Uint8Array(32).map((_, index) => index + 7);
const CTX = { pseudonymKey: KEY, referenceYear: 2026 };

type Preset = 'safe-harbor' | 'limited-data-set' | 'none';

function deidentifyAs(resource: object, preset: Preset = 'safe-harbor'): unknown {
  if (preset === 'safe-harbor') {
    return deidentifyResource(resource, CTX);
  }
  const rules = resolveDeidRules(preset, { fhir: [] } as never);
  return deidentifyResource(resource, { ...CTX, rules, rulesHash: hashDeidRules(rules) });
}

const other = (value: string): string => pseudonymize(KEY, 'other', value);

/** Every value here is made up. */
const DEVICE = {
  resourceType: 'Device',
  serialNumber: 'SN-998877',
  lotNumber: 'LOT42',
  distinctIdentifier: 'DI-0001',
  udiCarrier: [
    {
      deviceIdentifier: '00844588003288',
      carrierHRF: '(01)00844588003288(21)SN-998877',
      carrierAIDC: 'KDAxKTAwODQ0NTg4MDAzMjg4',
      entryType: 'barcode',
    },
  ],
  deviceName: [{ name: 'Glucose meter', type: 'user-friendly-name' }],
};

const CLAIM = {
  resourceType: 'Claim',
  status: 'active',
  accident: {
    locationAddress: {
      line: ['1 Fake Street'],
      city: 'Faketown',
      state: 'MA',
      postalCode: '02139-1234',
      country: 'US',
    },
  },
};

const TASK = {
  resourceType: 'Task',
  status: 'draft',
  intent: 'order',
  input: [
    { type: { text: 'who' }, valueHumanName: { family: 'Testperson', given: ['Fake'] } },
    { type: { text: 'phone' }, valueContactPoint: { system: 'phone', value: '555-0100' } },
  ],
};

const CARE_TEAM = {
  resourceType: 'CareTeam',
  status: 'active',
  telecom: [{ system: 'phone', value: '555-0100' }],
};

const ORGANIZATION = {
  resourceType: 'Organization',
  name: 'Fake General Hospital',
  telecom: [{ system: 'phone', value: '555-0199' }],
  contact: [{ name: { family: 'Clerkname' }, telecom: [{ system: 'email', value: 'x@fake.org' }] }],
};

const COMMUNICATION = {
  resourceType: 'Communication',
  status: 'completed',
  payload: [{ contentString: 'Call 555-123-4567 about SSN 123-45-6789 and MRN12345678' }],
  note: [{ authorString: 'Written from 555-123-4567', text: 'seen' }],
};

const FAMILY_MEMBER_HISTORY = {
  resourceType: 'FamilyMemberHistory',
  status: 'completed',
  relationship: { text: 'mother' },
  name: 'Jane Testperson',
  bornString: 'born 1950-03-04, MRN12345678',
  ageString: 'about 70, SSN 123-45-6789',
};

const ACCOUNT = { resourceType: 'Account', status: 'active', name: 'Account of MRN12345678' };

const EXTENDED = {
  resourceType: 'Basic',
  code: { text: 'Flag' },
  extension: [
    { url: 'http://example.org/a', valueCode: '123-45-6789' },
    { url: 'http://example.org/b', valueId: 'MRN12345678' },
    { url: 'http://example.org/c', valueUri: 'mailto:fake@example.com' },
    { url: 'http://example.org/d', valueInteger: 123456789 },
    { url: 'http://example.org/e', valueInteger: 42 },
    { url: 'http://example.org/f', valueDecimal: 1.3450582738843425 },
    { url: 'http://example.org/g', valueCode: 'F' },
    { url: 'http://example.org/h', valueUrl: 'https://fake.example.org/patient/7' },
  ],
};

describe('deidentifyResource on identifiers in elements R4 defines', () => {
  it('pseudonymises Device serial, lot and UDI identifiers and drops the UDI barcode contents', () => {
    const expected = {
      resourceType: 'Device',
      serialNumber: other('SN-998877'),
      lotNumber: other('LOT42'),
      distinctIdentifier: other('DI-0001'),
      udiCarrier: [{ deviceIdentifier: other('00844588003288'), entryType: 'barcode' }],
      deviceName: [{ name: 'Glucose meter', type: 'user-friendly-name' }],
    };

    expect(deidentifyAs(DEVICE)).toEqual(expected);
    expect(deidentifyAs(DEVICE, 'limited-data-set')).toEqual(expected);
    expect(deidentifyAs(DEVICE, 'none')).toEqual(DEVICE);
  });

  it('gives an Address anywhere the address rule: Claim.accident.locationAddress', () => {
    expect(deidentifyAs(CLAIM)).toEqual({
      resourceType: 'Claim',
      status: 'active',
      accident: { locationAddress: { state: 'MA', country: 'US', postalCode: '021' } },
    });
    expect(deidentifyAs(CLAIM, 'limited-data-set')).toEqual({
      resourceType: 'Claim',
      status: 'active',
      accident: {
        locationAddress: { state: 'MA', country: 'US', city: 'Faketown', postalCode: '02139' },
      },
    });
    expect(deidentifyAs(CLAIM, 'none')).toEqual(CLAIM);
  });

  it("keeps a staff resource's own address, as its name and telecom", () => {
    const practitioner = {
      resourceType: 'Practitioner',
      name: [{ family: 'Docname' }],
      address: [{ line: ['2 Fake Road'], city: 'Faketown', state: 'MA', postalCode: '02139' }],
    };

    expect(deidentifyAs(practitioner)).toEqual({
      resourceType: 'Practitioner',
      name: [{ family: 'Docname' }],
      address: [{ line: ['2 Fake Road'], city: 'Faketown', state: 'MA', postalCode: '02139' }],
    });
  });

  it('drops HumanName and ContactPoint elements of resources about a patient', () => {
    const task = {
      resourceType: 'Task',
      status: 'draft',
      intent: 'order',
      input: [{ type: { text: 'who' } }, { type: { text: 'phone' } }],
    };

    expect(deidentifyAs(TASK)).toEqual(task);
    expect(deidentifyAs(TASK, 'limited-data-set')).toEqual(task);
    expect(deidentifyAs(TASK, 'none')).toEqual(TASK);
    expect(deidentifyAs(CARE_TEAM)).toEqual({ resourceType: 'CareTeam', status: 'active' });
    expect(deidentifyAs(CARE_TEAM, 'none')).toEqual(CARE_TEAM);
  });

  it('keeps the names and contact points of staff resources such as Organization', () => {
    expect(deidentifyAs(ORGANIZATION)).toEqual(ORGANIZATION);
    expect(deidentifyAs(ORGANIZATION, 'limited-data-set')).toEqual(ORGANIZATION);
  });

  it('scrubs Communication.payload.contentString and Annotation.authorString as free text', () => {
    const expected = {
      resourceType: 'Communication',
      status: 'completed',
      payload: [{ contentString: 'Call [PHONE] about SSN [SSN] and [ID]' }],
      note: [{ authorString: 'Written from [PHONE]', text: 'seen' }],
    };

    expect(deidentifyAs(COMMUNICATION)).toEqual(expected);
    expect(deidentifyAs(COMMUNICATION, 'limited-data-set')).toEqual(expected);
    expect(deidentifyAs(COMMUNICATION, 'none')).toEqual(COMMUNICATION);
  });

  it("drops a relative's name and scrubs their birth and age written as text", () => {
    expect(deidentifyAs(FAMILY_MEMBER_HISTORY)).toEqual({
      resourceType: 'FamilyMemberHistory',
      status: 'completed',
      relationship: { text: 'mother' },
      bornString: 'born [DATE], [ID]',
      ageString: 'about 70, SSN [SSN]',
    });
    // A limited data set keeps dates.
    expect(deidentifyAs(FAMILY_MEMBER_HISTORY, 'limited-data-set')).toEqual({
      resourceType: 'FamilyMemberHistory',
      status: 'completed',
      relationship: { text: 'mother' },
      bornString: 'born 1950-03-04, [ID]',
      ageString: 'about 70, SSN [SSN]',
    });
    expect(deidentifyAs(FAMILY_MEMBER_HISTORY, 'none')).toEqual(FAMILY_MEMBER_HISTORY);
  });

  it('scrubs Account.name as free text', () => {
    const expected = { resourceType: 'Account', status: 'active', name: 'Account of [ID]' };

    expect(deidentifyAs(ACCOUNT)).toEqual(expected);
    expect(deidentifyAs(ACCOUNT, 'limited-data-set')).toEqual(expected);
    expect(deidentifyAs(ACCOUNT, 'none')).toEqual(ACCOUNT);
  });

  it("scrubs an extension's text values and drops one whose whole number the scrubber matches", () => {
    const expected = {
      resourceType: 'Basic',
      code: { text: 'Flag' },
      extension: [
        { url: 'http://example.org/a', valueCode: '[SSN]' },
        { url: 'http://example.org/b', valueId: '[ID]' },
        { url: 'http://example.org/c', valueUri: 'mailto:[EMAIL]' },
        { url: 'http://example.org/e', valueInteger: 42 },
        { url: 'http://example.org/f', valueDecimal: 1.3450582738843425 },
        { url: 'http://example.org/g', valueCode: 'F' },
        { url: 'http://example.org/h', valueUrl: '[URL]' },
      ],
    };

    expect(deidentifyAs(EXTENDED)).toEqual(expected);
    expect(deidentifyAs(EXTENDED, 'limited-data-set')).toEqual(expected);
    expect(deidentifyAs(EXTENDED, 'none')).toEqual(EXTENDED);
  });

  it("shifts an extension's date under safe-harbor and keeps it in a limited data set", () => {
    const basic = {
      resourceType: 'Basic',
      code: { text: 'Flag' },
      extension: [{ url: 'http://example.org/when', valueDate: '2020-02-03' }],
    };
    const shifted = deidentifyAs(basic) as { extension: { valueDate: string }[] };

    expect(shifted.extension[0].valueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(shifted.extension[0].valueDate).not.toBe('2020-02-03');
    expect(deidentifyAs(basic, 'limited-data-set')).toEqual(basic);
  });

  it('leaves no synthetic identifier in any of these resources', () => {
    const resources = [DEVICE, CLAIM, TASK, CARE_TEAM, COMMUNICATION, FAMILY_MEMBER_HISTORY];
    const output = JSON.stringify([...resources, ACCOUNT, EXTENDED].map((r) => deidentifyAs(r)));

    expect(output).not.toMatch(
      /Testperson|123-45-6789|123456789|MRN12345678|555-|SN-998877|Fake St/,
    );
  });
});
