import type { Readable } from 'node:stream';
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import { binaryArray, type ElementType } from '../../db/binary-array.js';
import type { AccountsTable, DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { type AgreementDocument, stageByKey } from '../../domain/agreement.js';
import { classify, fitPoints, type ScoringDocument } from '../../domain/scoring.js';
import { BloomFilter } from '../../lib/bloom.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, invalidMany } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';
import { getEffectiveAgreement } from '../agreements/agreements.service.js';
import { activeScoringLocked, getActiveScoring, refreshAccountLeads, refreshLeads } from '../scoring/scoring.repo.js';
import { csvChunks } from './csv.js';
import {
  type ColumnMapping,
  dealOutcome,
  type Entity,
  type Format,
  HUBSPOT_LIFECYCLE,
  HUBSPOT_STATUS,
  mappingProblems,
  resolveMapping,
  SALESFORCE_STAGE,
  SALESFORCE_STATUS,
} from './mapping.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export const DUPLICATE_POLICIES = ['update', 'skip', 'fail'] as const;
export type DuplicatePolicy = (typeof DUPLICATE_POLICIES)[number];

export interface ImportOptions {
  entity: Entity;
  format: Format;
  mapping?: ColumnMapping | undefined;
  duplicates: DuplicatePolicy;
  dryRun: boolean;
}

export interface ImportProblem {
  /** The data row, counting from 1 after the header. */
  row: number;
  /** The file's line where the row ends (a quoted field may span lines). */
  line: number;
  column: string | null;
  message: string;
}

export interface ImportCounts {
  rows: number;
  inserted: number;
  updated: number;
  skipped: number;
  failed: number;
}

export interface ImportResult extends ImportCounts {
  dryRun: boolean;
  problems: ImportProblem[];
  problemCount: number;
  notes: string[];
  seconds: number;
}

/** Rows written per statement: large enough that a statement's cost is shared, small enough to stream. */
const BATCH = 2_000;
/** Problems kept in detail; the count covers them all. */
const MAX_PROBLEMS = 1_000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function assertMayImport(actor: Actor, entity: Entity): void {
  if (actor.isAdmin) return;
  if (entity === 'deals' && actor.team !== 'sales') throw new AppError('forbidden', 'Deals are imported by sales or an administrator');
  if (entity !== 'deals' && actor.team !== 'marketing')
    throw new AppError('forbidden', `${entity === 'leads' ? 'Leads' : 'Accounts'} are imported by marketing or an administrator`);
}

export function checkOptions(actor: Actor, opts: ImportOptions): void {
  assertMayImport(actor, opts.entity);
  const problems = mappingProblems(opts.entity, opts.mapping);
  if (problems.length) throw invalidMany(problems, 'The column mapping is invalid');
  if (opts.format === 'custom' && !opts.mapping) {
    // Columns named like Tandem's fields still import; anything else needs a mapping.
  }
}

interface Row {
  n: number;
  line: number;
  values: Record<string, string>;
  properties: Record<string, string>;
}

/**
 * Import a CSV stream. Memory stays flat at any size: rows are read, checked and written in
 * batches as they arrive. A dry run reads and checks everything and writes nothing; a real run
 * writes every good row and reports each bad one by row and column, writing nothing of it.
 */
export async function runImport(
  deps: Deps,
  actor: Actor,
  source: Readable,
  opts: ImportOptions,
  onProgress?: (counts: ImportCounts) => void | Promise<void>,
): Promise<ImportResult> {
  checkOptions(actor, opts);
  const started = performance.now();
  const ws = actor.workspaceId;
  const agreement = (await getEffectiveAgreement(deps.db, ws)).document;
  const scoring = (await getActiveScoring(deps.db, ws)).document;
  const counts: ImportCounts = { rows: 0, inserted: 0, updated: 0, skipped: 0, failed: 0 };
  const problems: ImportProblem[] = [];
  let problemCount = 0;
  const notes = new Set<string>();
  const problem = (p: ImportProblem) => {
    problemCount += 1;
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let header: string[] | null = null;
  let fields: (string | null)[] = [];
  let batch: Row[] = [];
  /** Keys (email, domain) seen earlier in this file, with the row that had them. */
  const seen = new Map<string, number>();
  const writer = new BatchWriter(deps, actor, opts, agreement, scoring, counts, problem, notes, seen);
  let writing: Promise<void> | undefined;
  try {
    for await (const records of csvChunks(source)) {
      for (const { record, line } of records) {
        if (!header) {
          header = record.map((h) => h.trim());
          const resolved = resolveMapping(opts.entity, opts.format, header, opts.mapping);
          fields = resolved.fields;
          if (fields.every((f) => f === null)) {
            throw new AppError('validation_failed', `No column of the file maps to a ${opts.entity} field; the header is: ${header.join(', ')}`, {
              problems: [{ path: 'file.header', message: 'no known columns; give a mapping' }],
            });
          }
          if (resolved.unmapped.length)
            notes.add(`Columns not imported: ${resolved.unmapped.slice(0, 30).join(', ')}${resolved.unmapped.length > 30 ? ', …' : ''}`);
          continue;
        }
        counts.rows += 1;
        if (record.length !== header.length && !(record.length === 1 && record[0] === '')) {
          problem({ row: counts.rows, line, column: null, message: `has ${record.length} fields; the header has ${header.length}` });
          counts.failed += 1;
          continue;
        }
        const row: Row = { n: counts.rows, line, values: {}, properties: {} };
        for (let i = 0; i < record.length; i++) {
          const field = fields[i];
          const value = (record[i] ?? '').trim();
          if (!field || value === '') continue;
          if (field.startsWith('properties.')) row.properties[field.slice(11)] = value;
          else if (row.values[field] === undefined) row.values[field] = value;
        }
        batch.push(row);
        if (batch.length >= BATCH) {
          // The file is read on, and the next batch checked, while the database writes the batch
          // before; batches are written in order.
          const write = writer.prepare(batch);
          await writing;
          if (writing) await onProgress?.(counts);
          writing = write();
          writing.catch(() => {});
          batch = [];
        }
      }
    }
    await writing;
    if (batch.length) await writer.prepare(batch)();
  } catch (error) {
    // Nothing is left writing once the import has ended, however it ended.
    await writing?.catch(() => {});
    if (error instanceof AppError) throw error;
    const e = error as { code?: string; message?: string; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new AppError('validation_failed', `The file is not valid CSV at line ${e.lines ?? '?'}: ${e.message}`, {
        problems: [{ path: `file.line[${e.lines ?? 0}]`, message: e.message ?? 'invalid CSV' }],
        counts,
      });
    }
    throw error;
  }
  if (!header) throw new AppError('validation_failed', 'The file is empty; it needs a header row', { problems: [{ path: 'file', message: 'empty' }] });
  await onProgress?.(counts);
  if (!opts.dryRun && counts.inserted + counts.updated > 0) {
    await recordActivity(deps.db, actor, { kind: 'import.completed', at: deps.clock.now(), data: { entity: opts.entity, format: opts.format, ...counts } });
  }
  // A batch is checked while the one before is written, so problems found in writing may come later.
  problems.sort((a, b) => a.row - b.row);
  return { ...counts, dryRun: opts.dryRun, problems, problemCount, notes: [...notes], seconds: (performance.now() - started) / 1000 };
}

const text = (v: string | undefined, max = 500): string | null => (v ? v.slice(0, max) : null);

function parseDate(v: string | undefined): Date | null | undefined {
  if (!v) return null;
  // Salesforce: 2024-01-22T20:36:47.000+0000; HubSpot: 2024-01-22 10:00 or ISO. The patterns
  // are tested by character first: the import reads a date on every row.
  let iso = v;
  const sign = v.charCodeAt(v.length - 5);
  if ((sign === 43 || sign === 45) && /[+-]\d{4}$/.test(v)) iso = `${v.slice(0, -2)}:${v.slice(-2)}`;
  if (iso.charCodeAt(10) === 32 && /^\d{4}-\d{2}-\d{2} \d/.test(iso)) iso = `${iso.slice(0, 10)}T${iso.slice(11)}`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function domainOf(v: string | undefined): string | null {
  if (!v) return null;
  const d = v
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/^www\./, '')
    .split(/[/?#]/)[0];
  return d && /^[a-z0-9.-]+\.[a-z]{2,}$/.test(d) ? d : null;
}

/** Marketing's first working stage, where leads that were marketing-qualified elsewhere land. */
function workingStage(agreement: AgreementDocument): string {
  return agreement.stages.find((s) => s.role === 'working' && s.team === 'marketing')?.key ?? (agreement.stages[0]?.key as string);
}

function handoffNote(agreement: AgreementDocument): string {
  const name = agreement.stages.find((s) => s.key === workingStage(agreement))?.name ?? 'Lead';
  return `Marketing-qualified rows were imported in ${name}: an import does not hand leads off; hand them to sales when ready`;
}

/** The columns a batch of leads is sent in, each as one binary array of its type. */
const LEAD_COLUMNS = {
  id: 'uuid',
  email: 'text',
  first_name: 'text',
  last_name: 'text',
  title: 'text',
  phone: 'text',
  company: 'text',
  country: 'text',
  source: 'text',
  persona: 'text',
  status: 'text',
  stage: 'text',
  properties: 'jsonb',
  account_id: 'uuid',
  account_domain: 'text',
  created_at: 'timestamptz',
  fit_score: 'int4',
  score_class: 'text',
} as const satisfies Record<string, ElementType>;
type LeadColumn = keyof typeof LEAD_COLUMNS;
const LEAD_COLUMN_NAMES = Object.keys(LEAD_COLUMNS) as LeadColumn[];

/** An account as fit rules read it. */
type KnownAccount = Pick<Selectable<AccountsTable>, 'id' | 'domain' | 'industry' | 'employees' | 'country' | 'region' | 'name' | 'properties'>;

/** Domains whose account (or the lack of one) an import remembers; past this it starts afresh. */
const ACCOUNTS_REMEMBERED = 50_000;

/**
 * A batch's leads as the rows of `l`, from one binary array per column: PostgreSQL reads arrays
 * of text at about twice the speed of JSON records, and binary arrays faster still.
 */
function leadRowsSql(c: Record<LeadColumn, Buffer>) {
  return sql`l AS (
    SELECT * FROM unnest(${c.id}::uuid[], ${c.email}::text[], ${c.first_name}::text[], ${c.last_name}::text[], ${c.title}::text[],
      ${c.phone}::text[], ${c.company}::text[], ${c.country}::text[], ${c.source}::text[], ${c.persona}::text[], ${c.status}::text[],
      ${c.stage}::text[], ${c.properties}::jsonb[], ${c.account_id}::uuid[], ${c.account_domain}::text[], ${c.created_at}::timestamptz[],
      ${c.fit_score}::integer[], ${c.score_class}::text[]) WITH ORDINALITY
      AS l(id, email, first_name, last_name, title, phone, company, country, source, persona, status, stage, properties, account_id, account_domain,
      created_at, fit_score, score_class, n)
  )`;
}

/** A row's account: the one already known, or the one its domain names if the import had not met that domain. */
function accountOf(ws: string) {
  return sql`CASE WHEN l.account_domain IS NULL THEN l.account_id
    ELSE (SELECT a.id FROM accounts a WHERE a.workspace_id = ${ws}::uuid AND lower(a.domain) = l.account_domain) END`;
}

/** A batch of leads ready to write: its columns, and what is needed of each row afterwards. */
interface LeadBatch {
  columns: Record<LeadColumn, Buffer>;
  /** The rules its fit was scored under. */
  scoring: ScoringDocument;
  /** Each row's email, row and line, for the problems writing may find. */
  rows: { email: string; n: number; line: number }[];
  /** Domains this import had not met before the batch. */
  unsure: Set<string>;
  /** The rows whose email an earlier batch of the file perhaps had: they come first. */
  maybeSeen: number;
}

/** What a row of the file changes on a lead that has its email: empty cells keep what the lead has; the stage moves only through the funnel. */
function updatedFields(from: RawBuilder<unknown>, now: Date) {
  return sql`first_name = coalesce(${from}.first_name, leads.first_name), last_name = coalesce(${from}.last_name, leads.last_name),
    title = coalesce(${from}.title, leads.title), phone = coalesce(${from}.phone, leads.phone), company = coalesce(${from}.company, leads.company),
    country = coalesce(${from}.country, leads.country), source = coalesce(leads.source, ${from}.source),
    persona = coalesce(${from}.persona, leads.persona), status = coalesce(${from}.status, leads.status),
    properties = leads.properties || coalesce(${from}.properties, '{}'), version = leads.version + 1, updated_at = ${now}::timestamptz`;
}

const sameRules = (a: ScoringDocument, b: ScoringDocument) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Checks rows and writes them a batch at a time, set-based. */
class BatchWriter {
  constructor(
    private readonly deps: Deps,
    private readonly actor: Actor,
    private readonly opts: ImportOptions,
    private readonly agreement: AgreementDocument,
    /** The active rules as this import last read them (see `writeLeads`). */
    private scoring: ScoringDocument,
    private readonly counts: ImportCounts,
    private readonly problem: (p: ImportProblem) => void,
    private readonly notes: Set<string>,
    private readonly seen: Map<string, number>,
  ) {}

  /** Accounts by lower-case domain (null: the workspace has none), as this import has met them. */
  private readonly knownAccounts = new Map<string, KnownAccount | null>();

  /** The emails of the file's earlier batches, as a filter of fixed size (2 MB) that may answer "perhaps" wrongly. */
  private readonly emailsSeen = new BloomFilter();

  /**
   * Whether the next batch inserts its new emails without `ON CONFLICT` (see `writeLeads`). Off
   * after a batch met an email the workspace already had, on again after a batch that met none.
   */
  private plainInsert = true;

  /**
   * Check a batch and build what writing it takes, at once; the returned function writes it. The
   * import prepares each batch while the database still writes the one before (the embedded
   * database works in a thread of its own), and writes batches in order.
   */
  prepare(rows: Row[]): () => Promise<void> {
    if (this.opts.entity === 'leads') return this.leads(rows);
    if (this.opts.entity === 'accounts') return () => this.accounts(rows);
    return () => this.deals(rows);
  }

  private fail(row: Row, column: string | null, message: string): null {
    this.problem({ row: row.n, line: row.line, column, message });
    this.counts.failed += 1;
    return null;
  }

  /**
   * Whether a key was seen earlier in the file. A real run that updates or skips needs no memory
   * of the whole file (the database answers for earlier batches, the batch for itself), so it
   * keeps none and memory stays flat; a dry run, or the fail policy, remembers every key.
   */
  private duplicateInFile(row: Row, key: string, column: string): 'fresh' | 'repeat' | 'failed' {
    if (!this.opts.dryRun && this.opts.duplicates !== 'fail') return 'fresh';
    const earlier = this.seen.get(key);
    if (earlier === undefined) {
      this.seen.set(key, row.n);
      return 'fresh';
    }
    if (this.opts.duplicates === 'fail') {
      this.fail(row, column, `duplicates row ${earlier} ("${key}")`);
      return 'failed';
    }
    return 'repeat';
  }

  private stageOf(row: Row): string | null | undefined {
    const raw = row.values.stage ?? (this.opts.format === 'salesforce' ? row.values.status : undefined);
    if (!raw) return null;
    const lower = raw.toLowerCase();
    let key: string | undefined;
    if (this.opts.format === 'hubspot') {
      key = HUBSPOT_LIFECYCLE[lower];
      if (lower.replace(/\s/g, '') === 'marketingqualifiedlead') this.notes.add(handoffNote(this.agreement));
    } else if (this.opts.format === 'salesforce') key = SALESFORCE_STAGE[lower];
    if (this.opts.format === 'salesforce' && !row.values.stage && !key) return null;
    key ??= this.agreement.stages.find((s) => s.key === lower || s.name.toLowerCase() === lower)?.key;
    if (!key && this.opts.format !== 'custom') {
      // A tool's custom lifecycle stage: the lead starts in Tandem's first stage, the value is kept.
      row.properties.original_stage = raw;
      this.notes.add(`Stages Tandem's agreement does not have were imported in the first stage and kept as the property original_stage (first: "${raw}")`);
      return null;
    }
    if (!key) return this.fail(row, 'stage', `"${raw}" is not a stage (${this.agreement.stages.map((s) => s.key).join(', ')})`) ?? undefined;
    const stage = stageByKey(this.agreement, key);
    if (stage?.role === 'handoff') {
      this.notes.add(handoffNote(this.agreement));
      return workingStage(this.agreement);
    }
    if (stage && stage.team !== this.actor.team && !this.actor.isAdmin) {
      return this.fail(row, 'stage', `${stage.name} belongs to ${stage.team}; only an administrator imports into the other team's stages`) ?? undefined;
    }
    if (this.opts.format === 'hubspot' && HUBSPOT_LIFECYCLE[lower] && HUBSPOT_LIFECYCLE[lower] !== lower)
      this.notes.add('HubSpot lifecycle stages were mapped to Tandem stages');
    return key;
  }

  private statusOf(row: Row): string | null | undefined {
    const raw = row.values.status;
    if (!raw) return null;
    const lower = raw.toLowerCase();
    const mapped = this.opts.format === 'hubspot' ? HUBSPOT_STATUS[lower] : this.opts.format === 'salesforce' ? SALESFORCE_STATUS[lower] : undefined;
    const key = mapped ?? this.agreement.leadStatuses.find((s) => s.key === lower || s.name.toLowerCase() === lower)?.key;
    if (key) return key;
    if (this.opts.format !== 'custom') {
      // A tool's own custom statuses are kept on the lead rather than failing the row.
      row.properties.original_status = raw;
      this.notes.add(`Lead statuses Tandem's agreement does not have were kept as the property original_status (first: "${raw}")`);
      return null;
    }
    return this.fail(row, 'status', `"${raw}" is not a lead status (${this.agreement.leadStatuses.map((s) => s.key).join(', ')})`) ?? undefined;
  }

  private leads(rows: Row[]): () => Promise<void> {
    const now = this.deps.clock.now();
    const entry = this.agreement.stages.find((s) => s.role === 'entry')?.key ?? 'subscriber';
    const ready = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      const email = row.values.email?.toLowerCase();
      if (!email) {
        this.fail(row, 'email', 'is required');
        continue;
      }
      if (!EMAIL.test(email) || email.length > 320) {
        this.fail(row, 'email', `"${row.values.email}" is not an email address`);
        continue;
      }
      const stage = this.stageOf(row);
      if (stage === undefined) continue;
      const status = this.statusOf(row);
      if (status === undefined) continue;
      const createdAt = parseDate(row.values.createdAt);
      if (createdAt === undefined)
        this.notes.add(`Creation dates that could not be read (first: "${row.values.createdAt}") were replaced by the import's time`);
      let first = text(row.values.firstName, 200);
      let last = text(row.values.lastName, 200);
      if (!first && !last && row.values.name) {
        const [f, ...rest] = row.values.name.split(/\s+/);
        first = text(f, 200);
        last = text(rest.join(' '), 200);
      }
      const dup = this.duplicateInFile(row, email, 'email');
      if (dup === 'failed') continue;
      if (dup === 'repeat' && this.opts.duplicates === 'skip') {
        this.counts.skipped += 1;
        continue;
      }
      // A repeat within this batch replaces the earlier row before anything is written: it counts
      // as an update of the lead the earlier row creates or updates.
      const earlier = ready.get(email);
      if (earlier && this.opts.duplicates === 'skip') {
        this.counts.skipped += 1;
        continue;
      }
      if (earlier) this.counts.updated += 1;
      // Whether an earlier batch perhaps had this email; a repeat within the batch is the earlier row's.
      const maybeSeen = earlier ? Boolean(earlier.maybeSeen) : !this.opts.dryRun && this.emailsSeen.add(email);
      ready.set(email, {
        maybeSeen,
        row: row.n,
        line: row.line,
        id: uuidv7(now.getTime()),
        email,
        first_name: first,
        last_name: last,
        title: text(row.values.title),
        phone: text(row.values.phone, 100),
        company: text(row.values.company),
        country: text(row.values.country, 100),
        source: text(row.values.source, 200),
        persona: text(row.values.persona, 200),
        status,
        stage: stage ?? entry,
        properties: row.properties,
        account_domain: domainOf(row.values.accountDomain) ?? email.split('@')[1],
        created_at: (createdAt ?? now).toISOString(),
        // A repeat within the file updates the lead its first row created.
        repeat: earlier ? earlier.repeat : dup === 'repeat',
      });
    }
    if (ready.size === 0) return async () => {};
    // Rows whose email an earlier batch perhaps had go first (see `writeLeads`).
    const all = [...ready.values()].sort((a, b) => Number(b.maybeSeen) - Number(a.maybeSeen));
    if (this.opts.dryRun) return () => this.countLeadsDryRun(all);
    // Fit is scored here in JavaScript (the same rules as the SQL), before the batch goes to the
    // database: cheaper than evaluating every rule in SQL per row on the way in. A row whose
    // account this import has not met yet is scored without one; the statement finds its account,
    // and a lead that has one is rescored in SQL, as is a row that updates an existing lead.
    const c = Object.fromEntries(LEAD_COLUMN_NAMES.map((k) => [k, [] as unknown[]])) as Record<LeadColumn, unknown[]>;
    // What writing needs of each row afterwards; the rows themselves are let go.
    const batch: LeadBatch = { rows: [], unsure: new Set(), columns: {} as Record<LeadColumn, Buffer>, scoring: this.scoring, maybeSeen: 0 };
    for (const r of all) {
      const domain = r.account_domain as string | null;
      const account = domain ? this.knownAccounts.get(domain) : null;
      if (domain && account === undefined) batch.unsure.add(domain);
      const fit = fitPoints(this.scoring, {
        lead: {
          title: r.title as string | null,
          country: r.country as string | null,
          persona: r.persona as string | null,
          source: r.source as string | null,
          company: r.company as string | null,
          email: r.email as string,
          status: r.status as string | null,
          properties: r.properties as Record<string, unknown>,
        },
        account: account ? { ...account, properties: account.properties ?? {} } : null,
      });
      r.properties = JSON.stringify(r.properties);
      r.account_id = account?.id ?? null;
      r.account_domain = account === undefined ? domain : null;
      r.fit_score = fit;
      r.score_class = classify(fit, 0, this.scoring.thresholds);
      for (const k of LEAD_COLUMN_NAMES) c[k].push(r[k] ?? null);
      if (r.maybeSeen) batch.maybeSeen += 1;
      batch.rows.push({ email: r.email as string, n: r.row as number, line: r.line as number });
    }
    for (const k of LEAD_COLUMN_NAMES) batch.columns[k] = binaryArray(LEAD_COLUMNS[k], c[k]);
    return () => this.writeLeads(batch);
  }

  /**
   * Write a prepared batch of leads in one transaction: one statement, then the rescoring of the
   * leads it updated.
   *
   * A row whose email the workspace does not have yet needs no `ON CONFLICT`, which looks the email
   * up in its index once more per row: about a sixth of the statement's time on the embedded
   * database. So rows that an earlier batch of the file perhaps had are checked, and the others
   * are inserted plainly, unless the batch before met an email the workspace already had. If a
   * plain row meets one (the workspace had the lead before the import, or on PostgreSQL another
   * writer created it meanwhile), the statement fails with nothing written and the batch is
   * written again with every row checked.
   */
  private async writeLeads(batch: LeadBatch): Promise<void> {
    const plain = this.plainInsert;
    try {
      await this.writeLeadsOnce(batch, plain ? batch.maybeSeen : batch.rows.length);
    } catch (error) {
      const e = error as { code?: string; constraint?: string };
      if (!plain || e.code !== '23505' || e.constraint !== 'leads_email') throw error;
      this.plainInsert = false;
      await this.writeLeadsOnce(batch, batch.rows.length);
    }
  }

  /** Write a batch whose first `checked` rows go through `ON CONFLICT` on email, the rest plainly. */
  private async writeLeadsOnce(batch: LeadBatch, checked: number): Promise<void> {
    const ws = this.actor.workspaceId;
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      // Rules activated since the batch was scored: every lead it writes is scored again in SQL,
      // and the batches after it are scored under them.
      const active = (await activeScoringLocked(trx, ws)).document;
      const rulesMoved = !sameRules(active, batch.scoring);
      if (rulesMoved) this.scoring = active;
      // New emails are inserted and, under the update policy, the leads that already have theirs
      // updated. A returned id that is not the one proposed is an existing lead.
      const onConflict =
        this.opts.duplicates === 'update'
          ? sql`DO UPDATE SET ${updatedFields(sql`excluded`, now)}, account_id = coalesce(leads.account_id, excluded.account_id)`
          : sql`DO NOTHING`;
      const insert = sql`INSERT INTO leads (workspace_id, id, email, first_name, last_name, title, phone, company, country, source, persona, status,
          properties, account_id, stage, owner_id, stage_changed_at, created_at, updated_at)
        SELECT ${ws}::uuid, l.id, l.email, l.first_name, l.last_name, l.title, l.phone, l.company, l.country, l.source, l.persona, l.status,
          coalesce(l.properties, '{}'), ${accountOf(ws)}, l.stage, NULL, ${now}::timestamptz, l.created_at, ${now}::timestamptz
        FROM l`;
      // Only what the import needs back, not the whole batch: the leads that already had their
      // emails, the new leads to score again, the rows written to neither, and counts of the new.
      const answer = await sql<{ kind: 'existing' | 'rescore' | 'neither' | 'new'; id: string | null; email: string | null; counts: string | null }>`
        WITH ${leadRowsSql(batch.columns)}, checked AS (
          ${insert} WHERE l.n <= ${checked}
          ON CONFLICT (workspace_id, lower(email)) ${onConflict}
          RETURNING id, lower(email) AS email, account_id
        ), plain AS (
          ${insert} WHERE l.n > ${checked}
          RETURNING id, lower(email) AS email, account_id
        ), written AS (
          SELECT * FROM checked UNION ALL SELECT * FROM plain
        ), fresh AS (
          -- A returned id that is the proposed one is a new lead.
          SELECT l.id, l.n, l.fit_score, l.score_class, l.account_domain, written.account_id FROM written JOIN l ON l.id = written.id
        ), scored AS (
          INSERT INTO lead_scores (workspace_id, lead_id, fit_score, interest_score, interest_mass, score_class, scored_at)
          SELECT ${ws}::uuid, fresh.id, fresh.fit_score, 0, 0, fresh.score_class, ${now}::timestamptz FROM fresh
        )
        SELECT 'existing' AS kind, w.id, NULL AS email, NULL AS counts FROM written w WHERE NOT EXISTS (SELECT FROM l WHERE l.id = w.id)
        -- Scored without an account, which the statement then found (or under rules since replaced).
        UNION ALL SELECT 'rescore', fresh.id, NULL, NULL FROM fresh WHERE ${rulesMoved} OR (fresh.account_domain IS NOT NULL AND fresh.account_id IS NOT NULL)
        UNION ALL SELECT 'neither', NULL, l.email, NULL FROM l WHERE NOT EXISTS (SELECT FROM written w WHERE w.email = l.email)
        -- New leads, and those of them whose email the file surely had not had before.
        UNION ALL SELECT 'new', NULL, NULL, count(*) || ',' || count(*) FILTER (WHERE fresh.n > ${batch.maybeSeen}) FROM fresh`.execute(trx);
      const rescore: string[] = [];
      const neither: string[] = [];
      let surelyNew = 0;
      for (const r of answer.rows) {
        if (r.kind === 'existing') {
          this.counts.updated += 1;
          rescore.push(r.id as string);
        } else if (r.kind === 'rescore') rescore.push(r.id as string);
        else if (r.kind === 'neither') neither.push(r.email as string);
        else {
          const [all, sure] = (r.counts as string).split(',').map(Number);
          this.counts.inserted += all as number;
          surelyNew = sure as number;
        }
      }
      // What was neither inserted nor updated met a lead that already has its email.
      if (this.opts.duplicates === 'fail' && neither.length) {
        const byEmail = new Map(batch.rows.map((r) => [r.email, r]));
        for (const email of neither) {
          const r = byEmail.get(email);
          if (r) this.fail({ n: r.n, line: r.line, values: {}, properties: {} }, 'email', `a lead with ${email} already exists`);
        }
      } else this.counts.skipped += neither.length;
      // Plain inserts again once a batch met no email the workspace had before the import.
      if (surelyNew === batch.rows.length - batch.maybeSeen) this.plainInsert = true;
      await refreshLeads(trx, ws, active, rescore, now, 'import');
      if (batch.unsure.size) await this.learnAccounts(trx, [...batch.unsure]);
    });
  }

  /** Remember the accounts of domains this import had not met (those without one as null). */
  private async learnAccounts(trx: Kysely<DB>, domains: string[]): Promise<void> {
    const found = await trx
      .selectFrom('accounts')
      .select(['id', 'domain', 'industry', 'employees', 'country', 'region', 'name', 'properties'])
      .where('workspace_id', '=', this.actor.workspaceId)
      .where(sql`lower(domain)`, 'in', domains)
      .execute();
    // A file of a million different companies must not hold them all.
    if (this.knownAccounts.size + domains.length > ACCOUNTS_REMEMBERED) this.knownAccounts.clear();
    for (const d of domains) this.knownAccounts.set(d, null);
    for (const a of found) this.knownAccounts.set((a.domain ?? '').toLowerCase(), a);
  }

  /** What a real run would do with a batch, from which emails the workspace already has. */
  private async countLeadsDryRun(all: Record<string, unknown>[]): Promise<void> {
    const existing = new Set(
      (
        await sql<{
          email: string;
        }>`SELECT lower(email) AS email FROM leads WHERE workspace_id = ${this.actor.workspaceId}::uuid AND lower(email) = ANY(${all.map((r) => r.email as string)}::text[])`.execute(
          this.deps.db,
        )
      ).rows.map((r) => r.email),
    );
    const fresh = all.filter((r) => !existing.has(r.email as string));
    const known = all.filter((r) => existing.has(r.email as string));
    if (this.opts.duplicates === 'fail') {
      for (const r of known.filter((k) => !k.repeat))
        this.fail({ n: r.row as number, line: r.line as number, values: {}, properties: {} }, 'email', `a lead with ${r.email} already exists`);
    }
    if (this.opts.duplicates === 'skip') this.counts.skipped += known.length;
    const updates = this.opts.duplicates === 'update' ? known : this.opts.duplicates === 'fail' ? known.filter((k) => k.repeat) : [];
    // Nothing was written, so a repeat of a new email in a later batch still looks new: it would update.
    this.counts.inserted += fresh.filter((r) => !r.repeat).length;
    this.counts.updated += fresh.filter((r) => r.repeat).length + updates.length;
  }

  private async accounts(rows: Row[]): Promise<void> {
    const ws = this.actor.workspaceId;
    const now = this.deps.clock.now();
    const withDomain = new Map<string, Record<string, unknown>>();
    const without: Record<string, unknown>[] = [];
    const idKey = this.opts.format === 'custom' ? 'external_id' : `${this.opts.format}_id`;
    for (const row of rows) {
      const domain = domainOf(row.values.domain);
      if (row.values.domain && !domain) {
        this.fail(row, 'domain', `"${row.values.domain}" is not a domain or website`);
        continue;
      }
      const name = text(row.values.name) ?? domain;
      if (!name) {
        this.fail(row, 'name', 'is required (or a domain)');
        continue;
      }
      let employees: number | null = null;
      if (row.values.employees) {
        const n = Number(row.values.employees.replace(/[,\s]/g, ''));
        if (!Number.isInteger(n) || n < 0) {
          this.fail(row, 'employees', `"${row.values.employees}" is not a whole number`);
          continue;
        }
        employees = n;
      }
      const properties = { ...row.properties, ...(row.values.externalId ? { [idKey]: row.values.externalId } : {}) };
      const record = {
        id: uuidv7(now.getTime()),
        row: row.n,
        line: row.line,
        name,
        domain,
        industry: text(row.values.industry, 200),
        employees,
        country: text(row.values.country, 100),
        region: text(row.values.region, 100),
        properties,
        repeat: false,
      };
      if (!domain) {
        without.push(record);
        continue;
      }
      const dup = this.duplicateInFile(row, domain, 'domain');
      if (dup === 'failed') continue;
      if (dup === 'repeat' && this.opts.duplicates === 'skip') {
        this.counts.skipped += 1;
        continue;
      }
      const earlier = withDomain.get(domain);
      if (earlier && this.opts.duplicates === 'skip') {
        this.counts.skipped += 1;
        continue;
      }
      if (earlier) this.counts.updated += 1;
      withDomain.set(domain, { ...record, repeat: earlier ? Boolean(earlier.repeat) : dup === 'repeat' });
    }
    const keyed = [...withDomain.values()];
    const existing = new Set(
      keyed.length
        ? (
            await sql<{
              domain: string;
            }>`SELECT lower(domain) AS domain FROM accounts WHERE workspace_id = ${ws}::uuid AND lower(domain) = ANY(${keyed.map((r) => r.domain as string)}::text[])`.execute(
              this.deps.db,
            )
          ).rows.map((r) => r.domain)
        : [],
    );
    const fresh = [...keyed.filter((r) => !existing.has(r.domain as string)), ...without];
    const known = keyed.filter((r) => existing.has(r.domain as string));
    if (this.opts.duplicates === 'fail') {
      for (const r of known.filter((k) => !k.repeat))
        this.fail({ n: r.row as number, line: r.line as number, values: {}, properties: {} }, 'domain', `an account with ${r.domain} already exists`);
    }
    const updates = this.opts.duplicates === 'update' ? known : this.opts.duplicates === 'fail' ? known.filter((k) => k.repeat) : [];
    if (this.opts.duplicates === 'skip') this.counts.skipped += known.length;
    if (this.opts.dryRun) {
      this.counts.inserted += fresh.length;
      this.counts.updated += updates.length;
      return;
    }
    await this.deps.db.transaction().execute(async (trx) => {
      if (fresh.length) {
        const inserted = await sql<{ id: string }>`
          INSERT INTO accounts (workspace_id, id, name, domain, industry, employees, country, region, properties, created_at, updated_at)
          SELECT ${ws}::uuid, r.id, r.name, r.domain, r.industry, r.employees, r.country, r.region, coalesce(r.properties, '{}'), ${now}::timestamptz, ${now}::timestamptz
          FROM jsonb_to_recordset(${JSON.stringify(fresh)}::jsonb) AS r(id uuid, name text, domain text, industry text, employees integer, country text, region text, properties jsonb)
          ON CONFLICT DO NOTHING
          RETURNING id`.execute(trx);
        this.counts.inserted += inserted.rows.length;
        this.counts.skipped += fresh.length - inserted.rows.length;
      }
      if (updates.length) {
        const updated = await sql<{ id: string }>`
          UPDATE accounts t SET name = coalesce(r.name, t.name), industry = coalesce(r.industry, t.industry), employees = coalesce(r.employees, t.employees),
            country = coalesce(r.country, t.country), region = coalesce(r.region, t.region), properties = t.properties || coalesce(r.properties, '{}'),
            version = t.version + 1, updated_at = ${now}::timestamptz
          FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS r(name text, domain text, industry text, employees integer, country text, region text, properties jsonb)
          WHERE t.workspace_id = ${ws}::uuid AND lower(t.domain) = r.domain
          RETURNING t.id`.execute(trx);
        this.counts.updated += updated.rows.length;
        // Their leads' fit may read what changed.
        this.scoring = (await activeScoringLocked(trx, ws)).document;
        await refreshAccountLeads(
          trx,
          ws,
          this.scoring,
          updated.rows.map((r) => r.id),
          now,
          'import',
        );
      }
    });
  }

  private async deals(rows: Row[]): Promise<void> {
    const ws = this.actor.workspaceId;
    const now = this.deps.clock.now();
    const ready: Record<string, unknown>[] = [];
    const idKey = this.opts.format === 'custom' ? 'external_id' : `${this.opts.format}_id`;
    for (const row of rows) {
      const name = text(row.values.name);
      if (!name) {
        this.fail(row, 'name', 'is required');
        continue;
      }
      const amountText = (row.values.amount ?? '0').replace(/[,\s$€£]/g, '');
      if (!/^\d+(\.\d{1,2})?$/.test(amountText) || Number(amountText) >= 1e16) {
        this.fail(row, 'amount', `"${row.values.amount}" is not an amount`);
        continue;
      }
      const currency = (row.values.currency ?? 'USD').toUpperCase();
      if (!/^[A-Z]{3}$/.test(currency)) {
        this.fail(row, 'currency', `"${row.values.currency}" is not a three-letter currency code`);
        continue;
      }
      const stage = text(row.values.stage, 100) ?? 'imported';
      const status = row.values.status?.toLowerCase() ?? dealOutcome(stage);
      if (!['open', 'won', 'lost'].includes(status)) {
        this.fail(row, 'status', `"${row.values.status}" is not open, won or lost`);
        continue;
      }
      const close = row.values.closeDate ? parseDate(row.values.closeDate) : null;
      if (close === undefined) {
        this.fail(row, 'closeDate', `"${row.values.closeDate}" is not a date`);
        continue;
      }
      ready.push({
        id: uuidv7(now.getTime()),
        name,
        amount: amountText,
        currency,
        stage,
        status,
        close_date: close ? close.toISOString().slice(0, 10) : null,
        lead_email: row.values.leadEmail?.toLowerCase() ?? null,
        account_domain: domainOf(row.values.accountDomain),
        account_external: row.values.accountExternalId ?? null,
        lost_reason: status === 'lost' ? text(row.values.lostReason) : null,
      });
    }
    this.notes.add('Deals have no natural key, so every row is a new deal; the duplicate policy does not apply to them');
    if (ready.length === 0) return;
    if (this.opts.dryRun) {
      this.counts.inserted += ready.length;
      return;
    }
    const inserted = await sql<{ id: string }>`
      INSERT INTO deals (workspace_id, id, name, amount, currency, stage, status, close_date, lead_id, account_id, owner_id, lost_reason, created_at, updated_at)
      SELECT ${ws}::uuid, r.id, r.name, r.amount, r.currency, r.stage, r.status, r.close_date, l.id, coalesce(a.id, ax.id, l.account_id), NULL, r.lost_reason,
        ${now}::timestamptz, ${now}::timestamptz
      FROM jsonb_to_recordset(${JSON.stringify(ready)}::jsonb) AS r(id uuid, name text, amount numeric, currency text, stage text, status text, close_date date,
        lead_email text, account_domain text, account_external text, lost_reason text)
      LEFT JOIN leads l ON l.workspace_id = ${ws}::uuid AND lower(l.email) = r.lead_email
      LEFT JOIN accounts a ON a.workspace_id = ${ws}::uuid AND lower(a.domain) = r.account_domain
      LEFT JOIN LATERAL (SELECT x.id FROM accounts x WHERE x.workspace_id = ${ws}::uuid AND r.account_external IS NOT NULL
        AND x.properties ->> ${idKey} = r.account_external LIMIT 1) AS ax ON true
      RETURNING id`.execute(this.deps.db);
    this.counts.inserted += inserted.rows.length;
  }
}
