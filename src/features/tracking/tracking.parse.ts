import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import type { EventType } from '../../db/schema.js';
import { AppError, type FieldProblem } from '../../lib/errors.js';

/** Segment's documented limits, which its clients already respect. */
export const LIMITS = { eventBytes: 32 * 1024, requestBytes: 500 * 1024, batchEvents: 2500 } as const;

export const EVENT_TYPES: readonly EventType[] = ['identify', 'track', 'page', 'screen', 'group', 'alias'];

/** One call of the Segment spec, checked and reduced to what Tandem keeps. */
export interface IncomingEvent {
  messageId: string;
  type: EventType;
  /** track: the event's name; page and screen: the page's name. */
  name: string | null;
  anonymousId: string | null;
  userId: string | null;
  groupId: string | null;
  /** alias: the id being merged into userId. */
  previousId: string | null;
  /** When it happened, corrected for the sender's clock skew as Segment does. */
  at: Date;
  /** track, page, screen: properties; identify, group: traits. */
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  /** `context.campaign` (the UTM parameters): the touch's campaign. */
  campaign: Record<string, unknown> | null;
}

export interface ParsedPayload {
  writeKey: string | undefined;
  events: IncomingEvent[];
}

const inflaters: Record<string, (b: Buffer, o: { maxOutputLength: number }) => Promise<Buffer>> = {
  gzip: promisify(gunzip) as never,
  'x-gzip': promisify(gunzip) as never,
  deflate: promisify(inflate) as never,
  br: promisify(brotliDecompress) as never,
};

/**
 * The body as sent, decoded by `Content-Encoding` alone (RudderStack gzips while naming a form
 * content type). The decoded size is held to the request limit, so a small bomb stays small.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  const inflate = inflaters[encoding];
  if (!inflate) throw new AppError('unsupported_media_type', `Content-Encoding "${encoding}" is not supported; send gzip, deflate, br or none`);
  try {
    return await inflate(raw, { maxOutputLength: LIMITS.requestBytes + 1 });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new AppError('bad_request', `The body is not valid ${encoding}: ${(error as Error).message}`);
  }
}

function tooLarge(): AppError {
  return new AppError('validation_failed', `The request is larger than ${LIMITS.requestBytes / 1024} KB (Segment's limit); send smaller batches`, {
    problems: [{ path: 'body', message: `over ${LIMITS.requestBytes} bytes` }],
  });
}

/**
 * Parse and check a request to `/v1/<type>` or `/v1/batch`. Every problem in every event is
 * collected, named by its index and field; any problem rejects the whole request.
 */
export function parsePayload(body: Buffer, kind: EventType | 'batch', receivedAt: Date): ParsedPayload {
  if (body.length > LIMITS.requestBytes) throw tooLarge();
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new AppError('invalid_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw new AppError('invalid_json', 'The body must be a JSON object');
  const writeKey = typeof json.writeKey === 'string' && json.writeKey ? json.writeKey : undefined;
  const problems: (FieldProblem & { index?: number })[] = [];
  let items: { raw: unknown; path: string; index: number | undefined }[];
  if (kind === 'batch') {
    if (!Array.isArray(json.batch)) throw invalidPayload([{ path: 'batch', message: 'must be an array of events' }]);
    if (json.batch.length > LIMITS.batchEvents) {
      throw invalidPayload([{ path: 'batch', message: `${json.batch.length} events; a batch holds at most ${LIMITS.batchEvents}` }]);
    }
    items = json.batch.map((raw, index) => ({ raw, path: `batch[${index}]`, index }));
  } else {
    items = [{ raw: { ...json, type: json.type ?? kind }, path: 'body', index: undefined }];
  }
  const batchSentAt = parseTime(json.sentAt);
  const events: IncomingEvent[] = [];
  for (const item of items) {
    const found: FieldProblem[] = [];
    const event = readEvent(item.raw, item.path, kind === 'batch' ? undefined : kind, batchSentAt, receivedAt, found);
    if (found.length) problems.push(...found.map((p) => (item.index === undefined ? p : { ...p, index: item.index })));
    else if (event) events.push(event);
  }
  if (problems.length) throw invalidPayload(problems);
  return { writeKey, events };
}

function invalidPayload(problems: (FieldProblem & { index?: number })[]): AppError {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new AppError('validation_failed', `${first?.path}: ${first?.message}${more}; nothing in this request was stored`, { problems });
}

function readEvent(
  raw: unknown,
  path: string,
  pathType: EventType | undefined,
  batchSentAt: Date | null | undefined,
  receivedAt: Date,
  problems: FieldProblem[],
): IncomingEvent | null {
  const problem = (field: string, message: string) => problems.push({ path: field ? `${path}.${field}` : path, message });
  if (!isObject(raw)) {
    problem('', 'must be an object');
    return null;
  }
  const size = Buffer.byteLength(JSON.stringify(raw));
  if (size > LIMITS.eventBytes) problem('', `${size} bytes; an event may be at most ${LIMITS.eventBytes} bytes (32 KB)`);
  const type = raw.type;
  if (typeof type !== 'string' || !EVENT_TYPES.includes(type as EventType)) {
    problem('type', `must be one of ${EVENT_TYPES.join(', ')}`);
    return null;
  }
  if (pathType && type !== pathType) problem('type', `is "${type}" but was sent to /v1/${pathType}`);
  const id = (field: string): string | null => {
    const v = raw[field];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v === 'string') {
      if (v.length <= 512) return v;
      problem(field, 'is longer than 512 characters');
      return null;
    }
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    problem(field, 'must be a string');
    return null;
  };
  const userId = id('userId');
  const anonymousId = id('anonymousId');
  const groupId = id('groupId');
  const previousId = id('previousId');
  const messageIdGiven = id('messageId');
  if (type === 'alias') {
    if (!userId) problem('userId', 'is required for alias');
    if (!previousId) problem('previousId', 'is required for alias');
  } else if (!userId && !anonymousId) problem('userId', 'userId or anonymousId is required');
  if (type === 'group' && !groupId) problem('groupId', 'is required for group');
  let name: string | null = null;
  if (type === 'track') {
    if (typeof raw.event !== 'string' || !raw.event.trim()) problem('event', 'is required for track (the name of the action)');
    else name = raw.event.slice(0, 512);
  } else if (type === 'page' || type === 'screen') {
    if (raw.name !== undefined && raw.name !== null && typeof raw.name !== 'string') problem('name', 'must be a string');
    else name = (raw.name as string | null | undefined) ?? null;
  }
  const objectField = (field: string): Record<string, unknown> => {
    const v = raw[field];
    if (v === undefined || v === null) return {};
    if (!isObject(v)) {
      problem(field, 'must be an object');
      return {};
    }
    return v;
  };
  const traitsOrProps = type === 'identify' || type === 'group' ? objectField('traits') : objectField('properties');
  const context = objectField('context');
  const campaign = isObject(context.campaign) ? context.campaign : null;
  const timestamp = parseTime(raw.timestamp);
  const original = parseTime(raw.originalTimestamp);
  const sentAt = parseTime(raw.sentAt) ?? batchSentAt;
  if (timestamp === undefined) problem('timestamp', 'must be an ISO 8601 date-time');
  if (original === undefined) problem('originalTimestamp', 'must be an ISO 8601 date-time');
  if (sentAt === undefined) problem('sentAt', 'must be an ISO 8601 date-time');
  if (problems.length) return null;
  let at = timestamp ?? receivedAt;
  // A device clock may be wrong: what matters is how long before sending it happened.
  if (!timestamp && original) at = sentAt ? new Date(receivedAt.getTime() - (sentAt.getTime() - original.getTime())) : original;
  // A client with no messageId still retries the same JSON, so its hash stands in for one.
  const messageId = messageIdGiven ?? `tandem-${createHash('sha256').update(JSON.stringify(raw)).digest('hex').slice(0, 32)}`;
  return { messageId, type: type as EventType, name, anonymousId, userId, groupId, previousId, at, properties: traitsOrProps, context, campaign };
}

/** A date-time, null when absent, undefined when present but not a date-time. */
function parseTime(v: unknown): Date | null | undefined {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
