/**
 * The parse-only ceiling for the ingest benchmark: the same HTTP server framework, body
 * handling, decoding and event validation as the tracking API, but no database. Whatever the
 * real server reaches is bounded by this.
 */
import Fastify from 'fastify';
import { decodeBody, LIMITS, parsePayload } from '../src/features/tracking/tracking.parse.js';

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LIMITS.requestBytes * 4 }, (_request, body, done) => done(null, body));
app.post('/v1/:path', async (request) => {
  const body = await decodeBody(request.body as Buffer, request.headers['content-encoding']);
  const payload = parsePayload(body, 'batch', new Date());
  return { success: true, stored: payload.events.length, duplicates: 0 };
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (!address || typeof address === 'string') throw new Error('no TCP address');
process.on('message', (m) => {
  if (m === 'stop') void app.close().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ port: address.port });
