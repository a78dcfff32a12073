/** Queue names of the contract (README "Queues and payloads"). Names never contain ':' (BullMQ forbids it). */
export const QUEUES = ['email', 'sms', 'whatsapp', 'meeting', 'appointment', 'reminder', 'webhook', 'delivery'] as const;
export type QueueName = (typeof QUEUES)[number];

/** The queues a producer may push message jobs into directly. */
export const MESSAGE_QUEUES = ['email', 'sms', 'whatsapp'] as const;
export type MessageQueue = (typeof MESSAGE_QUEUES)[number];

export function isQueueName(name: string): name is QueueName {
  return (QUEUES as readonly string[]).includes(name);
}
