import { uploadAvatar } from './support/avatars';
import { call, RunningApp, startApp, testConfig, tokenFor, uniqueIdentity } from './support/app';
import * as images from './support/images';
import { clientFor, listObjects, S3Server, startS3Server } from './support/s3-server';

const BUCKET = 'avatars';
const IDLE_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('avatars on a store that closes idle connections', () => {
  let s3server: S3Server;
  let api: RunningApp;
  const logged: string[] = [];
  const warnings = () =>
    logged
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((r) => r.level === 'warn');

  beforeAll(async () => {
    s3server = await startS3Server({ buckets: [BUCKET], keepAliveTimeoutMs: IDLE_MS });
    api = await startApp(
      testConfig({
        MINIO_ENDPOINT: s3server.endPoint,
        MINIO_PORT: String(s3server.port),
        MINIO_ACCESS_KEY: s3server.accessKey,
        MINIO_SECRET_KEY: s3server.secretKey,
        MINIO_BUCKET: BUCKET,
        MINIO_TIMEOUT_MS: '2000',
      }),
      { logDestination: { write: (chunk: string) => logged.push(chunk) } },
    );
  });
  afterAll(async () => {
    await api?.close();
    await s3server?.dispose();
  });

  async function createUser() {
    const identity = uniqueIdentity('idle');
    const token = await tokenFor(identity.keycloakId);
    const res = await call(api.url, 'POST', '/api/v1/users', { token, body: { ...identity, profile: { fullName: 'Idle Store' } } });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, token };
  }

  it('uploads and deletes at idle gaps around its keep-alive timeout without a failure', async () => {
    const { id, token } = await createUser();
    const answers: { gap: number; call: string; status: number }[] = [];
    // Below the timeout the pooled connection is alive; just above it a request on it is reset; a second later
    // the server has closed it.
    for (const [n, gap] of [0.6, 0.9, 1.1, 1.4, 2.4].map((f, i) => [i, f * IDLE_MS])) {
      await sleep(gap);
      const upload = await uploadAvatar(api.url, id, await images.jpeg(200, 200, 40 + n), { token });
      answers.push({ gap, call: 'upload', status: upload.status });
      await sleep(gap);
      const removal = await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token });
      answers.push({ gap, call: 'delete', status: removal.status });
    }
    expect(answers).toEqual(answers.map((a) => ({ ...a, status: 200 })));
    expect(await listObjects(clientFor(s3server), BUCKET, `users/${id}/`)).toEqual([]);
  });

  it('logs why the store made a request fail with 503: the call, the key and the cause', async () => {
    const { id, token } = await createUser();
    const upload = await uploadAvatar(api.url, id, await images.jpeg(200, 200, 50), { token });
    expect(upload.status).toBe(200);
    const keys = upload.body.variants.map((v: { url: string }) => v.url.slice(`${s3server.url}/${BUCKET}/`.length));
    await s3server.stop();
    try {
      const removal = await call(api.url, 'DELETE', `/api/v1/users/${id}/avatar`, { token });
      expect(removal.status).toBe(503);
      const warning = warnings().find((w) => w.traceId === removal.body.traceId);
      expect(warning).toMatchObject({
        message: 'Avatar storage is unavailable, try again later',
        code: 'SERVICE_UNAVAILABLE',
        cause: {
          operation: 'DELETE',
          key: keys.join(' '),
          code: 'ECONNREFUSED',
          message: expect.stringContaining('ECONNREFUSED'),
        },
      });
    } finally {
      await s3server.start();
    }
  });
});
