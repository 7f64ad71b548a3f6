import { Agent, request } from 'node:http';

interface UploadResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** POST an avatar as a browser would: multipart/form-data, the file in `file` (or the parts given). */
export async function uploadAvatar(
  url: string,
  userId: string,
  file: Buffer | null,
  options: { token?: string; headers?: Record<string, string>; filename?: string; type?: string; form?: FormData } = {},
): Promise<UploadResponse> {
  const form = options.form ?? new FormData();
  if (file) form.append('file', new Blob([file], { type: options.type ?? 'image/jpeg' }), options.filename ?? 'photo.jpg');
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${url}/api/v1/users/${userId}/avatar`, { method: 'POST', headers, body: form });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/**
 * Streams a multipart body with `size` bytes in the file part (a JPEG signature, then filler) without ever holding
 * it: the same 64 KB chunk is written again and again, respecting backpressure, to the end even after an early
 * answer (as curl does). Resolves with the status, the parsed body and how many file bytes had been written when
 * the response arrived.
 */
export function streamHugeUpload(
  url: string,
  userId: string,
  token: string,
  size: number,
  /** pause this long after each MB, so that "answered before the end" is observable on loopback */
  pausePerMB = 0,
): Promise<{ status: number; body: any; bytesWrittenAtResponse: number }> {
  const boundary = `----avatar${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const first = Buffer.from(chunk);
  first.set([0xff, 0xd8, 0xff, 0xe0]);
  const { hostname, port } = new URL(url);
  // its own keep-alive agent, closed at the end: no socket is left for the server's close() to wait on
  const agent = new Agent({ keepAlive: true });
  return new Promise<{ status: number; body: any; bytesWrittenAtResponse: number }>((resolve, reject) => {
    let written = 0;
    let writtenAtResponse = -1;
    let answer: { status: number; body: any; bytesWrittenAtResponse: number } | undefined;
    let sent = false;
    const settle = () => answer && sent && resolve(answer);
    const req = request(
      {
        agent,
        hostname,
        port,
        method: 'POST',
        path: `/api/v1/users/${userId}/avatar`,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + size + tail.length,
        },
      },
      (res) => {
        writtenAtResponse = written;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          answer = { status: res.statusCode!, body: JSON.parse(text), bytesWrittenAtResponse: writtenAtResponse };
          settle();
        });
      },
    );
    req.on('error', reject);
    req.on('finish', () => {
      sent = true;
      settle();
    });
    // Once the response is in, Node's client stops passing the socket's 'drain' on to the request: listen to both.
    const whenDrained = (next: () => void) => {
      let done = false;
      const go = () => {
        if (done) return; // the socket's drain also fires the request's
        done = true;
        req.off('drain', go);
        req.socket?.off('drain', go);
        next();
      };
      req.once('drain', go);
      req.socket?.once('drain', go);
    };
    const pump = () => {
      if (written === 0) req.write(head);
      while (written < size) {
        const piece = written === 0 ? first : chunk;
        const n = Math.min(piece.length, size - written);
        written += n;
        const flushed = req.write(n === piece.length ? piece : piece.subarray(0, n));
        if (pausePerMB > 0 && written % (1024 * 1024) === 0) return void setTimeout(pump, pausePerMB);
        if (!flushed) return void whenDrained(pump);
      }
      req.end(tail);
    };
    pump();
  }).finally(() => agent.destroy());
}
