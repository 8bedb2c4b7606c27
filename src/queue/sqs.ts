import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config/config.js';

export interface OrdersQueue {
  client: SQSClient;
  queueUrl: string;
  /** Consumers to run side by side. */
  receiveConsumers: number;
  kind: 'sqs' | 'embedded';
  stop(): Promise<void>;
}

/**
 * The emulator answers a receive no sooner than its 10 ms tick (src/local/sqs.ts), so a second consumer
 * receives while the first one's batch is handled.
 */
const CONSUMERS_ON_EMBEDDED = 2;

/** Messages a receive asks for, on SQS and the emulator alike: SQS's maximum, handled side by side. */
export const RECEIVE_BATCH_SIZE = 10;

/** The orders queue: Amazon SQS (or a compatible endpoint) when configured, else the embedded emulator. */
export async function openOrdersQueue(config: QueueConfig): Promise<OrdersQueue> {
  if (config.kind === 'sqs') {
    const clientConfig: SQSClientConfig = { region: config.region, ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }) };
    const client = new SQSClient(clientConfig);
    return { client, queueUrl: config.queueUrl, receiveConsumers: 1, kind: 'sqs', stop: async () => client.destroy() };
  }
  // Dev dependency, loaded only when no queue is configured (never in production).
  const { startEmbeddedSqs, embeddedSqsClientConfig } = await import('../local/sqs.js');
  const embedded = await startEmbeddedSqs({});
  const client = new SQSClient(embeddedSqsClientConfig(embedded, config.region));
  return {
    client,
    queueUrl: embedded.queueUrl,
    receiveConsumers: CONSUMERS_ON_EMBEDDED,
    kind: 'embedded',
    stop: async () => {
      client.destroy();
      await embedded.stop();
    },
  };
}

/**
 * The dead-letter queue named by the queue's RedrivePolicy, so a message that can never be handled is
 * moved there at once instead of being received maxReceiveCount times. Undefined when none is set.
 */
export async function findDeadLetterQueueUrl(client: SQSClient, queueUrl: string): Promise<string | undefined> {
  const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = attributes.Attributes?.RedrivePolicy;
  if (policy === undefined) return undefined;
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  const [, , , , account, name] = arn?.split(':') ?? [];
  if (name === undefined) return undefined;
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
  return QueueUrl;
}
