import { describe, expect, it } from 'vitest';

import { encodeFileDropped, parseQueueMessage } from '../../pipeline/queue-message.js';

const blobCreatedEvent = {
  topic: '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct',
  subject: '/blobServices/default/containers/inbound/blobs/adt-feed/2026/12/03/file 1.hl7',
  eventType: 'Microsoft.Storage.BlobCreated',
  id: '831e1650-001e-001b-66ab-eeb76e069631',
  data: {
    api: 'PutBlob',
    eTag: '0x8D4BCC2E4835CD0',
    contentType: 'application/octet-stream',
    contentLength: 524288,
    blobType: 'BlockBlob',
    url: 'https://acct.blob.core.windows.net/inbound/adt-feed/2026/12/03/file%201.hl7',
    sequencer: '00000000000004420000000000028963',
  },
  dataVersion: '',
  metadataVersion: '1',
  eventTime: '2026-12-03T10:00:00.000Z',
};

describe('parseQueueMessage', () => {
  it('reads our own base64 message', () => {
    const text = encodeFileDropped('adt-feed', 'adt-feed/2026-12-03/abc.hl7', '"0x1"');
    expect(parseQueueMessage(text)).toEqual({
      ok: true,
      file: {
        feedId: 'adt-feed',
        blobName: 'adt-feed/2026-12-03/abc.hl7',
        etag: '"0x1"',
        source: 'phi-ingest',
      },
    });
  });

  it('reads an Event Grid BlobCreated event, base64 or plain', () => {
    const expected = {
      ok: true,
      file: {
        feedId: 'adt-feed',
        blobName: 'adt-feed/2026/12/03/file 1.hl7',
        etag: '0x8D4BCC2E4835CD0',
        source: 'event-grid',
      },
    };
    const json = JSON.stringify(blobCreatedEvent);
    expect(parseQueueMessage(json)).toEqual(expected);
    expect(parseQueueMessage(Buffer.from(json).toString('base64'))).toEqual(expected);
  });

  it('reads a CloudEvents BlobCreated event', () => {
    const cloudEvent = {
      specversion: '1.0',
      type: 'Microsoft.Storage.BlobCreated',
      source: blobCreatedEvent.topic,
      id: blobCreatedEvent.id,
      time: blobCreatedEvent.eventTime,
      subject: blobCreatedEvent.subject,
      data: blobCreatedEvent.data,
    };
    const parsed = parseQueueMessage(JSON.stringify(cloudEvent));
    expect(parsed).toEqual({
      ok: true,
      file: expect.objectContaining({ feedId: 'adt-feed', source: 'cloud-event' }),
    });
  });

  it('ignores events for other containers and other event types', () => {
    const otherContainer = {
      ...blobCreatedEvent,
      subject: '/blobServices/default/containers/output/blobs/x/y',
    };
    const deleted = { ...blobCreatedEvent, eventType: 'Microsoft.Storage.BlobDeleted' };
    expect(parseQueueMessage(JSON.stringify(otherContainer))).toEqual({
      ok: false,
      reasonCode: 'QUEUE_MESSAGE_IGNORED',
    });
    expect(parseQueueMessage(JSON.stringify(deleted))).toEqual({
      ok: false,
      reasonCode: 'QUEUE_MESSAGE_IGNORED',
    });
  });

  it('rejects garbage, path traversal and bad feed names without quoting them', () => {
    const cases = [
      'PID|1||MRN0001^^^HOSP^MR||DOE^JANE',
      Buffer.from(
        '{"type":"phi-ingest.file-dropped","version":1,"feedId":"a","blobName":"../x"}',
      ).toString('base64'),
      JSON.stringify({
        type: 'phi-ingest.file-dropped',
        version: 1,
        feedId: 'Bad Feed',
        blobName: 'a/b',
      }),
      JSON.stringify({
        ...blobCreatedEvent,
        subject: '/blobServices/default/containers/inbound/blobs/rootfile.hl7',
      }),
    ];
    for (const text of cases) {
      const parsed = parseQueueMessage(text);
      expect(parsed).toEqual({ ok: false, reasonCode: 'QUEUE_MESSAGE_INVALID' });
      expect(JSON.stringify(parsed)).not.toContain('DOE');
    }
  });
});
