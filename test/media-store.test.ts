import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaStore, type RunningMediaStore } from '../src/modules/media/start.js';

describe('the embedded picture store', () => {
  let dataDir: string;
  let media: RunningMediaStore;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tablekit-media-'));
    media = await startMediaStore({ kind: 'embedded', dataDir }, 'us-east-1');
  });
  afterAll(async () => {
    await media.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves what was put at its public URL, cacheable for good, and nothing once deleted', async () => {
    const key = 'r/1/recipes/2/abc/thumb.webp';
    await media.store.put(key, Buffer.from('RIFF-webp-bytes'), 'image/webp');
    const url = media.store.urlFor(key);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tablekit-media\/r\/1\/recipes\/2\/abc\/thumb\.webp$/);

    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await served.text()).toBe('RIFF-webp-bytes');

    await media.store.delete([key]);
    expect((await fetch(url)).status).toBe(404);
  });

  it('keeps objects under DATA_DIR, so pictures survive a restart', async () => {
    const key = 'r/1/recipes/3/def/large.webp';
    await media.store.put(key, Buffer.from('kept'), 'image/webp');
    await media.stop();
    media = await startMediaStore({ kind: 'embedded', dataDir }, 'us-east-1');
    expect(await (await fetch(media.store.urlFor(key))).text()).toBe('kept');
  });
});
