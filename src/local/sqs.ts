// Embedded SQS for development: local-aws-sqs served in this process on a loopback port,
// spoken to by the same @aws-sdk/client-sqs code as production (see DESIGN.md,
// "Configuration and the embedded default").
//
// Emulator quirks (local-aws-sqs 2.0.2, measured; pinned in test/local-sqs.test.ts), why the worker is written as it is:
// - Left alone, a receive returns only when MaxNumberOfMessages are collected or WaitTimeSeconds is over, so one
//   message waits out the whole long poll, and a message whose visibility expires during that wait is collected
//   again. Every receive is therefore answered as SQS answers it (see `answerAsSqs` below).
// - It answers no sooner than its 10 ms polling tick.
// - ChangeMessageVisibility adds 1 to ApproximateReceiveCount, so heartbeats and terminateVisibilityTimeout bring the dead-letter queue closer.
// - A long poll whose client hung up (aborted request, consumer.stop({ abort: true })) still takes the next message in flight, for nobody, until its visibility timeout.
// - Redrive happens when the maxReceiveCount-th visibility timeout expires (not on the next receive); the dead-letter copy restarts at receive count 0.
// - Only the deprecated AttributeNames is read (MessageSystemAttributeNames is ignored): ask for ["All"] to see ApproximateReceiveCount.
// - ApproximateNumberOfMessages includes in-flight messages.
// - Messages live in memory only: what is queued when the process stops is gone.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';

export const ORDERS_QUEUE_NAME = 'tablekit-orders';
export const ORDERS_DEAD_LETTER_QUEUE_NAME = 'tablekit-orders-dlq';

// Cosmetic to the emulator (it finds queues by the last path segment), fixed so ARNs are stable.
const ACCOUNT_ID = '000000000000';
// Pinned: without it the emulator copies AWS_REGION into ARNs, and the RedrivePolicy ARN must agree.
const ARN_REGION = 'us-east-1';

// The emulator ignores credentials; the SDK still refuses to sign without some.
const DUMMY_CREDENTIALS = { accessKeyId: 'tablekit-local', secretAccessKey: 'tablekit-local' } as const;

export interface EmbeddedSqs {
  /** http://127.0.0.1:PORT, what SQSClient({ endpoint }) takes */
  endpoint: string;
  /** the orders queue */
  queueUrl: string;
  deadLetterQueueUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedSqsOptions {
  /** loopback address to bind; default 127.0.0.1 */
  host?: string;
  /** 0 or unset = any free port */
  port?: number;
  /** receives before a message moves to the dead-letter queue; default 5 */
  maxReceiveCount?: number;
  /** default visibility timeout of the orders queue; default 30 */
  visibilityTimeoutSeconds?: number;
}

interface ReceiveRequest {
  MaxNumberOfMessages?: number | string;
  WaitTimeSeconds?: number | string;
  [parameter: string]: unknown;
}

interface EmulatedQueue {
  receive(request: ReceiveRequest): Promise<unknown>;
  getAttributes(names: string[]): Record<string, string | undefined> | undefined;
}

/**
 * Makes the emulator answer a receive as SQS does: at once with what is visible, up to
 * MaxNumberOfMessages; when nothing is, as soon as the first message arrives within WaitTimeSeconds.
 * The emulator itself collects until it has MaxNumberOfMessages or the wait is over, so a client
 * written for SQS (batches of 10) would wait out every long poll. Asking it for no more than is visible
 * now, with no wait, makes it return at its next tick (a receive racing another for the same messages
 * gets fewer and returns within 40 ms); asking for one when none is makes it return on arrival.
 */
function answerAsSqs(queue: EmulatedQueue): void {
  const receive = queue.receive.bind(queue);
  queue.receive = (request) => {
    // Validated before it gets here (1 to 10).
    const wanted = Number(request.MaxNumberOfMessages ?? 1);
    const attributes = queue.getAttributes(['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
    // The emulator counts the messages in flight in ApproximateNumberOfMessages; a message is never both delayed and in flight.
    const visible = Number(attributes?.ApproximateNumberOfMessages ?? 0) - Number(attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (visible < 1) return receive({ ...request, MaxNumberOfMessages: 1 });
    return receive({ ...request, MaxNumberOfMessages: Math.min(visible, wanted), WaitTimeSeconds: 0 });
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startEmbeddedSqs(options: EmbeddedSqsOptions = {}): Promise<EmbeddedSqs> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;

  // The emulator has no authentication at all: never expose it beyond this machine.
  if (!isLoopback(host)) throw new Error(`embedded SQS must bind a loopback address, got ${host}`);
  checkInteger('port', port, 0, 65535);
  checkInteger('maxReceiveCount', maxReceiveCount, 1, 1000);
  // 0 is legal in SQS but the emulator silently turns a queue VisibilityTimeout of 0 into 30.
  checkInteger('visibilityTimeoutSeconds', visibilityTimeoutSeconds, 1, 43200);

  // Dev dependency: loaded only when the embedded default is actually used.
  const { createRequestHandler } = await import('local-aws-sqs');

  // createRequestHandler rather than createSqsServer: the latter listens without an 'error'
  // listener, so a busy port crashes the process instead of rejecting.
  const { service, requestHandler } = createRequestHandler({
    port,
    hostname: host,
    accountId: ACCOUNT_ID,
    region: ARN_REGION,
    // Its 60 s "deleted queue name is reserved" rule would only get in the way of tests and restarts.
    emulateQueueCreationLifecycle: false,
    queues: [
      // The dead-letter queue first: the emulator validates that a RedrivePolicy target exists.
      { QueueName: ORDERS_DEAD_LETTER_QUEUE_NAME },
      {
        QueueName: ORDERS_QUEUE_NAME,
        Attributes: {
          VisibilityTimeout: visibilityTimeoutSeconds,
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${ARN_REGION}:${ACCOUNT_ID}:${ORDERS_DEAD_LETTER_QUEUE_NAME}`,
            maxReceiveCount,
          }),
        },
      },
    ],
  });

  for (const queue of service.Queues as EmulatedQueue[]) answerAsSqs(queue);

  const server = createServer((req, res) => {
    requestHandler(req, res).catch(() => {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  const address = await listen(server, port, host);

  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  // The emulator builds the QueueUrls it returns (GetQueueUrl, ListQueues) from these two.
  service.HOSTNAME = urlHost;
  service.PORT = address.port;
  const endpoint = `http://${urlHost}:${address.port}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // In-flight long polls would otherwise hold close() for up to 20 s.
      server.closeAllConnections();
    }).finally(() => service.resetAll());
    return stopping;
  };

  return {
    endpoint,
    queueUrl: `${endpoint}/${ACCOUNT_ID}/${ORDERS_QUEUE_NAME}`,
    deadLetterQueueUrl: `${endpoint}/${ACCOUNT_ID}/${ORDERS_DEAD_LETTER_QUEUE_NAME}`,
    stop,
  };
}

export function embeddedSqsClientConfig(e: EmbeddedSqs, region: string): SQSClientConfig {
  return { region, endpoint: e.endpoint, credentials: { ...DUMMY_CREDENTIALS } };
}
