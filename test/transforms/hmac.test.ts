import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { HmacSha256 } from '../../transforms/crypto/hmac.js';

function reference(key: Uint8Array, message: string): string {
  return createHmac('sha256', key).update(message).digest('hex');
}

describe('HmacSha256', () => {
  it('gives the RFC 4231 test case 2 digest', () => {
    const hmac = new HmacSha256(Buffer.from('Jefe'));

    expect(hmac.hex('what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('gives the RFC 4231 test case 6 digest, whose key is longer than a block', () => {
    const hmac = new HmacSha256(new Uint8Array(131).fill(0xaa));

    expect(hmac.hex('Test Using Larger Than Block-Size Key - Hash Key First')).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('agrees with createHmac for keys of every size class and awkward messages', () => {
    const messages = [
      '',
      'patient-id\u0000MRN-0001',
      'Zoë Ünïcödé 患者 🩺',
      'lone surrogate \ud800 here',
      'x'.repeat(341),
      'y'.repeat(342),
      'é'.repeat(600),
      'z'.repeat(5000),
    ];
    for (const length of [1, 16, 32, 63, 64, 65, 200]) {
      const key = new Uint8Array(length).map((_, index) => (index * 37 + length) & 0xff);
      const hmac = new HmacSha256(key);
      for (const message of messages) {
        expect(hmac.hex(message), `key ${length}, message ${message.length}`).toBe(
          reference(key, message),
        );
      }
    }
  });

  it('gives each message its own digest when calls alternate lengths', () => {
    const key = new Uint8Array(32).fill(7);
    const hmac = new HmacSha256(key);
    const first = hmac.hex('a-long-identifier-value');
    const second = hmac.hex('short');

    expect(hmac.hex('a-long-identifier-value')).toBe(first);
    expect(second).toBe(reference(key, 'short'));
    expect(first).not.toBe(second);
  });

  it('with a prefix, gives the HMAC of the prefix and the message, on both paths', () => {
    const key = new Uint8Array(32).map((_, index) => index * 11);
    for (const prefix of ['patient-id\u0000', 'é\u0000', '']) {
      const hmac = new HmacSha256(key, prefix);
      // The last message is long enough for the `createHmac` path.
      for (const message of ['MRN-0001', '', 'Zoë', 'w'.repeat(2000)]) {
        expect(hmac.hex(message)).toBe(reference(key, prefix + message));
      }
    }
  });
});
