import type { PoisonMessage } from './orchestrator.js';
import type { Storage } from './storage.js';

/** A poison queue message this process has received, with what it needs to delete it. */
export interface ClaimedPoisonMessage {
  messageId: string;
  popReceipt: string;
  /** The decoded body; undefined when it is not a `phi-ingest.poison` message. */
  body: PoisonMessage | undefined;
}

/** Azure returns at most 32 queue messages per receive call. */
const RECEIVE_PAGE = 32;

/**
 * Receives every poison queue message, keeping each invisible for `visibilityTimeoutSec` so the
 * loop sees each once. Peek cannot do this: it returns at most 32 messages and no pop receipt.
 *
 * @param storage - the opened storage
 * @param visibilityTimeoutSec - how long the claimed messages stay invisible
 */
export async function claimPoisonMessages(
  storage: Storage,
  visibilityTimeoutSec: number,
): Promise<ClaimedPoisonMessage[]> {
  const claimed = new Map<string, ClaimedPoisonMessage>();
  for (;;) {
    const response = await storage.poisonQueue.receiveMessages({
      numberOfMessages: RECEIVE_PAGE,
      visibilityTimeout: visibilityTimeoutSec,
    });
    const fresh = response.receivedMessageItems.filter((item) => !claimed.has(item.messageId));
    for (const item of fresh) {
      claimed.set(item.messageId, {
        messageId: item.messageId,
        popReceipt: item.popReceipt,
        body: decodePoisonMessage(item.messageText),
      });
    }
    if (fresh.length === 0) {
      return [...claimed.values()];
    }
  }
}

/**
 * Makes claimed poison messages visible again, for the ones a run did not replay.
 *
 * @param storage - the opened storage
 * @param messages - messages claimed by `claimPoisonMessages`
 */
export async function releasePoisonMessages(
  storage: Storage,
  messages: Array<Pick<ClaimedPoisonMessage, 'messageId' | 'popReceipt'>>,
): Promise<void> {
  for (const message of messages) {
    try {
      await storage.poisonQueue.updateMessage(message.messageId, message.popReceipt, undefined, 0);
    } catch (error) {
      // Gone or claimed again since: either way it is no longer ours to release.
      if (!isGoneOrReclaimed(error)) {
        throw error;
      }
    }
  }
}

/**
 * Deletes a poison queue message once its file has been replayed. Deleting one that is already
 * gone is fine: a resumed run may repeat the delete.
 *
 * @param storage - the opened storage
 * @param message - the message id and the pop receipt from its claim
 */
export async function deletePoisonMessage(
  storage: Storage,
  message: Pick<ClaimedPoisonMessage, 'messageId' | 'popReceipt'>,
): Promise<void> {
  try {
    await storage.poisonQueue.deleteMessage(message.messageId, message.popReceipt);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) {
      throw error;
    }
  }
}

/**
 * Decodes a poison message body (base64 of JSON), or undefined when it is something else.
 *
 * @param messageText - the queue message text
 */
export function decodePoisonMessage(messageText: string): PoisonMessage | undefined {
  try {
    const body = JSON.parse(Buffer.from(messageText, 'base64').toString('utf8')) as PoisonMessage;
    return body?.type === 'phi-ingest.poison' ? body : undefined;
  } catch {
    return undefined;
  }
}

function isGoneOrReclaimed(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status === 404 || status === 400;
}
