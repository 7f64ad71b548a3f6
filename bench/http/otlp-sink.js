'use strict';
// An OTLP/HTTP receiver that accepts and drops traces, for pricing tracing with bench/http:
//   node bench/http/otlp-sink.js 4318 &
//   BENCH_ROUNDS=0 BENCH_SERVICE_ENV=OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 BENCH_NOOBS_ENV=OTEL_EXPORTER_OTLP_ENDPOINT= npm run bench:http
const http = require('node:http');

const port = Number(process.argv[2] || 4318);
let bytes = 0;
let posts = 0;
http
  .createServer((request, response) => {
    request.on('data', (chunk) => (bytes += chunk.length));
    request.on('end', () => {
      posts += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`OTLP sink on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => {
  console.log(`OTLP sink: ${posts} exports, ${(bytes / 1e6).toFixed(1)} MB`);
  process.exit(0);
});
