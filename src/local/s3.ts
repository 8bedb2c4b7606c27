// Embedded S3 for development: s3rver served in this process on a loopback port, spoken to by the same
// @aws-sdk/client-s3 code as production (DESIGN.md, "Media"). Objects live under DATA_DIR, so pictures
// survive a restart like the embedded database does.

import path from 'node:path';

export interface EmbeddedS3 {
  /** http://127.0.0.1:PORT, what S3Client({ endpoint }) takes */
  endpoint: string;
  bucket: string;
  /** Where the bucket's objects are read from by a browser: `${endpoint}/${bucket}` */
  publicBaseUrl: string;
  stop(): Promise<void>;
}

// The emulator checks signatures only loosely; the SDK still refuses to sign without credentials.
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export async function startEmbeddedS3(options: { dataDir: string; bucket?: string; host?: string; port?: number }): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? 'tablekit-media';
  const host = options.host ?? '127.0.0.1';
  // A dev dependency, loaded only when the embedded store is used (never in a production image).
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    silent: true,
    directory: path.join(options.dataDir, 's3'),
    configureBuckets: [{ name: bucket, configs: [] }],
    // Path-style URLs only: a bucket name in the Host header would need wildcard DNS on localhost.
    vhostBuckets: false,
  });
  const address = await server.run();
  const endpoint = `http://${host}:${address.port}`;
  return {
    endpoint,
    bucket,
    publicBaseUrl: `${endpoint}/${bucket}`,
    stop: () => server.close(),
  };
}
