import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config/config.js';

export interface OrdersQueue {
  client: SQSClient;
  queueUrl: string;
  /** The embedded emulator mishandles batched receives under long polling: take one message at a time there. */
  receiveBatchSize: number;
  /**
   * Consumers to run side by side. The emulator answers a receive no sooner than its 10 ms polling tick and
   * with one message (above), so a single consumer confirms ~50 orders a second; eight long polls at once
   * take it past 200. SQS returns up to 10 messages a receive, which one consumer handles concurrently.
   */
  receiveConsumers: number;
  kind: 'sqs' | 'embedded';
  stop(): Promise<void>;
}

/** The orders queue: Amazon SQS (or a compatible endpoint) when configured, else the embedded emulator. */
export async function openOrdersQueue(config: QueueConfig): Promise<OrdersQueue> {
  if (config.kind === 'sqs') {
    const clientConfig: SQSClientConfig = { region: config.region, ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }) };
    const client = new SQSClient(clientConfig);
    return { client, queueUrl: config.queueUrl, receiveBatchSize: 10, receiveConsumers: 1, kind: 'sqs', stop: async () => client.destroy() };
  }
  // Dev dependency, loaded only when no queue is configured (never in production).
  const { startEmbeddedSqs, embeddedSqsClientConfig } = await import('../local/sqs.js');
  const embedded = await startEmbeddedSqs({});
  const client = new SQSClient(embeddedSqsClientConfig(embedded, config.region));
  return {
    client,
    queueUrl: embedded.queueUrl,
    receiveBatchSize: 1,
    receiveConsumers: 8,
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
