import type { MediaConfig } from '../../config/config.js';
import { createS3MediaStore, type MediaStore } from './store.js';

export interface RunningMediaStore {
  store: MediaStore;
  stop(): Promise<void>;
}

/** The configured picture store; embedded, it also starts the S3-compatible server it talks to. */
export async function startMediaStore(config: MediaConfig, region: string): Promise<RunningMediaStore> {
  if (config.kind === 's3') {
    const store = createS3MediaStore({ bucket: config.bucket, region: config.region, endpoint: config.endpoint, publicBaseUrl: config.publicBaseUrl });
    return { store, stop: async () => store.close() };
  }
  const { startEmbeddedS3, EMBEDDED_S3_CREDENTIALS } = await import('../../local/s3.js');
  const s3 = await startEmbeddedS3({ dataDir: config.dataDir });
  const store = createS3MediaStore({ bucket: s3.bucket, region, endpoint: s3.endpoint, credentials: EMBEDDED_S3_CREDENTIALS, publicBaseUrl: s3.publicBaseUrl });
  return {
    store,
    stop: async () => {
      store.close();
      await s3.stop();
    },
  };
}
