import type { S3Client } from '@aws-sdk/client-s3';

/** Where pictures are kept and the URL a browser fetches them from. */
export interface MediaStore {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  urlFor(key: string): string;
  close(): void;
}

export interface S3MediaStoreOptions {
  bucket: string;
  region: string;
  /** S3-compatible endpoint (the embedded server, MinIO); unset for AWS S3 itself. */
  endpoint?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** What object keys are appended to for public URLs: a CDN in front of the bucket in production. */
  publicBaseUrl: string;
}

// Keys name their content (a fresh id per upload), so a URL never changes meaning and may be cached for good.
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function createS3MediaStore(options: S3MediaStoreOptions): MediaStore {
  // The SDK's S3 client is loaded and made with the first picture stored or deleted: most processes never
  // handle one, and the module is a few MB of heap that would otherwise be carried from the start.
  let loading: Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | undefined;
  const s3 = () => {
    loading ??= import('@aws-sdk/client-s3').then((sdk) => {
      const client = new sdk.S3Client({
        region: options.region,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        // S3-compatible servers do not all understand the SDK's default flexible checksums; AWS needs none here.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      return { client, sdk };
    });
    return loading;
  };
  const base = options.publicBaseUrl.replace(/\/+$/, '');
  return {
    async put(key, body, contentType) {
      const { client, sdk } = await s3();
      await client.send(new sdk.PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentType: contentType, CacheControl: IMMUTABLE }));
    },
    async delete(keys) {
      if (keys.length === 0) return;
      const { client, sdk } = await s3();
      await client.send(new sdk.DeleteObjectsCommand({ Bucket: options.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
    },
    urlFor(key) {
      return `${base}/${key}`;
    },
    close() {
      void loading?.then(
        ({ client }) => client.destroy(),
        () => undefined,
      );
    },
  };
}
